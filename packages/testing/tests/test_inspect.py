"""env.state(...) and env.journal(...) against a real restate-server."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import restate_sdk as restate
from restate_ingress import NotFound
from restate_sdk import Context, ObjectContext, WorkflowContext

from restate_testing import JournalEntry, RestateEnvironment

pytestmark = pytest.mark.integration

CHARGES: Counter[str] = Counter()


@dataclass
class Profile:
    name: str
    visits: int


payments = restate.Service("Payments")
counter = restate.VirtualObject("Counter")
signup = restate.Workflow("Signup")


@payments.handler()
async def pay(ctx: Context, order: str) -> str:
    def charge() -> str:
        CHARGES[order] += 1
        return f"receipt-{order}"

    receipt = await ctx.run("charge", charge)
    await ctx.sleep(timedelta(milliseconds=10))
    return receipt


@payments.handler()
async def wait(ctx: Context) -> None:
    await ctx.sleep(timedelta(hours=1))


@counter.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", value)
    return value


@counter.handler()
async def profile(ctx: ObjectContext) -> Profile | None:
    return await ctx.get("profile", type_hint=Profile)


@signup.main()
async def run(ctx: WorkflowContext, email: str) -> str:
    ctx.set("email", email)
    return email


@pytest.fixture(scope="module")
def env(restate_binary: str) -> Iterator[RestateEnvironment]:
    # always_replay: the handler body runs again after every suspension; its steps must not.
    with RestateEnvironment(
        restate.app([payments, counter, signup]), backend="binary", always_replay=True
    ) as env:
        yield env


def test_read_the_state_a_handler_wrote(env: RestateEnvironment) -> None:
    assert env.client.object("Counter", "read").call("add", 3) == 3
    state = env.state("Counter", "read")
    assert state.all() == {"count": 3}
    assert state.get("count", type_hint=int) == 3
    assert state.get("missing") is None
    assert env.state("Counter", "never-used").all() == {}


def test_set_state_that_a_handler_then_reads(env: RestateEnvironment) -> None:
    state = env.state("Counter", "seeded")
    state.set("count", 40)
    state.set("profile", Profile(name="Ann", visits=2))
    assert state.get("profile", type_hint=Profile) == Profile(name="Ann", visits=2)
    assert state.all() == {"count": 40, "profile": {"name": "Ann", "visits": 2}}
    assert env.client.object("Counter", "seeded").call("add", 2) == 42
    assert state.get("count", type_hint=int) == 42
    assert env.client.object("Counter", "seeded").call("profile") == {"name": "Ann", "visits": 2}
    state.set("count", 0)  # other entries stay
    assert state.all() == {"count": 0, "profile": {"name": "Ann", "visits": 2}}


def test_workflow_state(env: RestateEnvironment) -> None:
    assert env.client.workflow("Signup", "wf-1").submit("ann@example.com").attach() == "ann@example.com"
    state = env.state("Signup", "wf-1")
    assert state.get("email", type_hint=str) == "ann@example.com"
    state.set("email", "bob@example.com")
    assert state.all() == {"email": "bob@example.com"}


def test_state_of_a_plain_service_or_unknown_name_is_an_error(env: RestateEnvironment) -> None:
    with pytest.raises(ValueError, match="only virtual objects and workflows have state"):
        env.state("Payments", "x").set("a", 1)
    with pytest.raises(NotFound):
        env.state("Nope", "x").set("a", 1)


def test_a_step_runs_exactly_once(env: RestateEnvironment) -> None:
    sent = env.client.service("Payments").send("pay", "order-1")
    assert env.client.invocation(sent.invocation_id).attach() == "receipt-order-1"

    journal = env.journal(sent.invocation_id)
    steps = [e for e in journal if e.kind == "Run" and not e.notification]
    assert [(e.name, e.completed) for e in steps] == [("charge", True)]
    assert steps == [
        JournalEntry(
            index=steps[0].index,
            kind="Run",
            name="charge",
            completed=True,
            notification=False,
            entry_type="Command: Run",
        )
    ]
    assert [entry.kind for entry in journal if not entry.notification] == ["Input", "Run", "Sleep", "Output"]
    assert all(entry.completed for entry in journal)
    assert CHARGES["order-1"] == 1  # replayed after each suspension, charged once


def test_journal_of_a_running_invocation_shows_what_it_waits_for(env: RestateEnvironment) -> None:
    sent = env.client.service("Payments").send("wait")
    deadline = time.monotonic() + 10
    while not (journal := env.journal(sent.invocation_id)) or journal[-1].kind != "Sleep":
        assert time.monotonic() < deadline, journal
        time.sleep(0.05)
    assert [(e.kind, e.completed) for e in journal] == [("Input", True), ("Sleep", False)]
    env.admin.kill_invocation(sent.invocation_id)
    with pytest.raises(ValueError, match="not an invocation id"):
        env.journal("inv_nonsense")
