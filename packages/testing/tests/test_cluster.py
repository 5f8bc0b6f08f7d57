"""RestateEnvironment(app, nodes=3): a three-node cluster that survives losing a node."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

import restate_sdk as restate
from restate_ingress import Client
from restate_sdk import Context, ObjectContext

from restate_testing import RestateEnvironment
from restate_testing._cluster import metadata_members

if TYPE_CHECKING:
    from restate_testing._server import BackendName

worker = restate.Service("Worker")
tally = restate.VirtualObject("Tally")


@worker.handler()
async def slow(ctx: Context, n: int) -> int:
    first = await ctx.run("first", lambda: n + 1)
    await ctx.sleep(timedelta(milliseconds=300))
    return await ctx.run("second", lambda: first * 2)


@tally.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", value)
    return value


APP = restate.app([worker, tally])


def test_a_cluster_loses_nothing_when_a_node_dies(backend: BackendName) -> None:
    with RestateEnvironment(APP, backend=backend, nodes=3) as env:
        assert len(env.nodes) == 3
        assert env.server is env.nodes[0]
        assert env.ingress_url == env.nodes[0].ingress_url
        assert len({node.ingress_url for node in env.nodes}) == 3
        assert len({node.admin_url for node in env.nodes}) == 3
        assert sorted(metadata_members(env.admin_url)) == [1, 2, 3]
        assert {node.env["RESTATE_DEFAULT_REPLICATION"] for node in env.nodes} == {"2"}

        # Every node serves the ingress of the one cluster.
        assert env.client.object("Tally", "k").call("add", 1) == 1
        for node in env.nodes[1:]:
            with Client(node.ingress_url) as other:
                assert other.object("Tally", "seen").call("add", 1) >= 1

        sends = [env.client.service("Worker").send("slow", n) for n in range(20)]
        adds = [env.client.object("Tally", "k").send("add", 1) for _ in range(20)]
        time.sleep(0.2)  # invocations are running
        env.nodes[1].kill()
        assert not env.nodes[1].running()

        results = [env.client.invocation(s.invocation_id).attach() for s in sends]
        assert results == [(n + 1) * 2 for n in range(20)]
        for sent in adds:
            env.client.invocation(sent.invocation_id).attach()
        assert env.client.object("Tally", "k").call("add", 0) == 21  # every add applied, none twice
        assert env.state("Tally", "k").get("count", type_hint=int) == 21

        env.nodes[1].restart()
        deadline = time.monotonic() + 30
        while sorted(metadata_members(env.admin_url)) != [1, 2, 3] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(metadata_members(env.admin_url)) == [1, 2, 3]
        assert env.client.object("Tally", "k").call("add", 1) == 22
