"""The conformance-contract services, by name."""

from __future__ import annotations

from restate_sdk import Service, VirtualObject, Workflow

from .awakeable_holder import awakeable_holder
from .block_and_wait_workflow import block_and_wait_workflow
from .cancel_test import cancel_test_blocking_service, cancel_test_runner
from .counter import counter, list_object, map_object
from .failing import failing
from .interpreter import virtual_object_command_interpreter
from .interpreter_layers import object_interpreters, service_interpreter_helper
from .kill_test import kill_test_runner, kill_test_singleton
from .non_deterministic import non_deterministic
from .proxy import proxy
from .test_utils import test_utils

__all__ = ["ALL_SERVICES", "select"]

ALL_SERVICES: dict[str, Service | VirtualObject | Workflow] = {
    s.name: s
    for s in (
        awakeable_holder,
        block_and_wait_workflow,
        cancel_test_blocking_service,
        cancel_test_runner,
        counter,
        failing,
        kill_test_runner,
        kill_test_singleton,
        list_object,
        map_object,
        non_deterministic,
        proxy,
        test_utils,
        virtual_object_command_interpreter,
        service_interpreter_helper,
        *object_interpreters,
    )
}


def select(names: str | None) -> list[Service | VirtualObject | Workflow]:
    """The services named in a comma-separated list (all of them when it is empty or None)."""
    wanted = [n.strip() for n in (names or "").split(",") if n.strip()]
    if not wanted:
        return list(ALL_SERVICES.values())
    unknown = [n for n in wanted if n not in ALL_SERVICES]
    if unknown:
        raise SystemExit(
            f"unknown service(s) in SERVICES: {', '.join(unknown)}; known: {', '.join(ALL_SERVICES)}"
        )
    return [ALL_SERVICES[n] for n in wanted]
