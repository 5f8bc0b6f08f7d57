"""``python -m examples.signup_workflow``: sign Ann up, click a forged link, then the real one."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from restate_ingress import Client, IngressError

from examples._runner import check, main

from .app import NewUser, app, click, mailbox, run, status


def confirmation_secret(address: str, timeout: float = 10) -> str:
    """Wait for the confirmation mail and take the secret out of its link."""
    deadline = time.monotonic() + timeout
    while not (mails := mailbox(address)):
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail arrived for {address}")
        time.sleep(0.05)
    print(f"  mail to {address}: {mails[-1]}", flush=True)
    return mails[-1].rsplit("secret=", 1)[1]


def settled(probe: Callable[[], str], transient: str, timeout: float = 10) -> str:
    """Poll ``probe`` while it returns ``transient`` (state written after the mail lands a moment later)."""
    deadline = time.monotonic() + timeout
    while (value := probe()) == transient and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def scenario(client: Client) -> None:
    workflow = client.workflow(run, "ann")
    sent = workflow.submit(NewUser(name="Ann", email="ann@example.com"))
    print(f"  Signup/ann submitted: {sent.invocation_id}", flush=True)
    secret = confirmation_secret("ann@example.com")
    check(
        "Signup/ann status()", settled(lambda: workflow.call(status), "starting"), "waiting for confirmation"
    )
    try:
        workflow.call(click, "forged-secret")
        raise AssertionError("a forged link was accepted")
    except IngressError as error:
        check('Signup/ann click("forged-secret") refused', error.code, 403)
    workflow.call(click, secret)
    check("Signup/ann result", workflow.attach(), True)
    check("Signup/ann status()", workflow.call(status), "active")


if __name__ == "__main__":
    sys.exit(main(app, scenario, name="signup_workflow"))
