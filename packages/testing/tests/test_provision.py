"""Finding and downloading restate-server, against a fake npm registry on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from restate_testing import ProvisionError, find_restate_server
from restate_testing._provision import download_restate_server, npm_package_name

PACKAGE = "@restatedev/restate-server-linux-x64"
VERSION = "9.9.9"
FAKE_BINARY = b"#!/bin/sh\necho 'restate-server 9.9.9'\n"


def _tarball(binary: bytes = FAKE_BINARY) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (
            ("package/package.json", b'{"name": "x"}'),
            ("package/bin/restate-server", binary),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class FakeRegistry:
    """Serves one package version the way registry.npmjs.org does (packument, version doc, tarball)."""

    def __init__(self, tarball: bytes, integrity: str | None = None) -> None:
        self.tarball = tarball
        self.integrity = integrity or "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        self.requests: Counter[str] = Counter()
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = unquote(self.path)
                registry.requests[path] += 1
                if path.endswith(".tgz"):
                    self._send(registry.tarball, "application/octet-stream")
                elif path == f"/{PACKAGE}/{VERSION}":
                    self._send(json.dumps(registry.version_doc()).encode(), "application/json")
                elif path == f"/{PACKAGE}":
                    packument = {
                        "name": PACKAGE,
                        "dist-tags": {"latest": VERSION},
                        "versions": {VERSION: registry.version_doc()},
                    }
                    self._send(json.dumps(packument).encode(), "application/json")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def version_doc(self) -> dict[str, object]:
        return {
            "name": PACKAGE,
            "version": VERSION,
            "dist": {
                "tarball": f"{self.url}/{PACKAGE}/-/restate-server-linux-x64-{VERSION}.tgz",
                "integrity": self.integrity,
                "shasum": hashlib.sha1(self.tarball).hexdigest(),
            },
        }

    def tarball_requests(self) -> int:
        return sum(count for path, count in self.requests.items() if path.endswith(".tgz"))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry(_tarball())
    yield fake
    fake.close()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache in tmp_path, no RESTATE_SERVER_BIN, and a PATH without restate-server."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("RESTATE_TESTING_CACHE_DIR", str(cache))
    monkeypatch.delenv("RESTATE_SERVER_BIN", raising=False)
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    return cache


def _executable(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("system", "machine", "package"),
    [
        ("Linux", "x86_64", "@restatedev/restate-server-linux-x64"),
        ("Linux", "aarch64", "@restatedev/restate-server-linux-arm64"),
        ("Darwin", "arm64", "@restatedev/restate-server-darwin-arm64"),
        ("Darwin", "x86_64", "@restatedev/restate-server-darwin-x64"),
    ],
)
def test_npm_package_per_platform(system: str, machine: str, package: str) -> None:
    assert npm_package_name(system, machine) == package


def test_unsupported_platform_is_a_clear_error() -> None:
    with pytest.raises(ProvisionError, match="not published for Windows"):
        npm_package_name("Windows", "AMD64")


def test_explicit_binary_wins_over_path(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path = _executable(tmp_path / "empty-bin" / "restate-server")
    explicit = _executable(tmp_path / "explicit" / "restate-server")
    assert find_restate_server(VERSION) == on_path
    monkeypatch.setenv("RESTATE_SERVER_BIN", str(explicit))
    assert find_restate_server(VERSION) == explicit


def test_explicit_binary_must_exist(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTATE_SERVER_BIN", "/nonexistent/restate-server")
    with pytest.raises(ProvisionError, match="RESTATE_SERVER_BIN"):
        find_restate_server(VERSION)


def test_cache_is_used_without_download(isolated: Path) -> None:
    cached = _executable(isolated / "restate-server" / VERSION / "restate-server")
    assert find_restate_server(VERSION, download=False) == cached


def test_missing_binary_without_download_says_how_to_provision(isolated: Path) -> None:
    with pytest.raises(ProvisionError, match="python -m restate_testing provision"):
        find_restate_server(VERSION, download=False)


def test_http_download_is_atomic_verified_and_cached(
    isolated: Path, registry: FakeRegistry, capfd: pytest.CaptureFixture[str]
) -> None:
    path = download_restate_server(VERSION, registry=registry.url, method="http", package=PACKAGE)

    assert path == isolated / "restate-server" / VERSION / "restate-server"
    assert path.read_bytes() == FAKE_BINARY
    assert os.access(path, os.X_OK)
    assert sorted(p.name for p in path.parent.iterdir()) == [".lock", "restate-server"]  # no temp files left
    assert f"downloading restate-server {VERSION} from npm" in capfd.readouterr().err

    assert download_restate_server(VERSION, registry=registry.url, method="http", package=PACKAGE) == path
    assert registry.tarball_requests() == 1


def test_corrupt_download_is_rejected_and_not_cached(isolated: Path) -> None:
    fake = FakeRegistry(_tarball(), integrity="sha512-" + base64.b64encode(b"0" * 64).decode())
    try:
        with pytest.raises(ProvisionError, match="checksum"):
            download_restate_server(VERSION, registry=fake.url, method="http", package=PACKAGE)
    finally:
        fake.close()
    assert not (isolated / "restate-server" / VERSION / "restate-server").exists()
    assert [p.name for p in (isolated / "restate-server" / VERSION).iterdir()] == [".lock"]


def test_concurrent_downloads_fetch_once(isolated: Path, registry: FakeRegistry) -> None:
    results: list[Path] = []

    def fetch() -> None:
        results.append(
            download_restate_server(VERSION, registry=registry.url, method="http", package=PACKAGE)
        )

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1 and len(results) == 4
    assert registry.tarball_requests() == 1


def _npm_only(tmp_path: Path) -> dict[str, str]:
    """Settings for running npm alone: a PATH with npm (and node) but no restate-server, and an npm
    cache of its own, so that the user's stays clean."""
    npm = shutil.which("npm", path=os.defpath + os.pathsep + "/usr/local/bin:/usr/bin")
    assert npm is not None
    return {
        "PATH": str(Path(npm).parent),
        "npm_config_cache": str(tmp_path / "npm-cache"),
        "npm_config_update_notifier": "false",
    }


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_pack_download(
    isolated: Path, registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _npm_only(tmp_path).items():
        monkeypatch.setenv(name, value)

    path = download_restate_server(VERSION, registry=registry.url, method="npm", package=PACKAGE)

    assert path.read_bytes() == FAKE_BINARY
    assert subprocess.run([str(path)], capture_output=True, text=True, check=True).stdout.strip() == (
        "restate-server 9.9.9"
    )
    assert registry.tarball_requests() == 1


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on: a registry that cannot be reached."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _says_what_to_do(message: str) -> None:
    assert "RESTATE_SERVER_BIN" in message
    assert "python -m restate_testing provision" in message
    assert "docker" in message


def test_no_network_over_http_is_a_provision_error_that_says_what_to_do(
    isolated: Path, closed_port: int, capfd: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(ProvisionError, match="is not reachable") as caught:
        download_restate_server(VERSION, registry=f"http://127.0.0.1:{closed_port}", method="http")
    assert time.monotonic() - started < 15
    _says_what_to_do(str(caught.value))
    assert isinstance(caught.value.__cause__, httpx.ConnectError)  # kept as the cause, not shown raw
    assert "downloading restate-server" in capfd.readouterr().err
    assert not (isolated / "restate-server" / VERSION / "restate-server").exists()


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_no_network_with_npm_fails_within_seconds_with_progress(
    isolated: Path, closed_port: int, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        **_npm_only(tmp_path),
        "npm_config_registry": f"http://127.0.0.1:{closed_port}/",  # npm's own setting, as a user's would be
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "restate_testing", "provision", "--cache-only", "--version", VERSION],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    print(f"provision without network (npm) gave up after {elapsed:.1f}s")
    assert result.returncode == 1
    assert elapsed < 30  # npm's defaults would retry for minutes
    assert "Traceback" not in result.stderr
    assert f"downloading restate-server {VERSION} from npm" in result.stderr
    assert "could not reach the registry" in result.stderr
    _says_what_to_do(result.stderr)
    assert result.stdout == ""


def test_a_download_that_takes_too_long_is_cut_off(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # An npm that hangs, as one behind a network that drops packets would.
    fake_npm = _executable(isolated.parent / "fake-bin" / "npm", "#!/bin/sh\nexec /bin/sleep 30\n")
    monkeypatch.setenv("PATH", str(fake_npm.parent))
    monkeypatch.setenv("RESTATE_TESTING_DOWNLOAD_TIMEOUT", "2")
    started = time.monotonic()
    with pytest.raises(ProvisionError, match="did not finish within 2s") as caught:
        download_restate_server(VERSION, method="npm", package=PACKAGE)
    assert time.monotonic() - started < 10
    _says_what_to_do(str(caught.value))
    assert "still downloading (1s of at most 2s)" in capfd.readouterr().err
