"""RestateEnvironment end to end with the real SDK; every test runs on both backends."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from restate_ingress import IngressError

from restate_testing import RestateEnvironment

if TYPE_CHECKING:
    from conftest import SampleApp

    from restate_testing._server import BackendName


def test_call_through_the_ingress(
    backend: BackendName, sample: SampleApp, record_property: pytest.RecordProperty
) -> None:
    started = time.monotonic()
    with RestateEnvironment(sample.app, backend=backend) as env:
        assert env.client.service("Greeter").call("greet", "Ann") == "Hello Ann!"
        first_call = time.monotonic() - started
        record_property("startup_to_first_call_s", round(first_call, 3))
        print(f"{backend}: startup to first successful call {first_call:.2f}s")

        assert env.server.backend.name == backend
        assert env.ingress_url.startswith("http://127.0.0.1:")
        assert sorted(service["name"] for service in env.admin.list_services()) == ["Counter", "Greeter"]
        assert env.deployment is not None


async def test_async_environment_and_client(backend: BackendName, sample: SampleApp) -> None:
    async with RestateEnvironment(sample.app, backend=backend) as env:
        assert await env.async_client.service("Greeter").call("greet", "Bob") == "Hello Bob!"
        assert await env.async_client.object("Counter", "k").call("add", 2) == 2


def test_state_survives_a_server_crash(backend: BackendName, sample: SampleApp) -> None:
    with RestateEnvironment(sample.app, backend=backend) as env:
        counter = env.client.object("Counter", "crash")
        assert counter.call("add", 2) == 2
        env.server.kill()  # SIGKILL: no graceful shutdown
        env.server.start()  # same data, same ports
        assert counter.call("add", 3) == 5


def test_endpoint_restart_on_the_same_port(backend: BackendName, sample: SampleApp) -> None:
    with RestateEnvironment(sample.app, backend=backend) as env:
        port = env.endpoint.port
        env.endpoint.stop()
        assert not env.endpoint.running()
        env.endpoint.start()
        assert env.endpoint.port == port
        assert env.client.service("Greeter").call("greet", "again") == "Hello again!"
        env.register()  # re-registering the same deployment is fine
        assert env.client.object("Counter", "ep").call("add", 1) == 1


def test_always_replay_replays_every_step(backend: BackendName, sample: SampleApp) -> None:
    with RestateEnvironment(sample.app, backend=backend) as env:
        normal = env.client.service("Greeter").call("replayed", "x")
    with RestateEnvironment(sample.app, backend=backend, always_replay=True) as env:
        replayed = env.client.service("Greeter").call("replayed", "x")
    # Without replay the handler body runs once; with it, it restarts after each suspension.
    assert sample.runs_of(normal) == 1
    assert sample.runs_of(replayed) >= 2


def test_disable_retries_fails_after_one_attempt(backend: BackendName, sample: SampleApp) -> None:
    # Retrying (the default policy, shortened so the test is quick): three attempts, then killed.
    retrying = {
        "RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "3",
        "RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL": "10ms",
        "RESTATE_DEFAULT_RETRY_POLICY__ON_MAX_ATTEMPTS": "kill",
    }
    runs: dict[str, int] = {}
    for label, options in (("retrying", {"env": retrying}), ("no-retries", {"disable_retries": True})):
        with RestateEnvironment(sample.app, backend=backend, **options) as env:
            with pytest.raises(IngressError) as caught:
                env.client.service("Greeter").call("fail", label)
            assert f"boom for {label}" in str(caught.value)
            invocation_id = caught.value.invocation_id
            assert invocation_id is not None
            runs[label] = sample.runs_of(invocation_id)
    assert runs == {"retrying": 3, "no-retries": 1}
