"""A small admin API client (httpx), used until restate_ingress ships its AdminClient."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Self

import httpx

__all__ = ["AdminError", "SimpleAdminClient"]


class AdminError(RuntimeError):
    """The admin API answered with an error."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(f"{message}: {status} {body}")
        self.status = status
        self.body = body


class SimpleAdminClient:
    """Registers deployments and manages invocations through restate-server's admin API."""

    def __init__(self, admin_url: str, *, timeout: float = 30.0) -> None:
        self.admin_url = admin_url.rstrip("/")
        self._http = httpx.Client(base_url=self.admin_url, timeout=timeout)

    def register_deployment(
        self, uri: str, *, force: bool = True, use_http_11: bool = False
    ) -> dict[str, Any]:
        """Register (or with ``force``, overwrite) the deployment at ``uri``; returns the server's answer.

        The server runs discovery against ``uri`` before answering. 5xx answers are retried for a few
        seconds: right after startup the admin may not have a leader yet.
        """
        body = {"uri": uri, "force": force, "use_http_11": use_http_11}
        deadline = time.monotonic() + 10.0
        while True:
            response = self._http.post("/deployments", json=body)
            if response.status_code in (200, 201):
                result: dict[str, Any] = response.json()
                return result
            if response.status_code < 500 or time.monotonic() > deadline:
                raise AdminError(f"registering {uri} failed", response.status_code, response.text)
            time.sleep(0.2)

    def list_services(self) -> list[dict[str, Any]]:
        """The registered services, as the admin API describes them."""
        response = self._http.get("/services")
        self._check(response, "listing services")
        services: list[dict[str, Any]] = response.json()["services"]
        return services

    def cancel_invocation(self, invocation_id: str) -> None:
        """Ask the server to cancel an invocation."""
        self._check(self._http.patch(f"/invocations/{invocation_id}/cancel"), f"cancelling {invocation_id}")

    def kill_invocation(self, invocation_id: str) -> None:
        """Kill an invocation without running its compensations."""
        self._check(self._http.patch(f"/invocations/{invocation_id}/kill"), f"killing {invocation_id}")

    def health(self) -> bool:
        """True when the admin API reports healthy."""
        try:
            return self._http.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @staticmethod
    def _check(response: httpx.Response, action: str) -> None:
        if response.status_code >= 400:
            raise AdminError(f"{action} failed", response.status_code, response.text)
