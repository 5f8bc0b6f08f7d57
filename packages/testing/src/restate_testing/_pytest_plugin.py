"""pytest plugin (entry point ``pytest11``): the ``restate_env`` fixture and server logs on failures.

Fixtures:

``restate_env``
    A started :class:`~restate_testing.RestateEnvironment` serving the app your ``restate_app``
    fixture returns. Its scope is the ini option ``restate_env_scope`` (default ``session``: one
    server for the whole run); ``restate_app`` and ``restate_env_options`` must have at least that
    scope, so declare them ``@pytest.fixture(scope="session")`` (or lower the option).
``restate_env_options``
    Keyword arguments for RestateEnvironment (``{"always_replay": True}``, ``{"nodes": 3}``...);
    default ``{}``.
    Override it in a conftest.py to change them.
``restate_client``
    ``restate_env.client``, a ``restate_ingress.Client``; async tests use ``restate_env.async_client``.

When a test fails, the restate-server log lines written while it ran are added to its report as a
section (``restate-server log ...``; one per node of a cluster), next to the captured output.

Example ``conftest.py``::

    import pytest
    from myapp import app

    @pytest.fixture(scope="session")
    def restate_app():
        return app

    def test_greet(restate_client):
        assert restate_client.service("Greeter").call("greet", "Ann") == "Hello Ann!"
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import pytest

from ._environment import RestateEnvironment
from ._server import RestateServer, started_servers

if TYPE_CHECKING:
    from _pytest.capture import CaptureManager
    from restate_ingress import Client

__all__ = [
    "pytest_addoption",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "restate_client",
    "restate_env",
    "restate_env_options",
]

ScopeName = Literal["session", "package", "module", "class", "function"]

# Only the end of a long log: the lines around the failure are what a reader needs.
_MAX_REPORT_LINES = 300
_LOG_OFFSETS = pytest.StashKey[dict[int, int]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``restate_env_scope`` ini option."""
    parser.addini(
        "restate_env_scope",
        "scope of the restate_env fixture: session (default), package, module, class or function",
        default="session",
    )


def _env_scope(fixture_name: str, config: pytest.Config) -> ScopeName:
    value = str(config.getini("restate_env_scope") or "session").strip()
    if value not in get_args(ScopeName):
        raise pytest.UsageError(f"restate_env_scope = {value!r}; expected one of {get_args(ScopeName)}")
    return cast(ScopeName, value)


@pytest.fixture(scope=_env_scope)
def restate_env_options() -> dict[str, Any]:
    """Keyword arguments for the RestateEnvironment behind ``restate_env``; override to change."""
    return {}


@pytest.fixture(scope=_env_scope)
def restate_env(
    request: pytest.FixtureRequest, restate_app: Any, restate_env_options: dict[str, Any]
) -> Iterator[RestateEnvironment]:
    """restate-server with ``restate_app`` served and registered."""
    env = RestateEnvironment(restate_app, **restate_env_options)
    # Let a first-run download show its progress instead of vanishing into captured output.
    capture = cast("CaptureManager | None", request.config.pluginmanager.getplugin("capturemanager"))
    if capture is not None:
        with capture.global_and_fixture_disabled():
            env.start()
    else:
        env.start()
    try:
        yield env
    finally:
        env.close()


@pytest.fixture
def restate_client(restate_env: RestateEnvironment) -> Client:
    """A ``restate_ingress.Client`` for ``restate_env``'s ingress."""
    return restate_env.client


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember how long each server's log is, so a failure report shows only this test's lines."""
    item.stash[_LOG_OFFSETS] = {id(server): len(server.logs()) for server in started_servers()}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Attach the server log lines written during a failed test to its report."""
    report: pytest.TestReport = yield
    if report.failed:
        no_offsets: dict[int, int] = {}
        offsets = item.stash.get(_LOG_OFFSETS, no_offsets)
        for server in started_servers():
            text = _new_lines(server, offsets.get(id(server), 0))
            if text:
                report.sections.append((_section_title(server, report.when), text))
    return report


def _new_lines(server: RestateServer, offset: int) -> str:
    lines = server.logs()[offset:].splitlines()
    if len(lines) > _MAX_REPORT_LINES:
        skipped = len(lines) - _MAX_REPORT_LINES
        lines = [f"[... {skipped} earlier lines ...]", *lines[-_MAX_REPORT_LINES:]]
    return "\n".join(lines)


def _section_title(server: RestateServer, when: str) -> str:
    kind = server.backend.name if server.running() else "not running"
    where = server.ingress_url if server.ports is not None else "not started"
    node = f" {server.node_name}" if server.node_name else ""
    return f"restate-server{node} log ({kind}, ingress {where}) {when}"
