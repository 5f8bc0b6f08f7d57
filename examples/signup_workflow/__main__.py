"""``python -m examples.signup_workflow``: sign Ann up, click a forged link, then the real one."""

from __future__ import annotations

import sys

from restate_ingress import Client, IngressError

from examples._runner import check, eventually, main

from .app import NewUser, app, click, mailbox, run, status


def confirmation_secret(address: str) -> str:
    """Wait for the confirmation mail and take the secret out of its link."""
    mails = eventually(lambda: mailbox(address))
    if not mails:
        raise AssertionError(f"no mail arrived for {address}")
    print(f"  mail to {address}: {mails[-1]}", flush=True)
    return mails[-1].rsplit("secret=", 1)[1]


def scenario(client: Client) -> None:
    workflow = client.workflow(run, "ann")
    sent = workflow.submit(NewUser(name="Ann", email="ann@example.com"))
    print(f"  Signup/ann submitted: {sent.invocation_id}", flush=True)
    secret = confirmation_secret("ann@example.com")
    # The status is written just after the mail goes out: it may lag a moment behind the mail.
    current = eventually(lambda: workflow.call(status), lambda s: s != "starting")
    check("Signup/ann status()", current, "waiting for confirmation")
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
