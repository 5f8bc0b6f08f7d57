"""Teardown removes everything the environment made: process or container, threads, ports, files."""

from __future__ import annotations

import gc
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import docker
import docker.errors
import pytest

from restate_testing import RestateEnvironment, RestateServer, RestateStartError
from restate_testing._binary import BinaryBackend
from restate_testing._container import DockerBackend
from restate_testing._ports import is_listening

if TYPE_CHECKING:
    from conftest import SampleApp

    from restate_testing._server import BackendName


class Footprint:
    """What a started environment occupies, recorded so it can be checked after teardown."""

    def __init__(self, env: RestateEnvironment) -> None:
        ports = env.server.ports
        assert ports is not None
        self.ports = [ports.ingress, ports.admin, ports.node, env.endpoint.port]
        backend = env.server.backend
        self.pid = backend.pid if isinstance(backend, BinaryBackend) else None
        self.base_dir: Path | None = backend.base_dir if isinstance(backend, BinaryBackend) else None
        self.container_id = backend.container_id if isinstance(backend, DockerBackend) else None
        # Only this environment's thread: other tests' session-scoped environments may be running.
        self.thread_name = f"restate-testing-endpoint-{env.endpoint.port}"
        assert self.thread_name in {t.name for t in threading.enumerate()}
        assert all(is_listening(port) for port in self.ports)

    def assert_gone(self) -> None:
        leftover_ports = [port for port in self.ports if is_listening(port)]
        assert not leftover_ports, f"still listening: {leftover_ports}"
        if self.pid is not None:
            with pytest.raises(ProcessLookupError):
                os.kill(self.pid, 0)  # reaped, not a zombie either (Popen.wait ran)
        if self.base_dir is not None:
            assert not self.base_dir.exists()
        if self.container_id is not None:
            client = docker.from_env()
            try:
                with pytest.raises(docker.errors.NotFound):
                    client.containers.get(self.container_id)
            finally:
                client.close()
        assert self.thread_name not in {t.name for t in threading.enumerate()}


@pytest.mark.parametrize("raise_in_body", [False, True], ids=["clean-exit", "body-raises"])
def test_teardown_leaves_nothing_behind(backend: BackendName, sample: SampleApp, raise_in_body: bool) -> None:
    footprint: Footprint | None = None

    class BodyFailed(Exception):
        pass

    try:
        with RestateEnvironment(sample.app, backend=backend) as env:
            footprint = Footprint(env)
            assert env.client.service("Greeter").call("greet", "Ann") == "Hello Ann!"
            if raise_in_body:
                raise BodyFailed
    except BodyFailed:
        pass
    assert footprint is not None
    footprint.assert_gone()


@pytest.mark.integration
def test_failed_start_leaves_nothing_behind(
    restate_binary: str, sample: SampleApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the backend makes its data dir
    env = RestateEnvironment(sample.app, backend="binary", env={"RESTATE_DEFAULT_NUM_PARTITIONS": "many"})
    with pytest.raises(RestateStartError):
        env.start()
    ports = env.server.ports
    assert ports is not None
    assert not any(is_listening(port) for port in (ports.ingress, ports.admin, ports.node))
    assert not env.server.running()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.integration
@pytest.mark.docker
def test_a_forgotten_container_is_removed_when_collected(docker_engine: None) -> None:
    server = RestateServer(backend="docker").start()
    backend = server.backend
    assert isinstance(backend, DockerBackend)
    container_id = backend.container_id
    del server, backend  # no close(): the finalizer removes the container (Ryuk may be disabled)
    gc.collect()
    client = docker.from_env()
    try:
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(container_id)
    finally:
        client.close()
