"""RestateEnvironment(app, nodes=3): a three-node cluster that survives losing a node."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import restate_sdk as restate
from restate_ingress import Client
from restate_sdk import Context, ObjectContext

from restate_testing import RestateEnvironment, RestateStartError
from restate_testing._backend import ServerPorts
from restate_testing._cluster import cluster_env, metadata_members

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


def test_each_node_knows_all_metadata_servers_and_only_node_0_provisions() -> None:
    ports = [ServerPorts(ingress=1000 + i, admin=2000 + i, node=3000 + i) for i in range(3)]
    envs = [cluster_env(i, ports, "c") for i in range(3)]
    assert [env["RESTATE_AUTO_PROVISION"] for env in envs] == ["true", "false", "false"]
    assert [env["RESTATE_NODE_NAME"] for env in envs] == ["node-0", "node-1", "node-2"]
    assert [env["RESTATE_ADVERTISED_ADDRESS"] for env in envs] == [
        f"http://127.0.0.1:{3000 + i}" for i in range(3)
    ]
    for env in envs:
        assert json.loads(env["RESTATE_METADATA_CLIENT__ADDRESSES"]) == [
            "http://127.0.0.1:3000",
            "http://127.0.0.1:3001",
            "http://127.0.0.1:3002",
        ]
        assert env["RESTATE_DEFAULT_REPLICATION"] == "2"  # what restate-server 1.7 reads for the log
        assert env["RESTATE_CLUSTER_NAME"] == "c"


def test_bad_node_counts_and_bridged_docker_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RestateEnvironment(APP, nodes=0)
    env = RestateEnvironment(APP, backend="docker", nodes=3)
    with pytest.raises(RuntimeError, match="not been started"):
        env.nodes  # noqa: B018
    monkeypatch.setenv("RESTATE_TESTING_DOCKER_NETWORK", "bridge")
    with pytest.raises(RestateStartError, match="needs host networking"):
        env.start()
