"""The ASGI application serving the three services."""

import restate_sdk as restate

from .checkout import checkout
from .ticket_service import ticket_service
from .user_session import user_session

__all__ = ["app"]

app = restate.app([user_session, ticket_service, checkout])
