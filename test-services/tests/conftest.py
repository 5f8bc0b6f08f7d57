"""Fixtures: the test services served once, and one restate-server per configuration.

The services run as a subprocess of ``test-services/serve`` (restartable, on a fixed port). Each server
configuration is a session-scoped fixture parameter, so pytest groups the tests by configuration and
runs one restate-server at a time. Every server signs its requests and the services demand it, so
request identity is exercised by every test.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the tests import harness (importlib mode)

from harness import CONFIGS, PRIVATE_KEY_PEM, PUBLIC_KEY, RETRY_ENV, Restate, ServicesProcess
from restate_ingress import Client
from restate_testing import RestateServer


@pytest.fixture(scope="session")
def identity_pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("identity") / "private.pem"
    path.write_text(PRIVATE_KEY_PEM)
    return path


@pytest.fixture(scope="session")
def services() -> Iterator[ServicesProcess]:
    process = ServicesProcess({"E2E_REQUEST_SIGNING": PUBLIC_KEY, "GET_ENV_TEST_VARIABLE": "env-value"})
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session", params=list(CONFIGS))
def restate(
    request: pytest.FixtureRequest, services: ServicesProcess, identity_pem: Path
) -> Iterator[Restate]:
    config: str = request.param
    env = {
        **CONFIGS[config],
        **RETRY_ENV,
        "RESTATE_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE": str(identity_pem),
    }
    server = RestateServer(backend="binary", env=env)
    try:
        server.start()
        harness = Restate(config, server, services)
        try:
            harness.register()
            yield harness
        finally:
            harness.close()
    finally:
        server.close()


@pytest.fixture
def client(restate: Restate) -> Client:
    return restate.client


@pytest.fixture
def key(request: pytest.FixtureRequest, restate: Restate) -> str:
    """A fresh object key per test and configuration."""
    return f"{request.node.name}-{time.monotonic_ns()}"
