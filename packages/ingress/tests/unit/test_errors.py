"""Every failed call raises an IngressError subclass carrying what the server said."""

from __future__ import annotations

import pickle

import httpx
import pytest
from restate_ingress import (
    AsyncClient,
    BadRequest,
    Client,
    Conflict,
    Gone,
    IngressError,
    IngressTimeout,
    IngressTransportError,
    NotFound,
    NotReady,
    ServerError,
    Unauthorized,
)

from .conftest import Ingress, ready

Any_Client = Client | AsyncClient


@pytest.mark.parametrize(
    ("status", "cls", "source"),
    [
        (400, BadRequest, "ingress"),
        (401, Unauthorized, "ingress"),
        (404, NotFound, "ingress"),
        (409, Conflict, "invocation"),
        (410, Gone, "ingress"),
        (470, NotReady, "ingress"),
        (500, ServerError, "invocation"),
        (503, ServerError, "ingress"),
        (403, IngressError, "ingress"),
        (422, IngressError, "invocation"),
    ],
)
async def test_status_picks_the_class(
    client: Any_Client, ingress: Ingress, status: int, cls: type[IngressError], source: str
) -> None:
    ingress.reply(
        status,
        {"code": status, "message": f"failed with {status}", "source": source},
        headers={"x-restate-error-source": source},
    )
    with pytest.raises(IngressError) as caught:
        await ready(client.service("S").call("h", 1))
    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.code == status
    assert error.message == f"failed with {status}"
    assert error.source == source
    assert error.is_terminal_failure == (source == "invocation")
    assert error.metadata == {}


async def test_terminal_error_with_metadata_arrives_intact(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(
        422,
        {
            "code": 422,
            "message": "card declined",
            "metadata": {"card": "visa", "retry": "no", "empty": ""},
            "stacktrace": "Traceback ...",
            "source": "invocation",
        },
        headers={"x-restate-id": "inv_1xyz", "x-restate-error-source": "invocation"},
    )
    with pytest.raises(IngressError) as caught:
        await ready(client.service("Payments").call("charge", 10))
    error = caught.value
    assert (error.status, error.code, error.message) == (422, 422, "card declined")
    assert error.metadata == {"card": "visa", "retry": "no", "empty": ""}
    assert error.invocation_id == "inv_1xyz"
    assert error.stacktrace == "Traceback ..."
    assert error.is_terminal_failure
    text = str(error)
    assert "card declined" in text
    assert "inv_1xyz" in text
    assert "visa" in text


async def test_source_from_the_body_when_the_header_is_missing(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(
        409, {"code": 409, "message": "the workflow method was already invoked", "source": "invocation"}
    )
    with pytest.raises(Conflict) as caught:
        await ready(client.workflow("W", "k").call("run", 1))
    assert caught.value.source == "invocation"


async def test_code_differs_from_status(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(500, {"code": 599, "message": "odd"})
    with pytest.raises(ServerError) as caught:
        await ready(client.service("S").call("h"))
    assert (caught.value.status, caught.value.code) == (500, 599)
    assert "status=500" in str(caught.value)


async def test_body_that_is_not_json(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(502, raw=b"Bad Gateway from the proxy\n", headers={"content-type": "text/plain"})
    with pytest.raises(ServerError) as caught:
        await ready(client.service("S").call("h"))
    assert caught.value.message == "Bad Gateway from the proxy"
    assert caught.value.code == 502
    assert caught.value.source is None


async def test_empty_error_body(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(404, raw=b"")
    with pytest.raises(NotFound) as caught:
        await ready(client.service("S").call("h"))
    assert caught.value.message == "Not Found"


async def test_not_ready_keeps_the_handle_invocation_id(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(470, {"code": 470, "message": "the invocation exists but has not completed yet"})
    with pytest.raises(NotReady) as caught:
        await ready(client.invocation("inv_1abc").output())
    assert caught.value.invocation_id == "inv_1abc"


async def test_send_failure(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(400, {"code": 400, "message": "cannot use the idempotency key with workflow handlers"})
    with pytest.raises(BadRequest, match="idempotency key"):
        await ready(client.service("W").send("run", 1, idempotency_key="k"))


async def test_awakeable_failure(client: Any_Client, ingress: Ingress) -> None:
    ingress.reply(400, {"code": 400, "message": "bad awakeable id 'bogus': bad format", "source": "ingress"})
    with pytest.raises(BadRequest, match="bogus"):
        await ready(client.resolve_awakeable("bogus", 1))


# -- transport errors ---------------------------------------------------------------------------


def _failing(exc: Exception) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("raised", "cls"),
    [
        (httpx.ConnectError("connection refused"), IngressTransportError),
        (httpx.ReadError("connection reset"), IngressTransportError),
        (httpx.RemoteProtocolError("peer closed"), IngressTransportError),
        (httpx.ConnectTimeout("connect timed out"), IngressTimeout),
        (httpx.ReadTimeout("read timed out"), IngressTimeout),
        (httpx.PoolTimeout("pool timed out"), IngressTimeout),
    ],
)
async def test_transport_errors_are_mapped(raised: Exception, cls: type[IngressError]) -> None:
    for make in (Client, AsyncClient):
        client = make("http://ingress.test", transport=_failing(raised))  # type: ignore[arg-type]
        with pytest.raises(IngressError) as caught:
            await ready(client.service("S").call("h", 1))
        assert type(caught.value) is cls
        assert caught.value.__cause__ is raised
        assert caught.value.status is None
        assert "/S/h" in caught.value.message
        await ready(client.close() if isinstance(client, Client) else client.aclose())


def test_a_timeout_is_a_builtin_timeout_error() -> None:
    client = Client("http://ingress.test", transport=_failing(httpx.ReadTimeout("slow")))
    with pytest.raises(TimeoutError):
        client.service("S").call("h")


def test_unreachable_server() -> None:
    with Client("http://127.0.0.1:9", timeout=2) as client, pytest.raises(IngressTransportError):
        client.service("S").call("h")


def test_bad_url() -> None:
    with Client("not a url", timeout=2) as client, pytest.raises(IngressTransportError):
        client.service("S").call("h")


# -- the error objects themselves ---------------------------------------------------------------


def test_errors_pickle() -> None:
    error = NotFound("gone", status=404, metadata={"a": "b"}, source="ingress", invocation_id="inv_1")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFound
    assert (copy.message, copy.status, copy.metadata, copy.source, copy.invocation_id) == (
        "gone",
        404,
        {"a": "b"},
        "ingress",
        "inv_1",
    )


def test_repr_and_str() -> None:
    error = Conflict("killed", status=409, source="invocation")
    assert repr(error) == "Conflict('killed', status=409, code=409)"
    assert str(error) == "[409] killed (source=invocation)"
    assert str(IngressTransportError("no route")) == "no route"
