"""A cluster of restate-server nodes on 127.0.0.1: replicated metadata and log, replication 2.

Every node runs every role (ingress, admin, worker, log-server, metadata-server). Node 0 provisions
the cluster; the others join it through the metadata servers, whose addresses every node knows up
front. The cluster is ready once each node answers healthy and all of them are members of the
metadata cluster (``GET /cluster-health`` on node 0's admin API).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import httpx

from ._backend import ServerPorts
from ._errors import RestateStartError
from ._ports import free_ports
from ._server import RestateServer

__all__ = ["cluster_env", "start_cluster"]

_log = logging.getLogger("restate_testing")

# A node that stops answering is declared dead after a few gossip rounds (the default suspect
# interval is 5 s); the log and partition leadership then move, so tests see a failover in seconds.
_FAILOVER_ENV = {"RESTATE_BIFROST__AUTO_RECOVERY_INTERVAL": "2s"}


def cluster_env(index: int, ports: list[ServerPorts], cluster_name: str) -> dict[str, str]:
    """The settings that make node ``index`` (of ``len(ports)``) a member of one replicated cluster."""
    own = ports[index]
    metadata = [f"http://127.0.0.1:{node.node}" for node in ports]
    return {
        **_FAILOVER_ENV,
        "RESTATE_CLUSTER_NAME": cluster_name,
        "RESTATE_NODE_NAME": f"node-{index}",
        "RESTATE_ADVERTISED_ADDRESS": f"http://127.0.0.1:{own.node}",
        "RESTATE_METADATA_CLIENT__ADDRESSES": json.dumps(metadata),
        "RESTATE_METADATA_SERVER__TYPE": "replicated",
        "RESTATE_BIFROST__DEFAULT_PROVIDER": "replicated",
        # restate-server 1.7 reads the log's (and partitions') replication from this one setting.
        "RESTATE_DEFAULT_REPLICATION": str(min(2, len(ports))),
        "RESTATE_AUTO_PROVISION": "true" if index == 0 else "false",
    }


def start_cluster(nodes: int, options: dict[str, Any]) -> list[RestateServer]:
    """Start ``nodes`` restate-server nodes and wait until the cluster is formed.

    ``options`` are RestateServer's keyword arguments; their ``env`` wins over the cluster settings.
    On failure every node started so far is closed and RestateStartError carries the nodes' logs.
    """
    ports = [ServerPorts(*free_ports(3)) for _ in range(nodes)]
    cluster_name = f"restate-testing-{uuid.uuid4().hex[:8]}"
    extra: dict[str, str] = options.get("env") or {}
    servers = [
        RestateServer._cluster_node(  # pyright: ignore[reportPrivateUsage]
            ports[index], **{**options, "env": {**cluster_env(index, ports, cluster_name), **extra}}
        )
        for index in range(nodes)
    ]
    started = time.monotonic()
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_healthy(started)
        timeout = float(options.get("startup_timeout", 60.0))
        wait_for_members(servers, deadline=started + timeout)
    except BaseException as error:
        if isinstance(error, RestateStartError):
            for server in servers:
                error.attach_logs(f"restate-server {server.node_name} log", server.logs())
        for server in servers:
            server.close()
        raise
    _log.info("restate cluster of %d nodes ready in %.2fs", nodes, time.monotonic() - started)
    return servers


def metadata_members(admin_url: str) -> list[int]:
    """The node ids in the metadata cluster, as the admin API at ``admin_url`` reports them."""
    with httpx.Client(timeout=2.0) as http:
        response = http.get(f"{admin_url}/cluster-health")
        response.raise_for_status()
        health: dict[str, Any] = response.json()
    metadata: dict[str, Any] = health.get("metadata_cluster_health") or {}
    members: list[Any] = metadata.get("members") or []
    return [int(member) for member in members]


def wait_for_members(servers: list[RestateServer], deadline: float) -> None:
    """Wait until every node of ``servers`` is a member of the metadata cluster."""
    last = "no answer yet"
    while time.monotonic() < deadline:
        try:
            members = metadata_members(servers[0].admin_url)
        except httpx.HTTPError as error:
            last = repr(error)
        else:
            if len(members) >= len(servers):
                return
            last = f"metadata members {sorted(members)}"
        time.sleep(0.1)
    raise RestateStartError(f"the {len(servers)} restate-server nodes did not form a cluster: {last}")
