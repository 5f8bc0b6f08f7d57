"""The pytest plugin, exercised in child pytest runs (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.integration

APP = """
import pytest
import restate_sdk as restate

greeter = restate.Service("Greeter")

@greeter.handler()
async def greet(ctx, name: str) -> str:
    return f"Hello {name}!"

@greeter.handler()
async def explode(ctx, name: str) -> str:
    raise ValueError(f"kaboom-{name}")

@pytest.fixture(scope="session")
def restate_app():
    return restate.app([greeter])
"""


@pytest.fixture(autouse=True)
def _binary_backend(monkeypatch: pytest.MonkeyPatch, restate_binary: str) -> None:
    # The child runs inherit these. The backends themselves are covered by test_environment.py; an
    # explicit binary, because pytester gives the child a HOME (so a download cache) of its own.
    monkeypatch.setenv("RESTATE_TESTING_BACKEND", "binary")
    monkeypatch.setenv("RESTATE_SERVER_BIN", restate_binary)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        *args,
    )


def test_fixtures_serve_the_app(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(APP)
    pytester.makepyfile(
        """
        def test_sync(restate_client):
            assert restate_client.service("Greeter").call("greet", "Ann") == "Hello Ann!"

        async def test_async(restate_env):
            assert await restate_env.async_client.service("Greeter").call("greet", "Bob") == "Hello Bob!"

        def test_same_env_for_the_session(restate_env, restate_client):
            assert restate_client is restate_env.client
        """
    )
    _run(pytester).assert_outcomes(passed=3)


@pytest.mark.parametrize(("nodes", "section"), [(1, "restate-server log"), (3, "restate-server node-? log")])
def test_failure_report_shows_server_log(pytester: pytest.Pytester, nodes: int, section: str) -> None:
    pytester.makeconftest(APP)
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.fixture(scope="session")
        def restate_env_options():
            return {{"disable_retries": True, "nodes": {nodes}}}

        def test_passes(restate_env, restate_client):
            assert len(restate_env.nodes) == {nodes}
            assert restate_client.service("Greeter").call("greet", "Ann") == "Hello Ann!"

        def test_handler_fails(restate_client):
            restate_client.service("Greeter").call("explode", "zz")
        """
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    # A section per node that logged during the failed test (named after the node in a cluster).
    result.stdout.fnmatch_lines([f"*- {section} (binary, ingress http://127.0.0.1:*) call -*"])
    # The server's own account of the failed attempt, not just the client's exception:
    result.stdout.fnmatch_lines(["*WARN restate_invoker*Error when executing the invocation*", "*kaboom-zz*"])
    assert 1 <= result.stdout.str().count(" log (binary, ingress") <= nodes  # only for the failing test


@pytest.mark.parametrize(("scope", "distinct_urls"), [("session", 1), ("function", 2)])
def test_scope_is_configurable(pytester: pytest.Pytester, scope: str, distinct_urls: int) -> None:
    pytester.makeconftest(APP.replace('scope="session"', f'scope="{scope}"'))
    pytester.makeini(f"[pytest]\nrestate_env_scope = {scope}\n")
    pytester.makepyfile(
        f"""
        URLS = set()

        def test_one(restate_env):
            URLS.add(restate_env.ingress_url)

        def test_two(restate_env):
            URLS.add(restate_env.ingress_url)
            assert len(URLS) == {distinct_urls}
        """
    )
    _run(pytester).assert_outcomes(passed=2)


def test_options_fixture_reaches_the_server(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        APP
        + """
@pytest.fixture(scope="session")
def restate_env_options():
    return {"always_replay": True, "backend": "binary"}
"""
    )
    pytester.makepyfile(
        """
        def test_options(restate_env):
            assert restate_env.server.backend.name == "binary"
            assert restate_env.server.env["RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT"] == "0s"
        """
    )
    _run(pytester).assert_outcomes(passed=1)


def test_bad_scope_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(APP)
    pytester.makeini("[pytest]\nrestate_env_scope = forever\n")
    pytester.makepyfile("def test_x(restate_env):\n    pass\n")
    result = _run(pytester)
    assert "restate_env_scope = 'forever'" in result.stdout.str() + result.stderr.str()
