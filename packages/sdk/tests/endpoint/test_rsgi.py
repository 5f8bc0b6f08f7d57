"""The endpoint behind granian's RSGI interface, driven in-process by a scripted protocol object."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import restate_sdk as restate
from restate_sdk._endpoint.rsgi import RsgiReceive, RsgiSend
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import encode_header

from .wire import invocation, messages

svc = restate.Service("RsgiGreeter")


@svc.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


@svc.handler()
async def nap(ctx: restate.Context) -> None:
    await ctx.sleep(timedelta(seconds=1))


@svc.handler()
async def broken(ctx: restate.Context) -> None:
    raise RuntimeError("boom")


@svc.handler()
async def steps(ctx: restate.Context) -> int:
    total = 0
    for i in range(3):
        total += await ctx.run(f"step{i}", lambda i=i: i + 1)  # plain functions: worker threads
    return total


APP = restate.app([svc])


class Transport:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def send_bytes(self, data: bytes) -> None:
        self.chunks.append(data)

    async def send_str(self, data: str) -> None:  # pragma: no cover - the endpoint sends bytes only
        raise AssertionError("unexpected send_str")


class Protocol:
    """What granian hands an RSGI app: a request body to iterate, and one way to respond."""

    def __init__(self, body: list[bytes], *, broken_after: int | None = None) -> None:
        self.body = body
        self.broken_after = broken_after
        self.response: tuple[int, dict[str, str], bytes] | None = None
        self.transport: Transport | None = None
        self.status = 0
        self.headers: dict[str, str] = {}

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self.body):
            if self.broken_after is not None and i >= self.broken_after:
                raise RuntimeError("RSGIProtocolClosed")  # what granian raises when the stream resets
            yield chunk

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        assert self.response is None and self.transport is None, "responded twice"
        self.response = (status, dict(headers), body)

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Transport:
        assert self.response is None and self.transport is None, "responded twice"
        self.status, self.headers = status, dict(headers)
        self.transport = Transport()
        return self.transport


class Headers:
    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    def items(self) -> list[tuple[str, str]]:
        return list(self._headers.items())


class Scope:
    def __init__(
        self, path: str, headers: dict[str, str], method: str = "POST", http_version: str = "2"
    ) -> None:
        self.proto = "http"
        self.path = path
        self.method = method
        self.http_version = http_version
        self.headers = Headers(headers)


CT = {"content-type": "application/vnd.restate.invocation.v6"}


async def test_a_short_invocation_is_answered_in_one_response_bytes_call() -> None:
    protocol = Protocol([invocation(b'"Ada"')])
    await APP.__rsgi__(Scope("/invoke/RsgiGreeter/greet", CT), protocol)
    assert protocol.transport is None
    assert protocol.response is not None
    status, headers, body = protocol.response
    assert status == 200
    assert headers["content-type"] == CT["content-type"]
    out = messages(body)
    assert isinstance(out[0], m.OutputCommandMessage) and out[0].value == b'"Hello Ada!"'
    assert isinstance(out[-1], m.EndMessage)


async def test_a_suspending_invocation_streams_and_ends_its_response() -> None:
    # the body ends after the journal: the handler's sleep cannot complete, so it suspends
    protocol = Protocol([invocation(b"")])
    await APP.__rsgi__(Scope("/invoke/RsgiGreeter/nap", CT), protocol)
    if protocol.response is not None:  # everything fitted in one message: also fine
        out = messages(protocol.response[2])
    else:
        assert protocol.transport is not None
        out = messages(b"".join(protocol.transport.chunks))
    assert any(isinstance(x, m.SleepCommandMessage) for x in out)
    assert isinstance(out[-1], m.SuspensionMessage)


async def test_the_stream_transport_is_let_go_once_the_response_ended() -> None:
    # granian ends a streamed response when its transport object is freed
    protocol = Protocol([])
    send = RsgiSend(protocol)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"x")]})
    await send({"type": "http.response.body", "body": b"one", "more_body": True})
    assert protocol.transport is not None
    transport = weakref.ref(protocol.transport)
    protocol.transport = None
    await send({"type": "http.response.body", "body": b"two", "more_body": False})
    gc.disable()  # freed by reference counting, not by a later collection
    try:
        assert transport() is None
    finally:
        gc.enable()
    # a message after the end is dropped, never a second response
    await send({"type": "http.response.body", "body": b"late", "more_body": False})
    assert protocol.response is None


class PyEmptyAwaitable:
    """What granian 2.x's stream transport returns from send_bytes: already finished (same name)."""

    def __await__(self) -> Any:
        return iter(())


