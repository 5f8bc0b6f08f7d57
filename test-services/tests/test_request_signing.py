"""Request identity: the services accept only requests signed with the contract's key.

Every configured restate-server signs with that key (see conftest), so every other test proves that
signed requests get through; these tests check that unsigned ones do not.
"""

from __future__ import annotations

import httpx
import pytest
from harness import ServicesProcess
from restate_ingress import AdminClient, IngressError
from restate_testing import RestateServer

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("path", ["/discover", "/invoke/TestUtilsService/echo"])
def test_unsigned_request_is_rejected(services: ServicesProcess, path: str) -> None:
    response = httpx.post(
        f"{services.url}{path}",
        headers={"content-type": "application/vnd.restate.invocation.v5"},
        content=b"",
    )
    assert response.status_code == 401


def test_badly_signed_request_is_rejected(services: ServicesProcess) -> None:
    response = httpx.get(
        f"{services.url}/discover",
        headers={"x-restate-signature-scheme": "v1", "x-restate-jwt-v1": "a.b.c"},
    )
    assert response.status_code == 401


def test_health_needs_no_signature(services: ServicesProcess) -> None:
    assert httpx.get(f"{services.url}/health").status_code == 200


def test_server_without_the_key_cannot_register(services: ServicesProcess) -> None:
    with RestateServer(backend="binary") as server, AdminClient(server.admin_url) as admin:
        with pytest.raises(IngressError) as error:
            admin.register_deployment(services.url, force=True)
        assert "401" in str(error.value)
