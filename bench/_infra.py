"""Processes for the benchmark: restate-server, the SDK endpoints, the official SDK's virtualenv, the
TypeScript SDK's node_modules.

Everything listens on 127.0.0.1 on ports picked free at start, so the benchmark can run next to
other restate-servers on the same machine. Every child gets its own session and is stopped by pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OFFICIAL_VENV = HERE / ".venv-official"
TS_DIR = HERE / "ts"  # the TypeScript SDK's app; package-lock.json pins @restatedev/restate-sdk
SERVER_VERSION = os.environ.get("BENCH_RESTATE_VERSION", "1.7.12")
# What bench/.venv-official gets; override with BENCH_OFFICIAL_SPEC="restate-sdk==X hypercorn==Y".
OFFICIAL_SPEC = os.environ.get("BENCH_OFFICIAL_SPEC", "restate-sdk hypercorn granian uvloop").split()

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---- provisioning ----------------------------------------------------------------------------


def official_python() -> Path:
    """The interpreter of bench/.venv-official, creating the venv on first use."""
    python = OFFICIAL_VENV / "bin" / "python"
    if python.exists():
        modules = ", ".join(
            spec.split("=")[0].split("<")[0].split(">")[0].replace("-sdk", "") for spec in OFFICIAL_SPEC
        )
        probe = subprocess.run([str(python), "-c", f"import {modules}"], capture_output=True, check=False)
        if probe.returncode == 0:
            return python
    log(f"creating {OFFICIAL_VENV.relative_to(ROOT)} with {' '.join(OFFICIAL_SPEC)} from PyPI ...")
    base = shutil.which("python3.11") or shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", "--clear", str(OFFICIAL_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *OFFICIAL_SPEC],
        check=True,
    )
    return python


def ts_node() -> Path:
    """Node, with bench/ts/node_modules installed by ``npm ci`` (from package-lock.json) on first use."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the ts variant needs Node.js (node and npm on PATH)")
    installed = TS_DIR / "node_modules" / ".package-lock.json"
    lock = TS_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        log("installing bench/ts/node_modules with npm ci from the npm registry ...")
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=TS_DIR,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return Path(node)


def ts_versions(node: Path) -> dict[str, str]:
    package = TS_DIR / "node_modules" / "@restatedev" / "restate-sdk" / "package.json"
    out = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True)
    return {"restate-sdk": json.loads(package.read_text())["version"], "node": out.stdout.strip()}


def official_versions(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({p: m.version(p) for p in ('restate-sdk', 'hypercorn', 'h2')}))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def find_restate_server() -> Path:
    """restate-server: $RESTATE_SERVER_BIN, PATH, restate_testing's cache, or npm into that cache."""
    if explicit := os.environ.get("RESTATE_SERVER_BIN"):
        return Path(explicit)
    with contextlib.suppress(Exception):  # restate_testing's provisioning, when it is importable
        from restate_testing import find_restate_server as testing_find

        return Path(testing_find(SERVER_VERSION))
    if on_path := shutil.which("restate-server"):
        return Path(on_path)
    base = os.environ.get("RESTATE_TESTING_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "restate-sdk-py"
    )
    target = Path(base) / "restate-server" / SERVER_VERSION / "restate-server"
    if target.is_file():
        return target
    package = "@restatedev/restate-server-linux-x64"
    log(f"downloading {package}@{SERVER_VERSION} with npm pack (once; cached at {target}) ...")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        subprocess.run(
            ["npm", "pack", f"{package}@{SERVER_VERSION}", "--silent"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/bin/restate-server")
            assert member is not None
            partial = Path(tmp) / "restate-server"
            partial.write_bytes(member.read())
        partial.chmod(0o755)
        os.replace(partial, target)
    return target


# ---- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: object | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def wait_until(check: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


class Process:
    """A child process in its own session, stopped by pid (SIGTERM, then SIGKILL)."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wakeups_and_syscalls(pid: int) -> dict[str, int]:
    """Context switches of all of ``pid``'s threads (its wake-ups, mostly) and its read/write syscalls.

    Counts, not times: a busy machine changes them far less than it changes CPU seconds. The syscall
    counts (``/proc/<pid>/io`` syscr/syscw) cover read/write-family calls; sockets read with recv/send
    do not show there, so compare them only between like processes.
    """
    counts = {"context switches": 0, "read syscalls": 0, "write syscalls": 0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError), open(task / "status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    counts["context switches"] += int(line.split()[1])
    with contextlib.suppress(OSError), open(f"/proc/{pid}/io") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "syscr":
                counts["read syscalls"] = int(value)
            elif key == "syscw":
                counts["write syscalls"] = int(value)
    return counts


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def reset_hwm(pid: int) -> bool:
    """Reset the peak-RSS counter (``echo 5 > clear_refs``); False where that is not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@dataclass
class RestateServer:
    process: Process
    ingress: str
    admin: str


def start_restate(workdir: Path, extra_env: dict[str, str] | None = None) -> RestateServer:
    binary = find_restate_server()
    ingress, admin, node = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTATE_")}
    env.update(
        RESTATE_DISABLE_TELEMETRY="true",
        RESTATE_LOG_FILTER="warn",
        RESTATE_LOG_DISABLE_ANSI_CODES="true",
        RESTATE_DEFAULT_NUM_PARTITIONS="2",
        RESTATE_NODE_NAME="bench",
        RESTATE_INGRESS__BIND_ADDRESS=f"127.0.0.1:{ingress}",
        RESTATE_ADMIN__BIND_ADDRESS=f"127.0.0.1:{admin}",
        RESTATE_BIND_ADDRESS=f"127.0.0.1:{node}",
    )
    env.update(extra_env or {})
    process = Process(
        "restate-server",
        [str(binary), "--base-dir", str(workdir / "restate-data"), "--no-logo"],
        workdir / "restate-server.log",
        env,
    )
    server = RestateServer(process, f"http://127.0.0.1:{ingress}", f"http://127.0.0.1:{admin}")
    try:
        wait_until(
            lambda: (
                http("GET", f"{server.admin}/health")[0] == 200
                and http("GET", f"{server.ingress}/restate/health")[0] == 200
            ),
            "restate-server to become healthy",
        )
    except RuntimeError:
        process.stop()
        raise RuntimeError(f"restate-server did not start:\n{process.tail()}") from None
    return server


def start_endpoint(
    name: str,
    app: str,
    python: Path,
    workdir: Path,
    *,
    server: str = "hypercorn",
    loop: str = "auto",
    extra_env: dict[str, str] | None = None,
) -> tuple[Process, str]:
    """Serve bench/apps/<app>.py with ``python`` on a free port; returns the process and its URL.

    ``app="ts"`` serves bench/ts/app.cjs with the interpreter ``python`` (then: node) instead.
    """
    port = free_port()
    env = dict(os.environ)
    env.update(extra_env or {})
    if app == "ts":
        argv = [str(python), str(TS_DIR / "app.cjs"), str(port)]
    else:
        argv = [str(python), str(HERE / "serve_app.py"), app, str(port), server, loop]
    process = Process(name, argv, workdir / f"endpoint-{name}.log", env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _tcp_open(port), f"the {name} endpoint to listen", timeout=30)
    except RuntimeError:
        process.stop()
        raise RuntimeError(f"{name} endpoint did not start:\n{process.tail()}") from None
    return process, url


def _tcp_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def register(server: RestateServer, uri: str) -> None:
    status, body = http("POST", f"{server.admin}/deployments", {"uri": uri, "force": True}, timeout=30)
    if status not in (200, 201):
        raise RuntimeError(f"registering {uri} failed ({status}): {body[:500]!r}")
