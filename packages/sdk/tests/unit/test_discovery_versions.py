"""Discovery refuses an option the negotiated manifest version cannot carry, instead of dropping it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, cast

import pytest
import restate_sdk as restate
from restate_sdk._definitions import ServiceOptions
from restate_sdk._discovery import _NEEDS, MANIFEST_VERSIONS, ManifestTooOld, build_manifest

VALUES: dict[str, Any] = {
    "documentation": "docs",
    "metadata": {"k": "v"},
    "inactivity_timeout": timedelta(seconds=1),
    "abort_timeout": timedelta(seconds=2),
    "journal_retention": timedelta(days=1),
    "idempotency_retention": timedelta(days=1),
    "workflow_retention": timedelta(days=1),
    "ingress_private": True,
    "enable_lazy_state": True,
    "retry_policy": restate.RetryPolicy(max_attempts=3),
}


def test_every_option_knows_the_version_it_needs() -> None:
    # an option added to ServiceOptions without a version would be sent, or dropped, unchecked
    assert set(ServiceOptions.__optional_keys__) == set(_NEEDS) == set(VALUES)


def with_option(option: str, on: str) -> restate.Service:
    """A service whose own options, or its handler's, set just ``option`` (the check reads only these)."""
    svc = restate.Service("Svc")

    @svc.handler()
    async def go(ctx: restate.Context) -> None: ...

    options = cast("ServiceOptions", {option: VALUES[option]})
    if on == "service":
        svc.options = options
    else:
        svc.handlers["go"] = dataclasses.replace(svc.handlers["go"], options=options)
    return svc


@pytest.mark.parametrize("on", ["service", "handler"])
@pytest.mark.parametrize("option", sorted(VALUES))
@pytest.mark.parametrize("version", MANIFEST_VERSIONS)
def test_each_option_is_refused_below_its_version_and_sent_from_it(
    option: str, version: int, on: str
) -> None:
    svc = with_option(option, on)
    needs = _NEEDS[option]
    if version < needs:
        with pytest.raises(ManifestTooOld) as info:
            build_manifest([svc], version, "BIDI_STREAM")
        where = "service Svc" if on == "service" else "handler Svc.go"
        assert f"{where}: {option}= (needs v{needs})" in str(info.value)
        assert isinstance(info.value, restate.SdkUsageError)
    else:
        assert build_manifest([svc], version, "BIDI_STREAM").services[0].name == "Svc"


def test_the_error_lists_every_problem_and_the_version_asked_for() -> None:
    svc = restate.Service("Private", ingress_private=True, retry_policy=restate.RetryPolicy(max_attempts=2))

    @svc.handler(abort_timeout=timedelta(seconds=3))
    async def go(ctx: restate.Context) -> None: ...

    with pytest.raises(ManifestTooOld) as info:
        build_manifest([svc], 2, "REQUEST_RESPONSE")
    text = str(info.value)
    assert text.startswith(
        "restate-server asked for discovery manifest v2 (v4 is the newest this SDK serves)"
    )
    assert "service Private: ingress_private= (needs v3); service Private: retry_policy= (needs v4)" in text
    assert "handler Private.go: abort_timeout= (needs v3)" in text
    with pytest.raises(ManifestTooOld) as info:
        build_manifest([svc], 3, "REQUEST_RESPONSE")
    assert "manifest v3" in str(info.value)
    assert "retry_policy= (needs v4)" in str(info.value)
    assert "ingress_private" not in str(info.value)


def test_unset_and_empty_options_need_nothing() -> None:
    svc = restate.Service("Bare", metadata={})

    @svc.handler(ingress_private=None)
    async def go(ctx: restate.Context) -> None: ...

    assert build_manifest([svc], 2, "BIDI_STREAM").services[0].name == "Bare"
