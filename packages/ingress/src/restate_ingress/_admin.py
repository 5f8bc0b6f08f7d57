"""``AdminClient`` and ``AsyncAdminClient``: restate-server's admin API (default port 9070).

Registration, service listing, invocation cancel/kill/purge, health and SQL queries; failures
raise the same ``IngressError`` tree as the ingress client (admin errors carry ``restate_code``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx
import msgspec

from ._errors import IngressTransportError, ResponseDecodeError, check_response
from ._http import DEFAULT, AsyncIO, HTTPBase, SyncIO
from ._models import Operation, Timeout, segment

__all__ = ["AdminClient", "AsyncAdminClient"]

DEFAULT_ADMIN_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""Registration makes the server call the deployment (discovery); give it time."""

InvocationAction = Literal["cancel", "kill", "purge", "purge-journal", "resume", "pause", "restart-as-new"]

_JSON = {"content-type": "application/json", "accept": "application/json"}


def _json(response: httpx.Response) -> Any:
    check_response(response)
    if not response.content:
        return None
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError as e:
        raise ResponseDecodeError(
            f"the admin API answered with invalid JSON: {e}", status=response.status_code
        ) from e


def _items(field: str) -> Callable[[httpx.Response], list[dict[str, Any]]]:
    """Parses ``{field: [...]}`` answers into the list."""

    def parse(response: httpx.Response) -> list[dict[str, Any]]:
        body = _json(response)
        if not isinstance(body, dict) or not isinstance(body.get(field), list):  # pyright: ignore[reportUnknownMemberType]
            raise ResponseDecodeError(f"the admin answer has no {field!r}", status=response.status_code)
        return body[field]  # pyright: ignore[reportUnknownVariableType]

    return parse


def _healthy(response: httpx.Response) -> bool:
    return response.is_success


class _BaseAdminClient(HTTPBase):
    """Admin request building and response parsing; no I/O."""

    def _op_register(
        self,
        uri: str,
        *,
        force: bool,
        use_http_11: bool,
        breaking: bool,
        additional_headers: Mapping[str, str] | None,
    ) -> Operation[dict[str, Any]]:
        body: dict[str, Any] = {"uri": uri, "force": force, "use_http_11": use_http_11}
        if breaking:
            body["breaking"] = True
        if additional_headers:
            body["additional_headers"] = dict(additional_headers)
        request = self._request("POST", "/deployments", content=msgspec.json.encode(body), headers=_JSON)
        return Operation(request, _json)

    def _op_get(self, path: str, parse: Any = _json) -> Operation[Any]:
        return Operation(self._request("GET", path, headers={"accept": "application/json"}), parse)

    def _op_invocation(self, invocation_id: str, action: InvocationAction) -> Operation[None]:
        request = self._request("PATCH", f"/invocations/{segment(invocation_id)}/{action}")

        def parse(response: httpx.Response) -> None:
            check_response(response, invocation_id=invocation_id)

        return Operation(request, parse)

    def _op_query(self, sql: str) -> Operation[list[dict[str, Any]]]:
        request = self._request("POST", "/query", content=msgspec.json.encode({"query": sql}), headers=_JSON)
        return Operation(request, _items("rows"))

    def _op_health(self) -> Operation[bool]:
        return Operation(self._request("GET", "/health"), _healthy)


