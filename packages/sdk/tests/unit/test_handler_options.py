"""Handler options: declared once, typed, stored for discovery; unknown ones fail clearly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import restate_sdk as restate
from restate_sdk import Context, SdkUsageError, handler_info
from restate_sdk._discovery import build_manifest


def test_options_reach_the_handler_and_the_service() -> None:
    svc = restate.Service("OptionsA", description="the service", journal_retention=timedelta(days=1))

    @svc.handler(documentation="says hi", inactivity_timeout=timedelta(seconds=5), ingress_private=True)
    async def hi(ctx: Context) -> str:
        return "hi"

    info = handler_info(hi)
    assert info.options == {
        "documentation": "says hi",
        "inactivity_timeout": timedelta(seconds=5),
        "ingress_private": True,
    }
    assert svc.options == {"documentation": "the service", "journal_retention": timedelta(days=1)}


def test_codec_options_are_used_not_stored() -> None:
    svc = restate.Service("OptionsB")

    @svc.handler(accept="text/plain", input_serde=restate.BytesSerde())
    async def raw(ctx: Context, data: bytes) -> None:
        return None

    info = handler_info(raw)
    assert info.accept == "text/plain"
    assert isinstance(info.input_serde, restate.BytesSerde)
    assert "accept" not in info.options


@pytest.mark.parametrize(
    ("make", "bad"),
    [
        (lambda: restate.Service("OptionsC").handler(timeout=1), "timeout"),
        (lambda: restate.Service("OptionsD").handler(enable_lazy_state=True), "enable_lazy_state"),
        (
            lambda: restate.Workflow("OptionsE").main(idempotency_retention=timedelta(1)),
            "idempotency_retention",
        ),
        (lambda: restate.VirtualObject("OptionsF", documentation="x"), "documentation"),
    ],
)
def test_an_unknown_option_fails_and_names_the_valid_ones(make: Any, bad: str) -> None:
    with pytest.raises(SdkUsageError, match=f"unknown option.*'{bad}'.*the options are: "):
        make()


def test_discovery_reads_the_stored_options() -> None:
    flow = restate.Workflow("OptionsFlow", description="a flow", enable_lazy_state=True)

    @flow.main(workflow_retention=timedelta(days=2), retry_policy=restate.RetryPolicy(max_attempts=3))
    async def run(ctx: restate.WorkflowContext) -> None:
        return None

    service = build_manifest([flow], 4, "BIDI_STREAM").services[0]
    assert service.documentation == "a flow"
    assert service.enable_lazy_state is True
    handler = service.handlers[0]
    assert handler.workflow_completion_retention == 2 * 24 * 3600 * 1000
    assert handler.retry_policy_max_attempts == 3
