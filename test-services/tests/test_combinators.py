"""Combinators over durable futures, through VirtualObjectCommandInterpreter.interpretCommands."""

from __future__ import annotations

from typing import Any

import pytest
from harness import Restate, wait_until
from restate_ingress import Client, IngressError

pytestmark = pytest.mark.integration


def awakeable(key: str) -> dict[str, Any]:
    return {"type": "createAwakeable", "awakeableKey": key}


def sleep(ms: int) -> dict[str, Any]:
    return {"type": "sleep", "timeoutMillis": ms}


def run_fails(reason: str) -> dict[str, Any]:
    return {"type": "runThrowTerminalException", "reason": reason}


def run_returns(value: str) -> dict[str, Any]:
    return {"type": "runReturns", "value": value}


def interpret(client: Client, key: str, *commands: dict[str, Any]) -> Any:
    return client.object("VirtualObjectCommandInterpreter", key).call(
        "interpretCommands", {"commands": commands}
    )


def test_no_commands_return_empty_string(client: Client, key: str) -> None:
    assert interpret(client, key) == ""


def test_await_one(client: Client, key: str) -> None:
    assert interpret(client, key, {"type": "awaitOne", "command": sleep(10)}) == "sleep"
    assert interpret(client, key, {"type": "awaitOne", "command": run_returns("v")}) == "v"
    with pytest.raises(IngressError, match="boom"):
        interpret(client, key, {"type": "awaitOne", "command": run_fails("boom")})


@pytest.mark.parametrize("command", ["awaitAny", "awaitFirstCompleted"])
def test_awakeable_or_timeout_using_await_any(client: Client, key: str, command: str) -> None:
    assert interpret(client, key, {"type": command, "commands": [awakeable("a"), sleep(100)]}) == "sleep"


def test_await_any_returns_the_first_failure(client: Client, key: str) -> None:
    with pytest.raises(IngressError, match="first"):
        interpret(client, key, {"type": "awaitAny", "commands": [awakeable("a"), run_fails("first")]})


def test_await_any_resolved_awakeable_wins(restate: Restate, key: str) -> None:
    interpreter = restate.client.object("VirtualObjectCommandInterpreter", key)
    sent = interpreter.send(
        "interpretCommands", {"commands": [{"type": "awaitAny", "commands": [awakeable("a"), sleep(60_000)]}]}
    )
    wait_until(lambda: interpreter.call("hasAwakeable", "a"), what="the awakeable")
    interpreter.call("resolveAwakeable", {"awakeableKey": "a", "value": "woken"})
    assert restate.client.invocation(sent.invocation_id).attach() == "woken"


def test_awakeable_or_timeout_command(client: Client, key: str) -> None:
    with pytest.raises(IngressError, match="await-timeout"):
        interpret(client, key, {"type": "awaitAwakeableOrTimeout", "awakeableKey": "a", "timeoutMillis": 100})


def test_awakeable_or_timeout_resolved_in_time(restate: Restate, key: str) -> None:
    interpreter = restate.client.object("VirtualObjectCommandInterpreter", key)
    sent = interpreter.send(
        "interpretCommands",
        {"commands": [{"type": "awaitAwakeableOrTimeout", "awakeableKey": "a", "timeoutMillis": 60_000}]},
    )
    wait_until(lambda: interpreter.call("hasAwakeable", "a"), what="the awakeable")
    interpreter.call("resolveAwakeable", {"awakeableKey": "a", "value": "in time"})
    assert restate.client.invocation(sent.invocation_id).attach() == "in time"


@pytest.mark.parametrize("command", ["awaitAnySuccessful", "awaitFirstSucceededOrAllFailed"])
def test_await_any_successful_skips_failures(client: Client, key: str, command: str) -> None:
    commands = [run_fails("one"), sleep(50), run_fails("two")]
    assert interpret(client, key, {"type": command, "commands": commands}) == "sleep"


def test_await_any_successful_all_failed(client: Client, key: str) -> None:
    commands = [run_fails("one"), run_fails("two")]
    with pytest.raises(IngressError) as error:
        interpret(client, key, {"type": "awaitAnySuccessful", "commands": commands})
    assert error.value.message in ("one", "two")


