"""The discovery manifest (protocol.md §2): msgspec Structs whose wire names are camelCase.

Each option needs the manifest version that introduced it (v2: documentation and metadata; v3:
timeouts, retention, lazy state, ingress privacy; v4: retry policy). An option set on a service or
handler that the negotiated version cannot carry fails discovery (``ManifestTooOld``) instead of
being left out: dropping ``ingress_private`` would publish a private service.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Literal

import msgspec

from ._definitions import HandlerInfo, RetryPolicy, ServiceOptions, _Definition
from ._engine.engine import SUPPORTED_VERSIONS
from ._errors import SdkUsageError

__all__ = [
    "MANIFEST_VERSIONS",
    "Manifest",
    "ManifestTooOld",
    "build_manifest",
    "check_expressible",
    "manifest_content_type",
]

MANIFEST_VERSIONS = (4, 3, 2)  # preferred first
# the versions the engine speaks; restate-server without V7 enabled picks 6 (protocol-v7.md §2.2)
MIN_PROTOCOL, MAX_PROTOCOL = min(SUPPORTED_VERSIONS), max(SUPPORTED_VERSIONS)


class InputPayload(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    required: bool | None = None
    content_type: str | None = None
    json_schema: dict[str, Any] | None = None


class OutputPayload(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    content_type: str | None = None
    set_content_type_if_empty: bool = False
    json_schema: dict[str, Any] | None = None


class _Options(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    documentation: str | None = None
    metadata: dict[str, str] | None = None
    inactivity_timeout: int | None = None
    abort_timeout: int | None = None
    journal_retention: int | None = None
    idempotency_retention: int | None = None
    enable_lazy_state: bool | None = None
    ingress_private: bool | None = None
    retry_policy_initial_interval: int | None = None
    retry_policy_max_interval: int | None = None
    retry_policy_max_attempts: int | None = None
    retry_policy_exponentiation_factor: float | None = None
    retry_policy_on_max_attempts: Literal["PAUSE", "KILL"] | None = None


class Handler(_Options, kw_only=True):
    name: str
    ty: Literal["WORKFLOW", "EXCLUSIVE", "SHARED"] | None = None
    input: InputPayload | None = None
    output: OutputPayload | None = None
    workflow_completion_retention: int | None = None


class Service(_Options, kw_only=True):
    name: str
    ty: Literal["VIRTUAL_OBJECT", "SERVICE", "WORKFLOW"]
    handlers: list[Handler]


class Manifest(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    protocol_mode: Literal["BIDI_STREAM", "REQUEST_RESPONSE"]
    min_protocol_version: int
    max_protocol_version: int
    services: list[Service]


def manifest_content_type(version: int) -> str:
    return f"application/vnd.restate.endpointmanifest.v{version}+json"


def _ms(d: timedelta | None) -> int | None:
    return None if d is None else int(d.total_seconds() * 1000)


class ManifestTooOld(SdkUsageError):
    """The negotiated manifest version cannot carry an option the services set."""


# the manifest version each option needs (protocol.md §2.4)
_NEEDS: dict[str, int] = {
    "documentation": 2,
    "metadata": 2,
    "inactivity_timeout": 3,
    "abort_timeout": 3,
    "journal_retention": 3,
    "idempotency_retention": 3,
    "workflow_retention": 3,
    "ingress_private": 3,
    "enable_lazy_state": 3,
    "retry_policy": 4,
}


def _too_new(opts: ServiceOptions, version: int) -> list[str]:
    return [
        f"{name}= (needs v{needs})"
        for name, needs in _NEEDS.items()
        if needs > version and opts.get(name) not in (None, {})
    ]


def check_expressible(services: Iterable[_Definition], version: int) -> None:
    """``ManifestTooOld`` naming every option set that manifest ``version`` cannot carry."""
    problems: list[str] = []
    for s in services:
        problems += [f"service {s.name}: {p}" for p in _too_new(s.options, version)]
        for h in s.handlers.values():
            problems += [f"handler {s.name}.{h.name}: {p}" for p in _too_new(h.options, version)]
    if problems:
        raise ManifestTooOld(
            f"restate-server asked for discovery manifest v{version} (v4 is the newest this SDK serves), "
            f"which cannot carry these options: {'; '.join(problems)}. Leaving them out would change what "
            "the services do, so discovery fails: upgrade restate-server (1.7 speaks v4), or "
            "remove the options."
        )


def _options(opts: ServiceOptions, version: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if version >= 2:
        out["documentation"] = opts.get("documentation")
        metadata = opts.get("metadata")
        out["metadata"] = dict(metadata) if metadata else None
    if version >= 3:
        out["inactivity_timeout"] = _ms(opts.get("inactivity_timeout"))
        out["abort_timeout"] = _ms(opts.get("abort_timeout"))
        out["journal_retention"] = _ms(opts.get("journal_retention"))
        out["idempotency_retention"] = _ms(opts.get("idempotency_retention"))
        out["enable_lazy_state"] = opts.get("enable_lazy_state")
        out["ingress_private"] = opts.get("ingress_private")
    rp: RetryPolicy | None = opts.get("retry_policy")
    if version >= 4 and rp is not None:
        out["retry_policy_initial_interval"] = _ms(rp.initial_interval)
        out["retry_policy_max_interval"] = _ms(rp.max_interval)
        out["retry_policy_max_attempts"] = rp.max_attempts
        out["retry_policy_exponentiation_factor"] = rp.exponentiation_factor
        out["retry_policy_on_max_attempts"] = rp.on_max_attempts.upper() if rp.on_max_attempts else None
    return out


_SERVICE_TY: dict[str, Literal["VIRTUAL_OBJECT", "SERVICE", "WORKFLOW"]] = {
    "service": "SERVICE",
    "object": "VIRTUAL_OBJECT",
    "workflow": "WORKFLOW",
}
_HANDLER_TY: dict[str | None, Literal["WORKFLOW", "EXCLUSIVE", "SHARED"] | None] = {
    None: None,
    "exclusive": "EXCLUSIVE",
    "shared": "SHARED",
    "workflow": "WORKFLOW",
}


def _handler(info: HandlerInfo, version: int) -> Handler:
    opts = _options(info.options, version)
    if version >= 3 and info.kind == "workflow":
        opts["workflow_completion_retention"] = _ms(info.options.get("workflow_retention"))
        opts.pop("idempotency_retention", None)  # the server rejects it on the workflow handler
    if info.has_input:
        inp = InputPayload(
            required=False, content_type=info.accept, json_schema=info.input_serde.json_schema()
        )
    else:
        inp = InputPayload()
    if info.output_type is type(None):
        out = OutputPayload(set_content_type_if_empty=False)
    else:
        out = OutputPayload(
            content_type=info.output_serde.content_type, json_schema=info.output_serde.json_schema()
        )
    return Handler(name=info.name, ty=_HANDLER_TY[info.kind], input=inp, output=out, **opts)


def build_manifest(
    services: Iterable[_Definition],
    version: int,
    protocol_mode: Literal["BIDI_STREAM", "REQUEST_RESPONSE"],
) -> Manifest:
    """The manifest for ``version``; ``ManifestTooOld`` if it cannot carry an option that is set."""
    services = list(services)
    check_expressible(services, version)
    return Manifest(
        protocol_mode=protocol_mode,
        min_protocol_version=MIN_PROTOCOL,
        max_protocol_version=MAX_PROTOCOL,
        services=[
            Service(
                name=s.name,
                ty=_SERVICE_TY[s.kind],
                handlers=[_handler(h, version) for h in s.handlers.values()],
                **_options(s.options, version),
            )
            for s in services
        ],
    )


def negotiate(accept: str | None) -> int | None:
    """The manifest version to answer with: the highest we support that ``accept`` lists."""
    if not accept:
        return 2
    offered = {part.split(";")[0].strip() for part in accept.split(",")}
    for v in MANIFEST_VERSIONS:
        if manifest_content_type(v) in offered:
            return v
    return None
