"""What goes on the wire: paths, methods, bodies, headers, query parameters, and how answers decode."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import restate_sdk as restate
from restate_ingress import AsyncClient, Client, ResponseDecodeError, SendResponse
from restate_ingress._models import DEFAULT_ATTACH_TIMEOUT, DEFAULT_TIMEOUT
from restate_sdk import BytesSerde, Context, ObjectContext, ObjectSharedContext, WorkflowContext

from .conftest import Ingress, ready


@dataclass
class Person:
    name: str
    age: int


greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name}!"


@greeter.handler()
async def describe(ctx: Context, person: Person) -> Person:
    return person


@greeter.handler()
def shout(ctx: Context, name: str) -> str:
    return name.upper()


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    return delta


@counter.handler(kind="shared")
async def current(ctx: ObjectSharedContext) -> int:
    return 0


signup = restate.Workflow("Signup")


@signup.main()
async def begin(ctx: WorkflowContext, email: str) -> Person:
    return Person(email, 1)


Any_Client = Client | AsyncClient


# -- calls by name ------------------------------------------------------------------------------


async def test_call_by_name(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(body="Hello Ann!")
    assert await ready(client.service("Greeter").call("greet", "Ann")) == "Hello Ann!"
    request = ingress.last
    assert request.method == "POST"
    assert str(request.url) == "http://ingress.test:8080/Greeter/greet"
    assert request.content == b'"Ann"'
    assert request.headers["content-type"] == "application/json"
    assert "idempotency-key" not in request.headers


async def test_object_key_is_one_escaped_segment(client: Any_Client, ingress: Ingress) -> None:
    await ready(client.object("Counter", "a/b c?").call("add", 1))
    assert ingress.last.url.raw_path == b"/Counter/a%2Fb%20c%3F/add"
    assert ingress.last.content == b"1"


async def test_call_without_argument_sends_no_body(client: Any_Client, ingress: Ingress) -> None:
    await ready(client.object("Counter", "a").call("current"))
    assert ingress.last.content == b""
    assert "content-type" not in ingress.last.headers


async def test_bytes_go_as_they_are(client: Any_Client, ingress: Ingress) -> None:
    await ready(client.service("Blob").call("put", b"\x00\x01"))
    assert ingress.last.content == b"\x00\x01"
    assert ingress.last.headers["content-type"] == "application/octet-stream"


async def test_dataclass_argument_is_json(client: Any_Client, ingress: Ingress) -> None:
    await ready(client.service("Greeter").call("describe", Person("Ann", 3)))
    assert json.loads(ingress.last.content) == {"name": "Ann", "age": 3}


async def test_pydantic_argument_goes_through_pydantic(client: Any_Client, ingress: Ingress) -> None:
    pydantic = pytest.importorskip("pydantic")

    class Model(pydantic.BaseModel):
        when: datetime

    await ready(client.service("Greeter").call("model", Model(when=datetime(2024, 1, 2, tzinfo=UTC))))
    assert json.loads(ingress.last.content) == {"when": "2024-01-02T00:00:00Z"}


async def test_headers_token_and_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=None)

    with Client(
        "https://ingress.test",
        token="s3cret",
        headers={"x-app": "1"},
        transport=httpx.MockTransport(handle),
    ) as client:
        client.service("Greeter").call("greet", "Ann", headers={"x-call": "2"}, idempotency_key="k-1")
    headers = seen[0].headers
    assert headers["authorization"] == "Bearer s3cret"
    assert headers["x-app"] == "1"
    assert headers["x-call"] == "2"
    assert headers["idempotency-key"] == "k-1"


async def test_per_request_timeout(client: Any_Client, ingress: Ingress) -> None:
    await ready(client.service("Greeter").call("greet", "Ann", timeout=timedelta(seconds=2.5)))
    assert ingress.last.extensions["timeout"] == httpx.Timeout(2.5).as_dict()
    await ready(client.service("Greeter").call("greet", "Ann"))
    assert ingress.last.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()
    assert DEFAULT_TIMEOUT.read == 300.0 and DEFAULT_TIMEOUT.connect == 10.0
    await ready(client.invocation("inv_1").attach())
    assert ingress.last.extensions["timeout"] == DEFAULT_ATTACH_TIMEOUT.as_dict()
    assert DEFAULT_ATTACH_TIMEOUT.read == 3600.0
    await ready(client.invocation("inv_1").attach(timeout=7))
    assert ingress.last.extensions["timeout"] == httpx.Timeout(7).as_dict()


# -- outputs ------------------------------------------------------------------------------------


async def test_output_type_decodes(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(body={"name": "Ann", "age": 3})
    result = await ready(
        client.service("Greeter").call("describe", {"name": "Ann", "age": 3}, output_type=Person)
    )
    assert result == Person("Ann", 3)


async def test_output_that_does_not_decode(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(body={"name": "Ann"}, headers={"x-restate-id": "inv_1"})
    with pytest.raises(ResponseDecodeError) as caught:
        await ready(client.service("Greeter").call("describe", {}, output_type=Person))
    assert caught.value.invocation_id == "inv_1"
    assert caught.value.status == 200


async def test_untyped_outputs(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(raw=b"", headers={"content-type": ""})
    assert await ready(client.service("S").call("h")) is None
    ingress.reply(raw=b"\x00raw", headers={"content-type": "application/octet-stream"})
    assert await ready(client.service("S").call("h")) == b"\x00raw"
    ingress.reply(raw=b'{"a": [1, 2]}', headers={"content-type": "application/vnd.x+json; charset=utf-8"})
    assert await ready(client.service("S").call("h")) == {"a": [1, 2]}


async def test_output_serde(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(raw=b'"json but wanted raw"')
    assert await ready(client.service("S").call("h", output_serde=BytesSerde())) == b'"json but wanted raw"'


# -- typed by the handler function --------------------------------------------------------------


async def test_call_typed_by_handler(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(body={"name": "Bo", "age": 4})
    result = await ready(client.call(describe, Person("Bo", 4)))
    assert result == Person("Bo", 4)
    assert str(ingress.last.url) == "http://ingress.test:8080/Greeter/describe"
    result = await ready(client.service("Greeter").call(describe, Person("Bo", 4)))
    assert result == Person("Bo", 4)


async def test_call_typed_by_plain_def_handler(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(body="ANN")
    assert await ready(client.call(shout, "ann")) == "ANN"
    assert ingress.last.url.path == "/Greeter/shout"
    assert ingress.last.content == b'"ann"'


async def test_object_handler_needs_its_key(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(body=5)
    assert await ready(client.call(add, 5, key="k")) == 5
    assert ingress.last.url.path == "/Counter/k/add"
    assert await ready(client.object("Counter", "k").call(add, 5)) == 5
    with pytest.raises(ValueError, match="needs a key"):
        await ready(client.call(add, 5))
    with pytest.raises(ValueError, match="takes no key"):
        await ready(client.call(greet, "Ann", key="k"))
    with pytest.raises(ValueError, match="does not belong"):
        await ready(client.service("Other").call(greet, "Ann"))


async def test_typed_handler_without_input_sends_no_body(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(body=7)
    assert await ready(client.call(current, key="k")) == 7
    assert ingress.last.content == b""
    assert "content-type" not in ingress.last.headers


async def test_typed_send(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(202, {"invocationId": "inv_1", "status": "Accepted"})
    sent = await ready(client.send(add, 1, key="k", delay=timedelta(seconds=1)))
    assert sent == SendResponse("inv_1", "Accepted")
    assert ingress.last.url.path == "/Counter/k/add/send"
    assert ingress.last.url.params["delay"] == "1000ms"


# -- sends --------------------------------------------------------------------------------------


async def test_send(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(
        202,
        {"invocationId": "inv_1", "status": "PreviouslyAccepted", "executionTime": "2026-01-02T03:04:05.5Z"},
    )
    sent = await ready(
        client.service("Greeter").send("greet", "Ann", delay=timedelta(seconds=5), idempotency_key="k")
    )
    assert sent.invocation_id == "inv_1"
    assert sent.status == "PreviouslyAccepted"
    assert sent.previously_accepted
    assert sent.execution_time == datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    request = ingress.last
    assert request.url.path == "/Greeter/greet/send"
    assert request.url.params["delay"] == "5000ms"
    assert request.headers["idempotency-key"] == "k"


async def test_send_rounds_the_delay_up_to_milliseconds(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(202, {"invocationId": "inv_1", "status": "Accepted"})
    await ready(client.service("S").send("h", 1, delay=timedelta(microseconds=1500)))
    assert ingress.last.url.params["delay"] == "2ms"
    await ready(client.service("S").send("h", 1))
    assert "delay" not in ingress.last.url.params
    with pytest.raises(ValueError, match="negative"):
        await ready(client.service("S").send("h", 1, delay=timedelta(seconds=-1)))


async def test_send_with_an_unexpected_answer(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(202, {"nope": 1})
    with pytest.raises(ResponseDecodeError):
        await ready(client.service("S").send("h", 1))


# -- handles ------------------------------------------------------------------------------------


async def test_invocation_by_id(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(body={"name": "Ann", "age": 1})
    handle = client.invocation("inv_1abc", output_type=Person)
    assert handle.invocation_id == "inv_1abc"
    assert await ready(handle.attach()) == Person("Ann", 1)
    assert ingress.last.method == "GET"
    assert ingress.last.url.path == "/restate/invocation/inv_1abc/attach"
    assert await ready(handle.output()) == Person("Ann", 1)
    assert ingress.last.url.path == "/restate/invocation/inv_1abc/output"


async def test_invocation_by_idempotency_key(client: Any_Client, ingress: Ingress) -> None:
    await ready(client.idempotent_invocation("Greeter", "greet", "my key").attach())
    assert ingress.last.url.raw_path == b"/restate/invocation/Greeter/greet/my%20key/attach"
    await ready(client.idempotent_invocation("Counter", "add", "k1", key="a").output())
    assert ingress.last.url.path == "/restate/invocation/Counter/a/add/k1/output"
    ingress.reply(body=3)
    assert await ready(client.object("Counter", "a").invocation(add, "k1").attach()) == 3
    assert ingress.last.url.path == "/restate/invocation/Counter/a/add/k1/attach"


async def test_workflow_by_name(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(202, {"invocationId": "inv_wf", "status": "Accepted"})
    handle = await ready(client.workflow("Signup", "wf-1").submit("ann@example.com"))
    assert ingress.last.url.path == "/Signup/wf-1/run/send"
    assert ingress.last.content == b'"ann@example.com"'
    assert handle.invocation_id == "inv_wf"
    assert handle.status == "Accepted"
    ingress.reply(body="done")
    assert await ready(handle.attach()) == "done"
    assert ingress.last.url.path == "/restate/workflow/Signup/wf-1/attach"
    assert await ready(client.workflow("Signup", "wf-1").output()) == "done"
    assert ingress.last.url.path == "/restate/workflow/Signup/wf-1/output"
    assert await ready(client.workflow("Signup", "wf-1").attach()) == "done"
    assert ingress.last.url.path == "/restate/workflow/Signup/wf-1/attach"
    await ready(client.workflow("Signup", "wf-1").call("click", "secret"))
    assert ingress.last.url.path == "/Signup/wf-1/click"
    ingress.reply(202, {"invocationId": "inv_wf", "status": "Accepted"})
    await ready(client.workflow("Signup", "wf-1", main="begin").submit("x", delay=timedelta(minutes=1)))
    assert ingress.last.url.path == "/Signup/wf-1/begin/send"
    assert ingress.last.url.params["delay"] == "60000ms"


async def test_workflow_typed_by_its_main_handler(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(202, {"invocationId": "inv_wf", "status": "Accepted"})
    handle = await ready(client.workflow(begin, "wf-2").submit("ann@example.com"))
    assert ingress.last.url.path == "/Signup/wf-2/begin/send"
    ingress.reply(body={"name": "ann@example.com", "age": 1})
    assert await ready(handle.attach()) == Person("ann@example.com", 1)
    assert await ready(client.workflow(begin, "wf-2").output()) == Person("ann@example.com", 1)
    with pytest.raises(ValueError, match="main handler"):
        client.workflow(greet, "wf-2")


# -- awakeables ---------------------------------------------------------------------------------


async def test_awakeables(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(202, raw=b"")
    await ready(client.resolve_awakeable("sign_1abc", {"ok": True}))
    assert ingress.last.method == "POST"
    assert ingress.last.url.path == "/restate/awakeables/sign_1abc/resolve"
    assert json.loads(ingress.last.content) == {"ok": True}
    assert ingress.last.headers["content-type"] == "application/json"
    await ready(client.resolve_awakeable("sign_1abc", b"raw"))
    assert ingress.last.content == b"raw"
    await ready(client.reject_awakeable("sign_1abc", "no luck"))
    assert ingress.last.url.path == "/restate/awakeables/sign_1abc/reject"
    assert ingress.last.content == b"no luck"
    assert ingress.last.headers["content-type"].startswith("text/plain")


# -- lifecycle ----------------------------------------------------------------------------------


def test_close_leaves_a_borrowed_http_client_open() -> None:
    borrowed = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=1)))
    with Client("http://ingress.test", http_client=borrowed) as client:
        assert client.service("S").call("h") == 1
    assert not borrowed.is_closed
    borrowed.close()
    owned = Client("http://ingress.test")
    owned.close()
    assert owned._http.is_closed


async def test_async_client_does_not_block_the_loop() -> None:
    import asyncio
    import time

    class SlowTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.2)
            return httpx.Response(200, json=request.url.path)

    async with AsyncClient("http://ingress.test", transport=SlowTransport()) as client:
        started = time.monotonic()
        results = await asyncio.gather(*(client.service("S").call(f"h{i}") for i in range(10)))
        elapsed = time.monotonic() - started
    assert results == [f"/S/h{i}" for i in range(10)]
    assert elapsed < 1.0
