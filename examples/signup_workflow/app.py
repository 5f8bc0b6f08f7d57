"""The Signup workflow, with pretend user-database and mail services."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import restate_sdk as restate

__all__ = ["CONFIRMATION_WINDOW", "NewUser", "account", "app", "click", "mailbox", "run", "signup", "status"]

CONFIRMATION_WINDOW = timedelta(days=1)
"""How long the link stays valid; the workflow waits durably all this time, holding no process."""


@dataclass
class NewUser:
    name: str
    email: str


# ---- stand-ins for a user database and a mail service ------------------------------------------

_lock = threading.Lock()
_accounts: dict[str, str] = {}  # user id -> "pending" | "active" | "deleted"
_mails: dict[str, list[str]] = {}  # address -> bodies


def save_account(user_id: str, state: str) -> None:
    with _lock:
        _accounts[user_id] = state


def send_mail(address: str, body: str) -> None:
    with _lock:
        _mails.setdefault(address, []).append(body)


def account(user_id: str) -> str | None:
    """The account's state: "pending", "active", "deleted", or None if there is none."""
    with _lock:
        return _accounts.get(user_id)


def mailbox(address: str) -> list[str]:
    """The mails sent to ``address`` so far (where a test or the demo finds the link)."""
    with _lock:
        return list(_mails.get(address, []))


# ---- the workflow ----------------------------------------------------------------------------------

signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, user: NewUser) -> bool:
    """Sign ``user`` up under the workflow key; True once the address is confirmed, False if the
    link expired."""
    user_id = ctx.key()
    secret = str(ctx.uuid())  # deterministic: a replay mails the same link
    ctx.set("secret", secret)  # click() checks links against it
    # Once a run's result is back, the server has stored every step before it (the secret too).
    await ctx.run("create account", save_account, user_id, "pending")

    link = f"https://example.com/confirm?user={user_id}&secret={secret}"
    await ctx.run("send confirmation mail", send_mail, user.email, f"Hi {user.name}, confirm: {link}")
    ctx.set("status", "waiting for confirmation")

    confirmed = ctx.promise("email-confirmed", type_hint=bool).value()
    expired = ctx.sleep(CONFIRMATION_WINDOW)
    if await restate.wait_first(confirmed, expired) is expired:
        await ctx.run("delete account", save_account, user_id, "deleted")
        ctx.set("status", "expired")
        return False

    await confirmed
    await ctx.run("activate account", save_account, user_id, "active")
    ctx.set("status", "active")
    return True


@signup.handler()
async def click(ctx: restate.WorkflowSharedContext, secret: str) -> None:
    """The user clicked the link: resolve the promise the workflow waits on, if the secret matches."""
    if secret != await ctx.get("secret", type_hint=str):
        raise restate.TerminalError("this confirmation link is not valid", status_code=403)
    await ctx.promise("email-confirmed", type_hint=bool).resolve(True)


@signup.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str:
    """Where the signup stands: "waiting for confirmation", "active", "expired" (or "starting")."""
    return await ctx.get("status", type_hint=str) or "starting"


app = restate.app([signup])
