"""Entry point of the conformance test services: builds the app from the environment and serves it.

Environment:
    PORT                 port to listen on (default 9080)
    HOST                 address to bind (default 0.0.0.0)
    SERVICES             comma-separated service names to bind (all when empty or unset)
    E2E_REQUEST_SIGNING  comma-separated ``publickeyv1_...`` keys; requests must be signed by one of them
    SERVE_WITH           ``auto`` (default: what ``restate.serve`` picks, its builtin server),
                         ``builtin``, ``granian`` or ``hypercorn``
"""

from __future__ import annotations

import logging
import os

import restate_sdk as restate
from services import select


def build_app() -> restate.Endpoint:
    keys = [k.strip() for k in os.environ.get("E2E_REQUEST_SIGNING", "").split(",") if k.strip()]
    return restate.app(select(os.environ.get("SERVICES")), identity_keys=keys or None)


def main() -> None:
    logging.basicConfig(level=os.environ.get("RESTATE_LOGGING", "WARNING").upper())
    port = int(os.environ.get("PORT") or 9080)
    host = os.environ.get("HOST") or "0.0.0.0"
    server = os.environ.get("SERVE_WITH") or "auto"  # serve() says which values it takes
    # both speak h2c (HTTP/2 with prior knowledge), as the contract asks
    restate.serve(build_app(), port=port, host=host, server=server)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
