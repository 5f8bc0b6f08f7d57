"""Proxy: forwards raw bytes to any handler by name, as a call or a one-way send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import restate_sdk as restate
from restate_sdk import CallFuture, Context, SendHandle

__all__ = ["proxy"]

proxy = restate.Service("Proxy")


@dataclass
class ProxyRequest:
    serviceName: str
    handlerName: str
    message: list[int]
    virtualObjectKey: str | None = None
    delayMillis: int | None = None
    idempotencyKey: str | None = None
    # forwarded as given: they need service protocol v7 (opt-in on restate-server 1.7, which also
    # needs vqueues for scopes); below v7 a scope fails the attempt with an error saying so
    scope: str | None = None
    limitKey: str | None = None


@dataclass
class ManyCallRequest:
    proxyRequest: ProxyRequest
    oneWayCall: bool
    awaitAtTheEnd: bool


def _call(ctx: Context, req: ProxyRequest) -> CallFuture[bytes]:
    return ctx.generic_call(
        req.serviceName,
        req.handlerName,
        bytes(req.message),
        req.virtualObjectKey,
        idempotency_key=req.idempotencyKey,
        scope=req.scope,
        limit_key=req.limitKey,
        output_serde=restate.BytesSerde(),
    )


def _send(ctx: Context, req: ProxyRequest) -> SendHandle:
    return ctx.generic_send(
        req.serviceName,
        req.handlerName,
        bytes(req.message),
        req.virtualObjectKey,
        delay=timedelta(milliseconds=req.delayMillis) if req.delayMillis is not None else None,
        idempotency_key=req.idempotencyKey,
        scope=req.scope,
        limit_key=req.limitKey,
    )


@proxy.handler(name="call")
async def call(ctx: Context, req: ProxyRequest) -> list[int]:
    return list(await _call(ctx, req))


@proxy.handler(name="oneWayCall")
async def one_way_call(ctx: Context, req: ProxyRequest) -> str:
    return await _send(ctx, req).invocation_id()


@proxy.handler(name="manyCalls")
async def many_calls(ctx: Context, requests: list[ManyCallRequest]) -> None:
    to_await: list[CallFuture[bytes]] = []
    for request in requests:
        if request.oneWayCall:
            _send(ctx, request.proxyRequest)
        else:
            future = _call(ctx, request.proxyRequest)
            if request.awaitAtTheEnd:
                to_await.append(future)
    for future in to_await:
        await future
