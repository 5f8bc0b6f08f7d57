"""RestateServer on its own: start, stop, crash, restart, logs, start failures."""

from __future__ import annotations

import gc
import os

import httpx
import pytest

from restate_testing import RestateServer, RestateStartError
from restate_testing._binary import BinaryBackend
from restate_testing._ports import is_listening


def _healthy(server: RestateServer) -> bool:
    return (
        httpx.get(f"{server.admin_url}/health").status_code == 200
        and httpx.get(f"{server.ingress_url}/restate/health").status_code == 200
    )


@pytest.mark.integration
def test_binary_start_stop_restart(restate_binary: str) -> None:
    with RestateServer(backend="binary") as server:
        backend = server.backend
        assert isinstance(backend, BinaryBackend)
        assert _healthy(server)
        assert server.ingress_url.startswith("http://127.0.0.1:")
        ports = server.ports

        server.stop()
        assert not server.running()
        assert ports is not None and not is_listening(ports.ingress) and not is_listening(ports.admin)

        server.start()  # same ports, same data directory
        assert server.ports == ports and _healthy(server)

        server.kill()  # SIGKILL, like a crash
        assert not server.running()
        server.restart()
        assert _healthy(server)

        server.restart(kill=True)
        assert _healthy(server)
        assert "Starting Restate Server" in server.logs()
        base_dir = backend.base_dir
    assert not base_dir.exists()
    assert "Starting Restate Server" in server.logs()  # still readable after close


@pytest.mark.integration
def test_start_failure_raises_with_the_server_log(restate_binary: str) -> None:
    server = RestateServer(backend="binary", env={"RESTATE_DEFAULT_NUM_PARTITIONS": "many"})
    with pytest.raises(RestateStartError) as caught, server:
        pass
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "exited during startup" in str(caught.value)
    assert "configuration loading error" in notes  # the server's own explanation
    assert not server.running()


def test_options_become_server_settings() -> None:
    server = RestateServer(always_replay=True, disable_retries=True, lazy_state=True, env={"RESTATE_X": "1"})
    assert server.env["RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT"] == "0s"
    assert server.env["RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS"] == "1"
    assert server.env["RESTATE_WORKER__INVOKER__DISABLE_EAGER_STATE"] == "true"
    assert server.env["RESTATE_X"] == "1"
    plain = RestateServer()
    assert "RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT" not in plain.env


@pytest.mark.integration
def test_a_forgotten_server_is_stopped_when_collected(restate_binary: str) -> None:
    server = RestateServer(backend="binary").start()
    backend = server.backend
    assert isinstance(backend, BinaryBackend)
    pid, base_dir = backend.pid, backend.base_dir
    assert pid is not None
    del server, backend  # no close(): the finalizer must still stop the process and remove its files
    gc.collect()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not base_dir.exists()
