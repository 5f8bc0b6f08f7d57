"""One restate-server per configuration, the test app served once per server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from restate_testing import RestateEnvironment

from .apps import app

CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "always-suspending": {"always_replay": True},
    "lazy-state": {"lazy_state": True},
    # restate-server 1.7 speaks service protocol V7 only when asked to; scopes need vqueues as well
    "v7": {
        "env": {
            "RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7": "true",
            "RESTATE_EXPERIMENTAL_ENABLE_VQUEUES": "true",
        }
    },
}


@pytest.fixture(scope="session", params=list(CONFIGS))
def env(request: pytest.FixtureRequest) -> Iterator[RestateEnvironment]:
    with RestateEnvironment(app, backend="binary", **CONFIGS[request.param]) as environment:
        yield environment


@pytest.fixture
def ingress(env: RestateEnvironment) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.ingress_url, timeout=60) as client:
        yield client
