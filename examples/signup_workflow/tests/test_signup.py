"""The signup workflow through a real restate-server (binary backend)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from restate_ingress import Client, IngressError
from restate_testing import RestateEnvironment

from examples._runner import eventually
from examples.signup_workflow import app as signup_module
from examples.signup_workflow.app import NewUser, account, app, click, mailbox, run, status

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with RestateEnvironment(app, backend="binary") as env:
        yield env.client


def start(client: Client) -> tuple[str, str, str]:
    """Submit a signup; wait for its mail; return (workflow key, address, secret)."""
    key = f"user-{uuid.uuid4().hex[:8]}"
    address = f"{key}@example.com"
    client.workflow(run, key).submit(NewUser(name=key, email=address))
    mails = eventually(lambda: mailbox(address), bool)
    assert len(mails) == 1, mails
    assert eventually(lambda: client.workflow(run, key).call(status), lambda s: s != "starting") == (
        "waiting for confirmation"
    )
    return key, address, mails[0].rsplit("secret=", 1)[1]


def test_confirmed_signup_activates_the_account(client: Client) -> None:
    key, _, secret = start(client)
    assert account(key) == "pending"
    workflow = client.workflow(run, key)
    workflow.call(click, secret)
    assert workflow.attach() is True
    assert workflow.call(status) == "active"
    assert account(key) == "active"


def test_a_forged_link_is_refused_and_the_workflow_keeps_waiting(client: Client) -> None:
    key, _, secret = start(client)
    workflow = client.workflow(run, key)
    with pytest.raises(IngressError) as refused:
        workflow.call(click, "not-the-secret")
    assert refused.value.code == 403
    assert workflow.call(status) == "waiting for confirmation"
    workflow.call(click, secret)
    assert workflow.attach() is True


def test_the_workflow_runs_once_per_key(client: Client) -> None:
    key, address, secret = start(client)
    again = client.workflow(run, key).submit(NewUser(name="someone else", email=address))
    assert again.status == "PreviouslyAccepted"
    client.workflow(run, key).call(click, secret)
    assert client.workflow(run, key).attach() is True
    assert len(mailbox(address)) == 1  # no second mail


def test_an_unconfirmed_signup_expires(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signup_module, "CONFIRMATION_WINDOW", timedelta(seconds=1))
    key, _, _ = start(client)
    assert client.workflow(run, key).attach() is False
    assert client.workflow(run, key).call(status) == "expired"
    assert account(key) == "deleted"
