"""One restate-server for the whole robustness suite; each test brings its own endpoint process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from restate_testing import RestateServer

# Retries every 50 ms .. 500 ms: an endpoint that was killed or drained is found again quickly.
SERVER_ENV = {
    "RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL": "50ms",
    "RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL": "500ms",
}


@pytest.fixture(scope="session")
def server() -> Iterator[RestateServer]:
    with RestateServer(backend="binary", env=SERVER_ENV) as s:
        yield s
