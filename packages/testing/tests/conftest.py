"""Shared fixtures: backends, and a small SDK app whose handlers count how often they run."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn

import pytest
import restate_sdk as restate
from restate_sdk import Context, ObjectContext

from restate_testing import ProvisionError, find_restate_server
from restate_testing._container import docker_available
from restate_testing._server import BackendName


def unavailable(reason: str) -> NoReturn:
    """Skip on a developer machine; fail in CI, where every backend must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def restate_binary() -> str:
    """The local restate-server (never downloaded by tests: they talk to 127.0.0.1 only)."""
    try:
        return str(find_restate_server(download=False))
    except ProvisionError as error:
        unavailable(str(error))


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """A Docker engine answers."""
    if not docker_available():
        unavailable("no Docker engine answers")


@pytest.fixture(
    params=[
        pytest.param("binary", marks=pytest.mark.integration),
        pytest.param("docker", marks=[pytest.mark.integration, pytest.mark.docker]),
    ]
)
def backend(request: pytest.FixtureRequest) -> BackendName:
    """Each test using this runs once per backend."""
    name: BackendName = request.param
    request.getfixturevalue("docker_engine" if name == "docker" else "restate_binary")
    return name


@dataclass
class SampleApp:
    """The app plus what its handlers observed, keyed by invocation id."""

    app: Any
    executions: Counter[str] = field(default_factory=Counter[str])

    def runs_of(self, invocation_id: str) -> int:
        return self.executions[invocation_id]


def build_sample_app() -> SampleApp:
    """Greeter (greet, fail, replayed) and Counter (add, get)."""
    greeter = restate.Service("Greeter")
    counter = restate.VirtualObject("Counter")
    sample = SampleApp(app=None)

    @greeter.handler()
    async def greet(ctx: Context, name: str) -> str:
        return f"Hello {name}!"

    @greeter.handler()
    async def fail(ctx: Context, name: str) -> str:
        sample.executions[ctx.request().id] += 1
        raise ValueError(f"boom for {name}")

    @greeter.handler()
    async def replayed(ctx: Context, name: str) -> str:
        # Outside ctx.run on purpose: this line runs again whenever the invocation is replayed.
        sample.executions[ctx.request().id] += 1
        await ctx.sleep(timedelta(milliseconds=10))
        await ctx.run("step", lambda: None)
        return ctx.request().id

    @counter.handler()
    async def add(ctx: ObjectContext, delta: int) -> int:
        value = (await ctx.get("count", type_hint=int)) or 0
        ctx.set("count", value + delta)
        return value + delta

    sample.app = restate.app([greeter, counter])
    return sample


@pytest.fixture(scope="session")
def sample() -> SampleApp:
    """One instance of the sample app for the session."""
    return build_sample_app()
