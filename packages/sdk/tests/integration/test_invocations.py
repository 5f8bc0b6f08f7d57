"""Issue acceptance: real invocations through restate-server, in every server configuration."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from restate_testing import RestateEnvironment

pytestmark = pytest.mark.integration


def call(client: httpx.Client, path: str, body: object = None) -> httpx.Response:
    if body is None:
        return client.post(path)
    return client.post(path, json=body)


def test_greeter(ingress: httpx.Client) -> None:
    r = call(ingress, "/Greeter/greet", "Ann")
    assert r.status_code == 200, r.text
    assert r.json() == "Hello Ann!"


def test_counter_50_concurrent_adds_on_one_key(ingress: httpx.Client) -> None:
    key = f"c-{uuid.uuid4().hex}"
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: call(ingress, f"/Counter/{key}/add", 1), range(50)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    assert sorted(r.json() for r in results) == list(range(1, 51))
    assert call(ingress, f"/Counter/{key}/current").json() == 50


def test_shared_handler_reads_state_and_clear_all(ingress: httpx.Client) -> None:
    key = f"s-{uuid.uuid4().hex}"
    assert call(ingress, f"/Counter/{key}/current").json() == 0
    call(ingress, f"/Counter/{key}/add", 7)
    assert call(ingress, f"/Counter/{key}/current").json() == 7
    assert call(ingress, f"/Counter/{key}/reset").json() == ["count"]
    assert call(ingress, f"/Counter/{key}/current").json() == 0


def test_workflow_runs_steps_and_waits_for_its_promise(ingress: httpx.Client) -> None:
    wf = f"o-{uuid.uuid4().hex}"
    sent = ingress.post(f"/OrderFlow/{wf}/process/send", json={"id": wf, "items": ["a", "b"]})
    assert sent.status_code == 202, sent.text
    deadline = time.time() + 30
    while call(ingress, f"/OrderFlow/{wf}/status").json() != "waiting-payment":
        assert time.time() < deadline
        time.sleep(0.05)
    assert call(ingress, f"/OrderFlow/{wf}/pay", "ann").status_code == 200
    out = ingress.get(f"/restate/workflow/OrderFlow/{wf}/attach")
    assert out.json() == f"{wf}: r-a,r-b paid by ann"
    assert call(ingress, f"/OrderFlow/{wf}/status").json() == "done"


def test_twenty_run_steps_execute_once_each(ingress: httpx.Client, tmp_path: Path) -> None:
    log = tmp_path / "steps.log"
    r = call(ingress, "/Steps/run_steps", {"count": 20, "log": str(log)})
    assert r.json() == sum(range(20))
    assert log.read_text().split() == [str(i) for i in range(20)]


def test_sleep(ingress: httpx.Client) -> None:
    started = time.monotonic()
    assert call(ingress, "/Steps/nap", 300).json() == "rested"
    assert time.monotonic() - started >= 0.3


def test_call_chain_service_object_service(ingress: httpx.Client) -> None:
    key = f"k-{uuid.uuid4().hex}"
    assert call(ingress, "/Steps/chain", key).json() == "Hello #1!"
    assert call(ingress, "/Steps/chain", key).json() == "Hello #2!"


def test_send_with_delay(ingress: httpx.Client) -> None:
    key = f"d-{uuid.uuid4().hex}"
    sent_at = time.monotonic()
    invocation_id = call(ingress, "/Steps/delayed_add", key).json()
    assert invocation_id.startswith("inv_")
    assert call(ingress, f"/Counter/{key}/current").json() == 0
    assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == 10
    assert time.monotonic() - sent_at >= 0.9
    assert call(ingress, f"/Counter/{key}/current").json() == 10


def test_two_sends_with_one_idempotency_key_execute_once(ingress: httpx.Client) -> None:
    key = f"i-{uuid.uuid4().hex}"
    first, second = call(ingress, "/Steps/send_twice", key).json()
    assert first == second
    assert ingress.get(f"/restate/invocation/{first}/attach").json() == 1
    assert call(ingress, f"/Counter/{key}/current").json() == 1


def test_terminal_error_with_metadata(ingress: httpx.Client) -> None:
    r = call(ingress, "/Steps/fail", "nope")
    assert r.status_code == 422
    assert r.json()["message"] == "nope"
    assert r.json().get("metadata") == {"why": "asked to"}


def test_wrong_input_type_is_a_400_naming_the_problem(ingress: httpx.Client) -> None:
    r = call(ingress, "/Counter/x/add", "not a number")
    assert r.status_code == 400
    assert "Expected `int`, got `str`" in r.json()["message"]


def test_plain_def_handler(ingress: httpx.Client) -> None:
    name = uuid.uuid4().hex[:8]
    assert call(ingress, "/Steps/sync_steps", name).json() == f"{name.upper()}:5"


def test_garbage_to_invoke_is_a_protocol_error_and_the_endpoint_keeps_serving(
    env: RestateEnvironment, ingress: httpx.Client
) -> None:
    endpoint = env.deployment_uri
    with httpx.Client(base_url=endpoint) as direct:
        r = direct.post(
            "/invoke/Greeter/greet",
            content=b"\xff" * 64,
            headers={"content-type": "application/vnd.restate.invocation.v6"},
        )
        assert r.status_code == 400
        assert "protocol violation" in r.text
        assert direct.post("/invoke/Nope/greet", content=b"").status_code == 404
        wrong = direct.post(
            "/invoke/Greeter/greet", content=b"", headers={"content-type": "application/json"}
        )
        assert wrong.status_code == 415
    assert call(ingress, "/Greeter/greet", "again").json() == "Hello again!"
