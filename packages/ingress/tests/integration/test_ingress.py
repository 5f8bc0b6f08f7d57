"""Every Client / AsyncClient method against a real restate-server (run once with each client)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from restate_ingress import (
    AsyncClient,
    BadRequest,
    Client,
    Conflict,
    IngressError,
    IngressTimeout,
    NotFound,
    NotReady,
    ServerError,
)

from .apps import AWAKEABLES, Person, add, current, describe, greet, hello, run, shout
from .conftest import ready

pytestmark = pytest.mark.integration

AnyClient = Client | AsyncClient


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# -- calls --------------------------------------------------------------------------------------


async def test_call_by_name_and_typed(client: AnyClient) -> None:
    assert await ready(client.service("Greeter").call("greet", "Ann")) == "Hello Ann!"
    assert await ready(client.call(greet, "Bo")) == "Hello Bo!"
    assert await ready(client.service("Greeter").call(greet, "Cy")) == "Hello Cy!"


async def test_typed_dataclass_round_trip(client: AnyClient) -> None:
    assert await ready(client.call(describe, Person("ann", 30))) == Person("ANN", 31)
    untyped = await ready(client.service("Greeter").call("describe", {"name": "bo", "age": 1}))
    assert untyped == {"name": "BO", "age": 2}
    typed = await ready(client.service("Greeter").call("describe", Person("cy", 2), output_type=Person))
    assert typed == Person("CY", 3)


async def test_plain_def_handler(client: AnyClient) -> None:
    assert await ready(client.call(shout, "quiet")) == "QUIET"


async def test_handler_without_input(client: AnyClient) -> None:
    assert await ready(client.call(hello)) == "hello, nobody"
    assert await ready(client.service("Greeter").call("hello")) == "hello, nobody"


async def test_bytes_in_and_out(client: AnyClient) -> None:
    assert await ready(client.service("Greeter").call("echo_bytes", b"\x00\x01\x02")) == b"\x02\x01\x00"


async def test_custom_headers_reach_the_handler(client: AnyClient) -> None:
    result = await ready(
        client.service("Greeter").call("echo_header", "x-test-header", headers={"x-test-header": "yes"})
    )
    assert result == "yes"


async def test_object_state_by_key(client: AnyClient) -> None:
    key = unique("counter/with slash")
    assert await ready(client.object("Counter", key).call("add", 2)) == 2
    assert await ready(client.call(add, 3, key=key)) == 5
    assert await ready(client.call(current, key=key)) == 5
    assert await ready(client.object("Counter", key).call("current")) == 5


# -- sends, idempotency and handles -------------------------------------------------------------


async def test_send_twice_with_one_idempotency_key(client: AnyClient) -> None:
    key = unique("idem")
    first = await ready(client.service("Greeter").send("greet", "Ann", idempotency_key=key))
    second = await ready(client.service("Greeter").send("greet", "Ann", idempotency_key=key))
    assert first.status == "Accepted"
    assert second.status == "PreviouslyAccepted"
    assert first.invocation_id == second.invocation_id
    assert first.invocation_id.startswith("inv_")
    assert await ready(client.invocation(first.invocation_id).attach()) == "Hello Ann!"
    by_key = client.idempotent_invocation("Greeter", "greet", key)
    assert await ready(by_key.attach()) == "Hello Ann!"
    assert await ready(by_key.output()) == "Hello Ann!"
    assert await ready(client.service("Greeter").invocation(greet, key).output()) == "Hello Ann!"


async def test_idempotent_call_on_an_object(client: AnyClient) -> None:
    key, idem = unique("counter"), unique("idem")
    assert await ready(client.object("Counter", key).call("add", 1, idempotency_key=idem)) == 1
    assert await ready(client.object("Counter", key).call("add", 1, idempotency_key=idem)) == 1
    assert await ready(client.idempotent_invocation("Counter", "add", idem, key=key).output()) == 1
    assert await ready(client.call(current, key=key)) == 1


async def test_attach_to_a_finished_invocation(client: AnyClient) -> None:
    sent = await ready(client.send(greet, "Dee"))
    handle = client.invocation(sent.invocation_id, output_type=str)
    assert await ready(handle.attach()) == "Hello Dee!"
    assert await ready(handle.attach()) == "Hello Dee!"
    assert await ready(handle.output()) == "Hello Dee!"


async def test_output_of_a_running_invocation_is_not_ready(client: AnyClient) -> None:
    sent = await ready(client.service("Greeter").send("slow", 1.5))
    handle = client.invocation(sent.invocation_id)
    with pytest.raises(NotReady) as caught:
        await ready(handle.output())
    assert caught.value.status == 470
    assert caught.value.invocation_id == sent.invocation_id
    assert await ready(handle.attach()) == "slept 1.5"
    assert await ready(handle.output()) == "slept 1.5"


async def test_delayed_send(client: AnyClient) -> None:
    started = time.monotonic()
    sent = await ready(client.service("Greeter").send("greet", "Later", delay=timedelta(seconds=1)))
    assert sent.execution_time is not None
    with pytest.raises(NotReady):
        await ready(client.invocation(sent.invocation_id).output())
    assert await ready(client.invocation(sent.invocation_id).attach()) == "Hello Later!"
    assert time.monotonic() - started >= 0.9


# -- workflows ----------------------------------------------------------------------------------


async def test_workflow_submit_signal_attach(client: AnyClient) -> None:
    key = unique("wf")
    workflow = client.workflow("Signup", key)
    handle = await ready(workflow.submit("ann@example.com"))
    assert handle.status == "Accepted"
    assert handle.invocation_id is not None
    again = await ready(client.workflow("Signup", key).submit("ann@example.com"))
    assert again.status == "PreviouslyAccepted"
    assert again.invocation_id == handle.invocation_id
    with pytest.raises(NotReady):
        await ready(workflow.output())
    assert await ready(workflow.call("click", "s3cret")) is None
    assert await ready(handle.attach()) == "ann@example.com confirmed with s3cret"
    assert await ready(workflow.output()) == "ann@example.com confirmed with s3cret"
    assert await ready(client.workflow(run, key).attach()) == "ann@example.com confirmed with s3cret"


async def test_workflow_typed_by_main_handler(client: AnyClient) -> None:
    key = unique("wf")
    handle = await ready(client.workflow(run, key).submit("bo@example.com"))
    await ready(client.workflow(run, key).call("click", "x"))
    assert await ready(handle.attach()) == "bo@example.com confirmed with x"


async def test_workflow_main_twice_is_a_conflict(client: AnyClient) -> None:
    key = unique("wf")
    await ready(client.workflow("Signup", key).submit("a@example.com"))
    with pytest.raises(Conflict) as caught:
        await ready(client.workflow("Signup", key).call("run", "a@example.com"))
    assert caught.value.status == 409
    assert caught.value.source == "invocation"
    assert "already invoked" in caught.value.message
    await ready(client.workflow("Signup", key).call("click", "done"))


async def test_unknown_workflow_output_is_not_found(client: AnyClient) -> None:
    with pytest.raises(NotFound):
        await ready(client.workflow("Signup", unique("never")).output())


# -- failures -----------------------------------------------------------------------------------


async def test_terminal_error_with_metadata_arrives_intact(client: AnyClient) -> None:
    with pytest.raises(IngressError) as caught:
        await ready(client.service("Greeter").call("fail", "card declined"))
    error = caught.value
    assert type(error) is IngressError
    assert (error.status, error.code, error.message) == (422, 422, "card declined")
    assert error.metadata == {"reason": "declined", "card": "visa"}
    assert error.source == "invocation"
    assert error.invocation_id is not None and error.invocation_id.startswith("inv_")
    sent = await ready(client.service("Greeter").send("fail", "again"))
    with pytest.raises(IngressError) as attached:
        await ready(client.invocation(sent.invocation_id).attach())
    assert attached.value.metadata == {"reason": "declined", "card": "visa"}
    assert attached.value.invocation_id == sent.invocation_id


async def test_terminal_error_with_the_default_code_is_a_server_error(client: AnyClient) -> None:
    with pytest.raises(ServerError) as caught:
        await ready(client.service("Greeter").call("fail_default", "nope"))
    assert caught.value.status == 500
    assert caught.value.is_terminal_failure


async def test_unknown_handler_and_service(client: AnyClient) -> None:
    with pytest.raises(NotFound) as caught:
        await ready(client.service("Greeter").call("nope", "x"))
    assert caught.value.source == "ingress"
    with pytest.raises(NotFound):
        await ready(client.service("NoSuchService").call("greet", "x"))
    with pytest.raises(NotFound):
        await ready(client.invocation("inv_1eBMQvL8muLV3J6n34dJjfxbb4WYbrjgDX").output())


async def test_bad_input_is_a_bad_request(client: AnyClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await ready(client.service("Greeter").call("describe", {"name": 1}))
    assert caught.value.status == 400
    with pytest.raises(BadRequest):
        await ready(client.service("Greeter").call("describe", b"{not json"))
    with pytest.raises(BadRequest):
        await ready(client.invocation("garbage").output())
    with pytest.raises(BadRequest, match="idempotency"):
        await ready(client.workflow("Signup", unique("wf")).send("run", "x", idempotency_key="k"))


async def test_timeout_then_attach_by_idempotency_key(client: AnyClient) -> None:
    key = unique("idem")
    started = time.monotonic()
    with pytest.raises(IngressTimeout) as caught:
        await ready(client.service("Greeter").call("slow", 1, idempotency_key=key, timeout=0.3))
    assert time.monotonic() - started < 1
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.status is None
    # The invocation goes on without us: pick up its result (and leave no invocation running).
    assert await ready(client.idempotent_invocation("Greeter", "slow", key).attach()) == "slept 1.0"


# -- awakeables ---------------------------------------------------------------------------------


async def _awakeable_of(name: str) -> str:
    for _ in range(200):
        if name in AWAKEABLES:
            return AWAKEABLES[name]
        await asyncio.sleep(0.05)
    raise AssertionError(f"the handler never published awakeable {name!r}")


async def test_resolve_awakeable_from_outside(client: AnyClient) -> None:
    name = unique("awk")
    sent = await ready(client.service("Waiter").send("wait_for", name))
    awakeable_id = await _awakeable_of(name)
    with pytest.raises(NotReady):
        await ready(client.invocation(sent.invocation_id).output())
    await ready(client.resolve_awakeable(awakeable_id, "from outside"))
    assert await ready(client.invocation(sent.invocation_id).attach()) == "from outside"


async def test_reject_awakeable_from_outside(client: AnyClient) -> None:
    name = unique("awk")
    sent = await ready(client.service("Waiter").send("wait_for", name))
    awakeable_id = await _awakeable_of(name)
    await ready(client.reject_awakeable(awakeable_id, "not today"))
    with pytest.raises(IngressError) as caught:
        await ready(client.invocation(sent.invocation_id).attach())
    assert caught.value.message == "not today"
    assert caught.value.is_terminal_failure


async def test_bogus_awakeable_id(client: AnyClient) -> None:
    with pytest.raises(BadRequest):
        await ready(client.resolve_awakeable("bogus", 1))
    with pytest.raises(BadRequest):
        await ready(client.reject_awakeable("sign_1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x"))
