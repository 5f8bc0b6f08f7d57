"""Restate SDK for Python (interim surface while the core lands)."""

from __future__ import annotations

from ._codecs import BytesSerde, JsonSerde, PydanticSerde, Serde, serde_for
from ._definitions import HandlerInfo, RetryPolicy, Service, VirtualObject, Workflow, handler_info
from ._errors import RestateError, RetryableError, SdkUsageError, TerminalError

__all__ = [
    "BytesSerde",
    "HandlerInfo",
    "JsonSerde",
    "PydanticSerde",
    "RestateError",
    "RetryPolicy",
    "RetryableError",
    "SdkUsageError",
    "Serde",
    "Service",
    "TerminalError",
    "VirtualObject",
    "Workflow",
    "handler_info",
    "serde_for",
]