class AdminClient(SyncIO, _BaseAdminClient):
    """A blocking client for restate-server's admin API.

    Example::

        from restate_ingress import AdminClient

        with AdminClient("http://127.0.0.1:9070") as admin:
            admin.register_deployment("http://127.0.0.1:9080")
            [s["name"] for s in admin.list_services()]
            admin.cancel_invocation(invocation_id)
            admin.query("select id, status from sys_invocation")
    """

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            base_url, token=token, headers=headers, timeout=timeout, default_timeout=DEFAULT_ADMIN_TIMEOUT
        )
        self._open(transport, http_client)

    def register_deployment(
        self,
        uri: str,
        *,
        force: bool = True,
        use_http_11: bool = False,
        breaking: bool = False,
        additional_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register (or, with ``force``, re-register) the deployment at ``uri``; returns the server's
        answer (``id``, ``services``, ...). ``use_http_11`` for endpoints that do not speak h2c."""
        return self._run(
            self._op_register(
                uri,
                force=force,
                use_http_11=use_http_11,
                breaking=breaking,
                additional_headers=additional_headers,
            )
        )

    def list_deployments(self) -> list[dict[str, Any]]:
        """Every registered deployment."""
        return self._run(self._op_get("/deployments", _items("deployments")))

    def list_services(self) -> list[dict[str, Any]]:
        """Every registered service, with its handlers."""
        return self._run(self._op_get("/services", _items("services")))

    def get_service(self, name: str) -> dict[str, Any]:
        """One service (``NotFound`` if it is not registered)."""
        return self._run(self._op_get(f"/services/{segment(name)}"))

    def cancel_invocation(self, invocation_id: str) -> None:
        """Ask an invocation to cancel: it sees a TerminalError 409 at its next await and can compensate."""
        self._run(self._op_invocation(invocation_id, "cancel"))

    def kill_invocation(self, invocation_id: str) -> None:
        """Stop an invocation at once, without running any more of its code."""
        self._run(self._op_invocation(invocation_id, "kill"))

    def purge_invocation(self, invocation_id: str) -> None:
        """Forget a completed invocation (its result, journal and idempotency key)."""
        self._run(self._op_invocation(invocation_id, "purge"))

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run SQL over the server's introspection tables; one dict per row.

        Example: ``admin.query("select id, status, last_failure from sys_invocation")``.
        """
        return self._run(self._op_query(sql))

    def health(self) -> bool:
        """True when the admin API answers healthy; False when it answers otherwise or not at all."""
        try:
            return self._run(self._op_health())
        except IngressTransportError:
            return False

    def version(self) -> dict[str, Any]:
        """The server's version and supported admin API versions."""
        return self._run(self._op_get("/version"))


class AsyncAdminClient(AsyncIO, _BaseAdminClient):
    """The asyncio twin of ``AdminClient``.

    Example::

        async with AsyncAdminClient("http://127.0.0.1:9070") as admin:
            await admin.register_deployment("http://127.0.0.1:9080")
    """

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            base_url, token=token, headers=headers, timeout=timeout, default_timeout=DEFAULT_ADMIN_TIMEOUT
        )
        self._open(transport, http_client)

    async def register_deployment(
        self,
        uri: str,
        *,
        force: bool = True,
        use_http_11: bool = False,
        breaking: bool = False,
        additional_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register (or, with ``force``, re-register) the deployment at ``uri``."""
        return await self._run(
            self._op_register(
                uri,
                force=force,
                use_http_11=use_http_11,
                breaking=breaking,
                additional_headers=additional_headers,
            )
        )

    async def list_deployments(self) -> list[dict[str, Any]]:
        """Every registered deployment."""
        return await self._run(self._op_get("/deployments", _items("deployments")))

    async def list_services(self) -> list[dict[str, Any]]:
        """Every registered service, with its handlers."""
        return await self._run(self._op_get("/services", _items("services")))

    async def get_service(self, name: str) -> dict[str, Any]:
        """One service (``NotFound`` if it is not registered)."""
        return await self._run(self._op_get(f"/services/{segment(name)}"))

    async def cancel_invocation(self, invocation_id: str) -> None:
        """Ask an invocation to cancel (it sees a TerminalError 409)."""
        await self._run(self._op_invocation(invocation_id, "cancel"))

    async def kill_invocation(self, invocation_id: str) -> None:
        """Stop an invocation at once."""
        await self._run(self._op_invocation(invocation_id, "kill"))

    async def purge_invocation(self, invocation_id: str) -> None:
        """Forget a completed invocation."""
        await self._run(self._op_invocation(invocation_id, "purge"))

    async def query(self, sql: str) -> list[dict[str, Any]]:
        """Run SQL over the server's introspection tables; one dict per row."""
        return await self._run(self._op_query(sql))

    async def health(self) -> bool:
        """True when the admin API answers healthy; False otherwise."""
        try:
            return await self._run(self._op_health())
        except IngressTransportError:
            return False

    async def version(self) -> dict[str, Any]:
        """The server's version and supported admin API versions."""
        return await self._run(self._op_get("/version"))