class AtOnceTransport:
    """Like granian's: send_bytes takes the bytes at the call; answers each run proposal as restate-server."""

    def __init__(self, inbox: asyncio.Queue[bytes | None]) -> None:
        self.chunks: list[bytes] = []
        self.inbox = inbox

    def send_bytes(self, data: bytes) -> PyEmptyAwaitable:
        self.chunks.append(data)
        for msg in messages(data):
            if isinstance(msg, m.ProposeRunCompletionMessage):
                done = m.NotificationMessage(completion_id=msg.result_completion_id, value=msg.value)
                payload = m.encode_message(done)
                self.inbox.put_nowait(encode_header(m.MessageType.RUN_COMPLETION, len(payload)) + payload)
            elif isinstance(msg, m.EndMessage):
                self.inbox.put_nowait(None)
        return PyEmptyAwaitable()


class BidiProtocol(Protocol):
    def __init__(self, first: bytes) -> None:
        super().__init__([])
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.inbox.put_nowait(first)

    async def _chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self.inbox.get()) is not None:
            yield chunk

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Any:
        self.status, self.headers = status, dict(headers)
        self.transport = AtOnceTransport(self.inbox)  # type: ignore[assignment]
        return self.transport


async def test_steps_on_a_transport_that_sends_at_once_go_out_one_write_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    awaited: list[bool] = []  # the writes that went through the awaited path (end of response or not)
    write = RsgiSend.write

    async def counting_write(self: RsgiSend, data: bytes, end: bool) -> None:
        awaited.append(end)
        await write(self, data, end)

    monkeypatch.setattr(RsgiSend, "write", counting_write)
    protocol = BidiProtocol(invocation(b""))
    await asyncio.wait_for(APP.__rsgi__(Scope("/invoke/RsgiGreeter/steps", CT), protocol), 10)
    # the first step's write starts the stream (and shows the transport sends at once); the results of
    # the next two are sent from the run workers' callbacks, without a flush; then the end
    assert awaited == [False, True]
    assert protocol.transport is not None
    writes = [[type(x).__name__ for x in messages(chunk)] for chunk in protocol.transport.chunks]
    assert writes == [["RunCommandMessage", "ProposeRunCompletionMessage"]] * 3 + [
        ["OutputCommandMessage", "EndMessage"]
    ]
    output = messages(protocol.transport.chunks[-1])[0]
    assert output.value == b"6"


async def test_the_sender_is_there_only_while_a_response_streams_on_a_transport_that_sends_at_once() -> None:
    protocol = BidiProtocol(b"")
    send = RsgiSend(protocol)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    assert send.sender() is None  # not streaming yet
    await send.write(b"one", False)
    sender = send.sender()
    assert sender is not None
    sender(b"two")
    assert protocol.transport is not None and protocol.transport.chunks == [b"one", b"two"]
    await send.write(b"", True)
    assert send.sender() is None  # the response ended


async def test_no_sender_on_a_transport_that_really_waits() -> None:
    protocol = Protocol([])
    send = RsgiSend(protocol)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send.write(b"one", False)  # Transport.send_bytes is a coroutine function
    assert send.sender() is None


async def test_receive_reads_chunks_then_the_end_then_disconnect() -> None:
    receive = RsgiReceive(Protocol([b"a", b"b"]))
    assert await receive() == {"type": "http.request", "body": b"a", "more_body": True}
    assert await receive() == {"type": "http.request", "body": b"b", "more_body": True}
    assert await receive() == {"type": "http.request", "body": b"", "more_body": False}
    assert await receive() == {"type": "http.disconnect"}


async def test_a_body_that_breaks_off_reads_as_a_disconnect() -> None:
    receive = RsgiReceive(Protocol([b"a", b"b"], broken_after=1))
    assert (await receive())["body"] == b"a"
    assert await receive() == {"type": "http.disconnect"}
    assert await receive() == {"type": "http.disconnect"}


async def test_health_discover_and_unknown_routes() -> None:
    protocol = Protocol([])
    await APP.__rsgi__(Scope("/health", {}, method="GET"), protocol)
    assert protocol.response is not None and protocol.response[0] == 200

    protocol = Protocol([])
    accept = {"accept": "application/vnd.restate.endpointmanifest.v3+json"}
    await APP.__rsgi__(Scope("/discover", accept, method="GET"), protocol)
    assert protocol.response is not None
    manifest = msgspec.json.decode(protocol.response[2])
    assert manifest["protocolMode"] == "BIDI_STREAM"
    assert [s["name"] for s in manifest["services"]] == ["RsgiGreeter"]

    protocol = Protocol([])
    await APP.__rsgi__(Scope("/discover", accept, method="GET", http_version="1.1"), protocol)
    assert protocol.response is not None
    assert msgspec.json.decode(protocol.response[2])["protocolMode"] == "REQUEST_RESPONSE"

    protocol = Protocol([b""])
    await APP.__rsgi__(Scope("/invoke/Nope/nothing", CT), protocol)
    status, _headers, body = _whole(protocol)
    assert status == 404 and b"unknown handler Nope/nothing" in body


