"""Look into restate-server from a test: an object's state (read and write) and an invocation's journal.

Reads go through the admin API's SQL query endpoint (the ``state`` and ``sys_journal`` tables);
writes through its state endpoint (``POST /services/{name}/state``), which replaces the key's whole
state and is applied asynchronously, so :meth:`ObjectState.set` waits until a read sees it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, TypeVar, cast, overload

import httpx
from restate_ingress import AdminClient, ServerError
from restate_sdk import Serde, serde_for

__all__ = ["JournalEntry", "ObjectState", "read_journal"]

T = TypeVar("T")

_APPLY_TIMEOUT = 10.0
_KEYED = ("VirtualObject", "Workflow")


def _sql(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class ObjectState:
    """The state of one virtual object or workflow key, as restate-server stores it.

    ::

        state = env.state("Counter", "a")
        state.all()                          # {"count": 3}
        state.get("count", type_hint=int)    # 3
        state.set("count", 10)               # the next invocation on "a" sees 10

    Values are encoded and decoded as the SDK does for ``ctx.get``/``ctx.set`` (JSON by default,
    pydantic models through pydantic, bytes as they are). Do not write a key's state while an
    invocation on that key is running: the write replaces the whole state.
    """

    def __init__(self, admin: AdminClient, service: str, key: str) -> None:
        self.admin = admin
        self.service = service
        self.key = key

    def __repr__(self) -> str:
        return f"ObjectState({self.service!r}, {self.key!r})"

    def raw(self) -> dict[str, bytes]:
        """Every entry as the stored bytes."""
        rows = self.admin.query(
            "select key, value from state "
            f"where service_name = {_sql(self.service)} and service_key = {_sql(self.key)}"
        )
        return {str(row["key"]): bytes.fromhex(str(row["value"])) for row in rows}

    def all(self) -> dict[str, Any]:
        """Every entry, decoded from JSON (an entry that is not JSON stays bytes)."""
        decoded: dict[str, Any] = {}
        for name, value in self.raw().items():
            try:
                decoded[name] = json.loads(value)
            except ValueError:
                decoded[name] = value
        return decoded

    @overload
    def get(self, name: str) -> Any: ...
    @overload
    def get(self, name: str, *, type_hint: type[T]) -> T | None: ...
    @overload
    def get(self, name: str, *, serde: Serde[T]) -> T | None: ...
    def get(self, name: str, *, type_hint: Any = None, serde: Serde[Any] | None = None) -> Any:
        """The entry ``name`` decoded as ``type_hint`` (or by ``serde``); None when it is not set."""
        value = self.raw().get(name)
        if value is None:
            return None
        return (serde or serde_for(Any if type_hint is None else type_hint)).decode(value)

    def set(self, name: str, value: Any, *, serde: Serde[Any] | None = None) -> None:
        """Set the entry ``name`` (the others stay) and wait until restate-server has applied it."""
        self._check_keyed()
        encoded = (serde or serde_for(type(value))).encode(value)
        state = {**self.raw(), name: encoded}
        response = httpx.post(
            f"{self.admin.base_url}/services/{self.service}/state",
            headers=self.admin.headers,
            json={"object_key": self.key, "new_state": {k: list(v) for k, v in state.items()}},
            timeout=30.0,
        )
        if response.status_code >= 300:
            raise RuntimeError(
                f"setting state of {self.service}/{self.key} failed: {response.status_code} {response.text}"
            )
        deadline = time.monotonic() + _APPLY_TIMEOUT
        while self.raw().get(name) != encoded:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"restate-server did not apply the state of {self.service}/{self.key} "
                    f"within {_APPLY_TIMEOUT:.0f}s"
                )
            time.sleep(0.05)

    def _check_keyed(self) -> None:
        # The state endpoint accepts (and ignores) writes for services it does not know.
        service = self.admin.get_service(self.service)
        if service.get("ty") not in _KEYED:
            raise ValueError(
                f"{self.service} is a {service.get('ty')}; only virtual objects and workflows have state"
            )


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One entry of an invocation's journal, as restate-server recorded it.

    ``kind`` is the entry's type without its category: ``"Input"``, ``"Run"``, ``"Sleep"``,
    ``"Call"``, ``"SetState"``, ``"Output"``... ``notification`` tells a completion (the result of a
    ``Run``, a ``Sleep`` that fired) from the command that asked for it. ``completed`` is False only
    for a command still waiting for its result. ``name`` is the name given to ``ctx.run``, a
    promise or a signal, else None.
    """

    index: int
    kind: str
    name: str | None
    completed: bool
    notification: bool
    entry_type: str
    """The server's own label, e.g. ``"Command: Run"``."""


def read_journal(admin: AdminClient, invocation_id: str) -> list[JournalEntry]:
    """The journal of ``invocation_id``, oldest entry first."""
    try:
        rows = admin.query(
            "select index, entry_type, name, completed, entry_lite_json from sys_journal "
            f"where id = {_sql(invocation_id)} order by index"
        )
    except ServerError as error:
        if "invocation id" in str(error):
            raise ValueError(f"{invocation_id!r} is not an invocation id (inv_...)") from error
        raise
    completed_ids = {
        completion for row in rows if (completion := _completion_id(row, "Notification")) is not None
    }
    entries: list[JournalEntry] = []
    for row in rows:
        entry_type = str(row["entry_type"])
        category, _, kind = entry_type.rpartition(": ")
        awaiting = _completion_id(row, "Command")
        if "completed" in row and row["completed"] is not None:
            completed = bool(row["completed"])  # journals of protocol versions before commands
        else:
            completed = awaiting is None or awaiting in completed_ids
        entries.append(
            JournalEntry(
                index=int(row["index"]),
                kind=kind,
                name=str(row.get("name") or "") or None,
                completed=completed,
                notification=category == "Notification",
                entry_type=entry_type,
            )
        )
    return entries


def _completion_id(row: dict[str, Any], category: str) -> int | None:
    """The completion id a command waits for, or the one a notification completes."""
    try:
        entry: Any = json.loads(str(row.get("entry_lite_json") or "{}"))
    except ValueError:
        return None
    body = cast("dict[str, Any]", entry).get(category) if isinstance(entry, dict) else None
    if not isinstance(body, dict):
        return None
    fields = cast("dict[str, Any]", body)
    if category == "Notification":
        ident = fields.get("id")
        if isinstance(ident, dict) and "CompletionId" in ident:
            return int(cast("dict[str, Any]", ident)["CompletionId"])
        return None
    for command in fields.values():
        if isinstance(command, dict):
            found = cast("dict[str, Any]", command)
            # A call waits for two completions (its invocation id, then its result): the result counts.
            for field in ("result_completion_id", "completion_id"):
                if field in found:
                    return int(found[field])
    return None
