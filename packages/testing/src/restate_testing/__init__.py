"""restate_testing: run restate-server for tests and local development.

::

    from restate_testing import RestateEnvironment

    with RestateEnvironment(app) as env:        # server up, app served, deployment registered
        env.client.service("Greeter").call("greet", "Ann")

Also: :class:`RestateServer` (just the server, with stop/kill/restart for crash tests),
:class:`AppServer` (an app served on a background thread), :class:`LambdaStandIn` (the AWS Lambda
Invoke API, calling a Lambda handler in-process), a pytest plugin (``restate_env`` fixture) and
``python -m restate_testing dev module:app``.
"""

from __future__ import annotations

from ._endpoint import AppServer
from ._environment import RestateEnvironment
from ._errors import ProvisionError, RestateStartError
from ._inspect import JournalEntry, ObjectState
from ._lambda import LambdaStandIn
from ._provision import find_restate_server
from ._server import RestateServer

__all__ = [
    "AppServer",
    "JournalEntry",
    "LambdaStandIn",
    "ObjectState",
    "ProvisionError",
    "RestateEnvironment",
    "RestateServer",
    "RestateStartError",
    "find_restate_server",
]

for _name in __all__:
    _value = globals()[_name]
    if hasattr(_value, "__module__"):
        _value.__module__ = __name__
