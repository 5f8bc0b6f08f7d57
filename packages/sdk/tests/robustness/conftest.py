"""One restate-server for the whole robustness suite; each test brings its own endpoint process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from restate_testing import RestateServer

# Retries every 50 ms .. 500 ms: an endpoint that was killed or drained is found again quickly.
SERVER_ENV = {
    "RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL": "50ms",
    "RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL": "500ms",
    # The default, 1000 invocation attempts at once, would park test_load's 2,000 invocations: with
    # 1000 callers holding every slot while they wait for their callees, the callees get none until
    # the callers' inactivity timeout (60 s) suspends them.
    "RESTATE_WORKER__INVOKER__CONCURRENT_INVOCATIONS_LIMIT": "10000",
}


@pytest.fixture(scope="session")
def server() -> Iterator[RestateServer]:
    with RestateServer(backend="binary", env=SERVER_ENV) as s:
        yield s