def test_await_all_succeeded(client: Client, key: str) -> None:
    commands = [run_returns("a"), sleep(20), run_returns("b")]
    assert (
        interpret(client, key, {"type": "awaitAllSucceededOrFirstFailed", "commands": commands})
        == "a|sleep|b"
    )


def test_await_all_succeeded_first_failure(client: Client, key: str) -> None:
    commands = [run_returns("a"), run_fails("bad"), awakeable("never")]
    with pytest.raises(IngressError, match="bad"):
        interpret(client, key, {"type": "awaitAllSucceededOrFirstFailed", "commands": commands})


def test_await_all_completed(client: Client, key: str) -> None:
    commands = [run_returns("x"), run_fails("boom"), sleep(10)]
    assert (
        interpret(client, key, {"type": "awaitAllCompleted", "commands": commands})
        == "ok:x|err:boom|ok:sleep"
    )


def test_results_accumulate_and_env_is_read(client: Client, key: str) -> None:
    assert (
        interpret(
            client,
            key,
            {"type": "awaitOne", "command": run_returns("r")},
            {"type": "getEnvVariable", "envName": "GET_ENV_TEST_VARIABLE"},
            {"type": "getEnvVariable", "envName": "SURELY_NOT_SET_ANYWHERE"},
        )
        == ""
    )
    results = client.object("VirtualObjectCommandInterpreter", key).call("getResults")
    assert results == ["r", "env-value", ""]


def test_resolve_and_reject_awakeable_commands(client: Client, key: str) -> None:
    # The first command stores awakeables under "a" and "b" (it times out on the sleep); the next
    # commands complete them through the context API.
    result = interpret(
        client,
        key,
        {"type": "awaitAny", "commands": [awakeable("a"), awakeable("b"), sleep(10)]},
        {"type": "resolveAwakeable", "awakeableKey": "a", "value": "v"},
        {"type": "rejectAwakeable", "awakeableKey": "b", "reason": "r"},
    )
    assert result == ""
    assert client.object("VirtualObjectCommandInterpreter", key).call("getResults") == ["sleep", "", ""]
    with pytest.raises(IngressError, match="No awakeable"):
        interpret(client, key, {"type": "resolveAwakeable", "awakeableKey": "missing", "value": "v"})


def test_reject_awakeable_shared_handler(restate: Restate, key: str) -> None:
    interpreter = restate.client.object("VirtualObjectCommandInterpreter", key)
    sent = interpreter.send(
        "interpretCommands", {"commands": [{"type": "awaitOne", "command": awakeable("a")}]}
    )
    wait_until(lambda: interpreter.call("hasAwakeable", "a"), what="the awakeable")
    interpreter.call("rejectAwakeable", {"awakeableKey": "a", "reason": "rejected!"})
    with pytest.raises(IngressError, match="rejected!"):
        restate.client.invocation(sent.invocation_id).attach()


def test_replay_keeps_the_race_winner(restate: Restate, key: str) -> None:
    # awaitAny picks the sleep; the awakeable completes later. When the invocation is replayed (it
    # suspends, or the endpoint restarts), both results are in the journal: the replay must still
    # pick the sleep, the one that completed first, or the journal no longer matches.
    interpreter = restate.client.object("VirtualObjectCommandInterpreter", key)
    sent = interpreter.send(
        "interpretCommands",
        {
            "commands": [
                {"type": "awaitAny", "commands": [awakeable("a"), sleep(10)]},
                {"type": "awaitOne", "command": awakeable("b")},
            ]
        },
    )
    wait_until(lambda: interpreter.call("hasAwakeable", "b"), what="the second awakeable")
    interpreter.call("resolveAwakeable", {"awakeableKey": "a", "value": "late"})
    restate.services.restart()  # a replay in every configuration
    interpreter.call("resolveAwakeable", {"awakeableKey": "b", "value": "b"})
    assert restate.client.invocation(sent.invocation_id).attach(timeout=20) == "b"
    assert interpreter.call("getResults") == ["sleep", "b"]
