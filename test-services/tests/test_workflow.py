"""Workflow API: the main handler blocks on a durable promise that a shared handler resolves."""

from __future__ import annotations

import pytest
from harness import wait_until
from restate_ingress import Client, IngressError, NotReady

pytestmark = pytest.mark.integration


def test_block_and_wait_workflow(client: Client, key: str) -> None:
    wf = client.workflow("BlockAndWaitWorkflow", key)
    assert wf.call("getState") is None
    handle = wf.submit("Francesco")
    assert handle.invocation_id is not None and handle.status == "Accepted"
    wait_until(lambda: wf.call("getState") == "Francesco", what="the workflow to store its input")
    with pytest.raises(NotReady):
        wf.output()

    wf.call("unblock", "Till")

    assert wf.attach() == "Till"
    assert wf.output() == "Till"
    assert wf.call("getState") == "Francesco"
    assert wf.submit("Francesco").status == "PreviouslyAccepted"


def test_workflow_runs_once(client: Client, key: str) -> None:
    wf = client.workflow("BlockAndWaitWorkflow", key)
    wf.submit("first")
    wf.call("unblock", "done")
    assert wf.attach() == "done"
    with pytest.raises(IngressError) as error:
        client.object("BlockAndWaitWorkflow", key).call("run", "second")
    assert error.value.status == 409
