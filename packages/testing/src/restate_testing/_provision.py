"""Find or download a restate-server binary.

Lookup order (first hit wins):

1. ``RESTATE_SERVER_BIN``: an explicit path;
2. ``restate-server`` on ``PATH``;
3. the cache, ``$RESTATE_TESTING_CACHE_DIR`` or ``$XDG_CACHE_HOME/restate-sdk-py`` or
   ``~/.cache/restate-sdk-py``, under ``restate-server/<version>/restate-server``;
4. a download of the npm package ``@restatedev/restate-server-<os>-<arch>`` into that cache.

The npm package is a tarball holding ``package/bin/restate-server``, a static binary. It is fetched with
``npm pack`` when npm is installed (so the user's npm configuration, proxy and registry apply), else
straight from the registry over HTTP. The download goes to a temporary file next to its final place and
is renamed when complete, under a file lock, so concurrent test processes neither race nor see half a file.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import quote

import httpx

from ._errors import ProvisionError

__all__ = [
    "DEFAULT_SERVER_VERSION",
    "cache_dir",
    "download_restate_server",
    "find_restate_server",
    "npm_package_name",
]

DEFAULT_SERVER_VERSION = "1.7.12"
_DEFAULT_REGISTRY = "https://registry.npmjs.org"
_MEMBER = "package/bin/restate-server"

DownloadMethod = Literal["auto", "npm", "http"]


def _progress(message: str) -> None:
    print(f"restate-testing: {message}", file=sys.stderr, flush=True)


def npm_package_name(system: str | None = None, machine: str | None = None) -> str:
    """The npm package that carries restate-server for this (or the given) platform."""
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    os_part = {"Linux": "linux", "Darwin": "darwin"}.get(system)
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    if os_part is None or arch is None:
        raise ProvisionError(
            f"restate-server is not published for {system}/{machine}; "
            "set RESTATE_SERVER_BIN to a binary or use the docker backend"
        )
    return f"@restatedev/restate-server-{os_part}-{arch}"


def cache_dir() -> Path:
    """Root of restate_testing's download cache."""
    if explicit := os.environ.get("RESTATE_TESTING_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "restate-sdk-py"


def _cached_binary(version: str, root: Path | None = None) -> Path:
    return (root or cache_dir()) / "restate-server" / version / "restate-server"


def find_restate_server(version: str = DEFAULT_SERVER_VERSION, *, download: bool = True) -> Path:
    """Return a runnable restate-server, downloading ``version`` into the cache when none is found."""
    if explicit := os.environ.get("RESTATE_SERVER_BIN"):
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ProvisionError(f"RESTATE_SERVER_BIN={explicit} is not an executable file")
        return path
    if on_path := shutil.which("restate-server"):
        return Path(on_path)
    cached = _cached_binary(version)
    if cached.is_file():
        return cached
    if not download:
        raise ProvisionError(
            f"restate-server {version} not found (RESTATE_SERVER_BIN, PATH, {cached}); "
            "run `python -m restate_testing provision`"
        )
    return download_restate_server(version)


def download_restate_server(
    version: str = DEFAULT_SERVER_VERSION,
    *,
    root: Path | None = None,
    registry: str | None = None,
    method: DownloadMethod = "auto",
    package: str | None = None,
) -> Path:
    """Download restate-server ``version`` from npm into the cache (a no-op when already there).

    ``registry`` defaults to npm's configured registry (``npm_config_registry``) or the public one;
    ``method`` picks ``npm pack`` or a plain HTTP download (``auto``: npm when it is installed).
    """
    target = _cached_binary(version, root)
    if target.is_file():
        return target
    package = package or npm_package_name()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(target.parent / ".lock"):
        if target.is_file():  # another process finished while we waited for the lock
            return target
        use_npm = method == "npm" or (method == "auto" and shutil.which("npm") is not None)
        started = time.monotonic()
        _progress(f"downloading restate-server {version} from npm ({package}) ...")
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
            work = Path(tmp)
            if use_npm:
                tarball = _npm_pack(package, version, work, registry)
            else:
                tarball = _http_fetch(package, version, work, registry)
            partial = work / "restate-server"
            _extract_binary(tarball, partial)
            partial.chmod(0o755)
            os.replace(partial, target)  # atomic: readers see no file or the whole file
        _progress(f"restate-server {version} ready at {target} ({time.monotonic() - started:.1f}s)")
    return target


@contextlib.contextmanager
def _file_lock(path: Path) -> Generator[None]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _progress(f"waiting for another process to finish downloading ({path.parent}) ...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def download_timeout() -> float:
    """Seconds a download may take in all: ``$RESTATE_TESTING_DOWNLOAD_TIMEOUT``, default 300."""
    raw = os.environ.get("RESTATE_TESTING_DOWNLOAD_TIMEOUT") or "300"
    try:
        return float(raw)
    except ValueError:
        raise ProvisionError(f"RESTATE_TESTING_DOWNLOAD_TIMEOUT={raw!r} is not a number of seconds") from None


def _unreachable(what: str, detail: str) -> ProvisionError:
    """The error for a download that could not reach the registry, saying how to do without it."""
    return ProvisionError(
        f"could not download restate-server: {what}.\n{detail.strip()}\n"
        "Without access to the npm registry, any one of these works:\n"
        "  - set RESTATE_SERVER_BIN to a restate-server binary (e.g. copied from a machine that has one);\n"
        "  - run `python -m restate_testing provision` once where the registry is reachable: it fills the "
        f"cache ({cache_dir()}), which later runs use;\n"
        "  - use the docker backend (backend='docker' or RESTATE_TESTING_BACKEND=docker) with an image the "
        "Docker engine already has (RESTATE_TESTING_IMAGE)."
    )


def _npm_pack(package: str, version: str, work: Path, registry: str | None) -> Path:
    # npm retries a failed fetch twice with waits of up to a minute by default; once, briefly, is
    # enough to ride out a hiccup, and an unreachable registry then fails within seconds.
    command = [
        "npm",
        "pack",
        f"{package}@{version}",
        "--pack-destination",
        str(work),
        "--loglevel=error",  # quiet, but errors still say why
        "--fetch-retries=1",
        "--fetch-retry-mintimeout=1000",
        "--fetch-retry-maxtimeout=3000",
    ]
    if registry:
        command += ["--registry", registry]
    shown = " ".join(command[:3])
    with tempfile.TemporaryFile(mode="w+") as output:
        process = subprocess.Popen(command, cwd=work, stdout=output, stderr=subprocess.STDOUT, text=True)
        finished = _wait_with_heartbeat(process, download_timeout())
        output.seek(0)
        text = output.read()
    if not finished:
        raise _unreachable(f"`{shown}` did not finish within {download_timeout():.0f}s", text[-2000:])
    if process.returncode != 0:
        if any(marker in text for marker in _NETWORK_ERRORS):
            raise _unreachable(f"`{shown}` could not reach the registry", text[-2000:])
        raise ProvisionError(f"`{' '.join(command)}` failed with exit code {process.returncode}:\n{text}")
    tarballs = sorted(work.glob("*.tgz"))
    if not tarballs:
        raise ProvisionError(f"`{' '.join(command)}` produced no tarball:\n{text}")
    return tarballs[0]


# What npm prints when the registry cannot be reached (connection refused, no DNS, timeouts, offline).
_NETWORK_ERRORS = (
    "ECONNREFUSED",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ETIMEDOUT",
    "ECONNRESET",
    "ENETUNREACH",
    "network",
)


def _wait_with_heartbeat(process: subprocess.Popen[str], limit: float) -> bool:
    """Wait for ``process`` up to ``limit`` seconds, saying every 5 s (or twice, for a short limit)
    that we are alive: npm pack prints nothing while it downloads 80 MB.

    False (and the process killed) at the limit.
    """
    every = min(5.0, limit / 2)
    started = time.monotonic()
    while True:
        left = limit - (time.monotonic() - started)
        if left <= 0:
            process.kill()
            process.wait()
            return False
        try:
            process.wait(timeout=min(every, left))
            return True
        except subprocess.TimeoutExpired:
            _progress(f"... still downloading ({time.monotonic() - started:.0f}s of at most {limit:.0f}s)")


def _http_fetch(package: str, version: str, work: Path, registry: str | None) -> Path:
    # npm reads its settings from npm_config_* variables, in either case.
    configured = os.environ.get("npm_config_registry") or os.environ.get("NPM_CONFIG_REGISTRY")  # noqa: SIM112
    base = (registry or configured or _DEFAULT_REGISTRY).rstrip("/")
    meta_url = f"{base}/{quote(package, safe='@')}/{version}"
    deadline = time.monotonic() + download_timeout()
    timeout = httpx.Timeout(30.0, connect=10.0)
    try:
        with httpx.Client(follow_redirects=True, timeout=timeout) as http:
            response = http.get(meta_url)
            if response.status_code != 200:
                raise ProvisionError(f"GET {meta_url} answered {response.status_code}: {response.text[:300]}")
            dist: dict[str, Any] = response.json()["dist"]
            tarball = work / "package.tgz"
            with tarball.open("wb") as out, http.stream("GET", str(dist["tarball"])) as stream:
                if stream.status_code != 200:
                    raise ProvisionError(f"GET {dist['tarball']} answered {stream.status_code}")
                _copy_with_progress(stream, out, int(stream.headers.get("content-length") or 0), deadline)
    except httpx.TransportError as error:
        raise _unreachable(
            f"the registry {base} is not reachable", f"{type(error).__name__}: {error}"
        ) from error
    _check_integrity(tarball, str(dist.get("integrity") or ""))
    return tarball


def _copy_with_progress(stream: httpx.Response, out: IO[bytes], total: int, deadline: float) -> None:
    done, last_report = 0, time.monotonic()
    for chunk in stream.iter_bytes(1 << 20):
        if time.monotonic() > deadline:
            raise _unreachable(
                f"the download did not finish within {download_timeout():.0f}s",
                f"{done / 1e6:.0f} MB received",
            )
        out.write(chunk)
        done += len(chunk)
        if time.monotonic() - last_report >= 2.0:
            last_report = time.monotonic()
            share = f" ({100 * done // total}%)" if total else ""
            _progress(f"... {done / 1e6:.0f} MB{share}")


def _check_integrity(tarball: Path, integrity: str) -> None:
    """Check npm's Subresource-Integrity string (``sha512-<base64>``) when the registry gives one."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in {"sha512", "sha384", "sha256"} or not expected:
        return
    digest = hashlib.new(algorithm)
    with tarball.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if base64.b64encode(digest.digest()).decode() != expected:
        raise ProvisionError(f"{tarball.name}: {algorithm} checksum does not match the registry's integrity")


def _extract_binary(tarball: Path, dest: Path) -> None:
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            source = archive.extractfile(_MEMBER)
            if source is None:
                raise ProvisionError(f"{tarball.name}: {_MEMBER} is not a regular file")
            with source, dest.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
    except KeyError:
        raise ProvisionError(f"{tarball.name} has no {_MEMBER}") from None
    except tarfile.TarError as error:
        raise ProvisionError(f"{tarball.name} is not a valid tarball: {error}") from error
