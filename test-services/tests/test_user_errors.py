"""User errors: terminal failures (with metadata) reach the caller; retryable ones are retried."""

from __future__ import annotations

import uuid

import pytest
from restate_ingress import Client, IngressError

pytestmark = pytest.mark.integration

METADATA = {"key1": "value1", "key2": "value2"}


def _failure(message: str, metadata: dict[str, str] | None) -> dict[str, object]:
    failure: dict[str, object] = {"errorMessage": message}
    if metadata:
        failure["metadata"] = metadata
    return failure


@pytest.mark.parametrize("metadata", [None, METADATA], ids=["plain", "metadata"])
def test_terminally_failing_call(client: Client, key: str, metadata: dict[str, str] | None) -> None:
    message = f"failure-{uuid.uuid4()}"
    with pytest.raises(IngressError) as error:
        client.object("Failing", key).call("terminallyFailingCall", _failure(message, metadata))
    assert error.value.message == message
    assert error.value.status == 500
    assert (error.value.metadata or {}) == (metadata or {})


@pytest.mark.parametrize("metadata", [None, METADATA], ids=["plain", "metadata"])
def test_fail_several_times(client: Client, key: str, metadata: dict[str, str] | None) -> None:
    for i in range(3):
        with pytest.raises(IngressError) as error:
            client.object("Failing", key).call("terminallyFailingCall", _failure(f"again {i}", metadata))
        assert error.value.message == f"again {i}"
        assert (error.value.metadata or {}) == (metadata or {})


@pytest.mark.parametrize("metadata", [None, METADATA], ids=["plain", "metadata"])
def test_internal_call_failure_propagation(client: Client, key: str, metadata: dict[str, str] | None) -> None:
    with pytest.raises(IngressError) as error:
        client.object("Failing", key).call("callTerminallyFailingCall", _failure("propagated", metadata))
    assert error.value.message == "propagated"
    assert (error.value.metadata or {}) == (metadata or {})


def test_invocation_with_eventual_success(client: Client, key: str) -> None:
    assert client.object("Failing", key).call("failingCallWithEventualSuccess") == 4