async def test_a_failing_handler_is_reported_to_the_server_not_as_an_http_error() -> None:
    protocol = Protocol([invocation(b"")])
    await APP.__rsgi__(Scope("/invoke/RsgiGreeter/broken", CT), protocol)
    status, _headers, body = _whole(protocol)
    assert status == 200
    out = messages(body)
    assert isinstance(out[-1], m.ErrorMessage)
    assert "boom" in out[-1].message


async def test_an_endpoint_failure_answers_500(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fail(*args: Any) -> None:
        raise RuntimeError("routing broke")

    monkeypatch.setattr(APP, "_route", fail)
    protocol = Protocol([])
    await APP.__rsgi__(Scope("/health", {}, method="GET"), protocol)
    assert protocol.response is not None and protocol.response[0] == 500


def _whole(protocol: Protocol) -> tuple[int, dict[str, str], bytes]:
    if protocol.response is not None:
        return protocol.response
    assert protocol.transport is not None
    return protocol.status, protocol.headers, b"".join(protocol.transport.chunks)


class ResetProtocol(Protocol):
    """granian's body after the client reset the stream: b"" for every read, never an end or an error."""

    def __init__(self, body: list[bytes]) -> None:
        super().__init__(body)
        self.reads = 0

    async def _chunks(self) -> AsyncIterator[bytes]:
        for chunk in self.body:
            self.reads += 1
            yield chunk
        while True:
            self.reads += 1
            await asyncio.sleep(0)
            yield b""


async def test_a_reset_streams_endless_empty_chunks_read_as_a_disconnect() -> None:
    protocol = ResetProtocol([b"a"])
    receive = RsgiReceive(protocol)
    assert await receive.read() == (b"a", False)
    empties = 0
    while (chunk := await receive.read()) is not None:
        assert chunk == (b"", False)
        empties += 1
        assert empties < 100, "read on forever"
    assert 1 <= empties <= 10
    reads = protocol.reads
    assert await receive.read() is None
    assert protocol.reads == reads  # nothing more is read from a broken body


async def test_a_body_that_ends_with_empty_chunks_still_ends() -> None:
    # an empty END_STREAM DATA frame, then granian's own empty chunk at the end, then the end
    receive = RsgiReceive(Protocol([b"a", b"", b""]))
    assert [await receive.read() for _ in range(4)] == [
        (b"a", False),
        (b"", False),
        (b"", False),
        (b"", True),
    ]


async def test_an_attempt_whose_stream_is_reset_while_it_waits_ends_instead_of_reading_on() -> None:
    # the handler waits on a sleep; restate-server resets the stream (the invocation was killed,
    # say): the attempt suspends and ends, rather than reading empty chunks at full CPU forever
    protocol = ResetProtocol([invocation(b"")])
    await asyncio.wait_for(APP.__rsgi__(Scope("/invoke/RsgiGreeter/nap", CT), protocol), 5)
    assert protocol.reads < 20
    assert protocol.transport is not None
    out = messages(b"".join(protocol.transport.chunks))
    assert isinstance(out[0], m.SleepCommandMessage)
    assert isinstance(out[-1], m.SuspensionMessage)


class ClosedTransport:
    """granian's stream transport once the client went away: send_bytes fails when awaited."""

    def __init__(self) -> None:
        self.calls = 0

    def send_bytes(self, data: bytes) -> Any:
        self.calls += 1

        async def closed() -> None:
            raise RuntimeError("RSGI transport is closed")  # granian's RSGIProtocolClosed

        return closed()


class GoneProtocol(Protocol):
    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Any:
        self.transport = ClosedTransport()  # type: ignore[assignment]
        return self.transport


async def test_writing_to_a_client_that_went_away_drops_the_bytes_instead_of_failing() -> None:
    # e.g. a 503 while draining, for a request restate-server has already given up on
    protocol = GoneProtocol([])
    send = RsgiSend(protocol)
    await send({"type": "http.response.start", "status": 503, "headers": []})
    await send({"type": "http.response.body", "body": b"shutting down", "more_body": True})
    await send({"type": "http.response.body", "body": b"more", "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    assert isinstance(protocol.transport, ClosedTransport)
    assert protocol.transport.calls == 1  # nothing more is tried after the first failure
    assert send.sender() is None
