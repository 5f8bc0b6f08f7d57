"""restate-server settings used by the test environments, as RESTATE_* environment variables."""

from __future__ import annotations

import os

__all__ = [
    "ALWAYS_REPLAY_ENV",
    "BASE_ENV",
    "DEFAULT_IMAGE",
    "DISABLE_RETRIES_ENV",
    "LAZY_STATE_ENV",
    "default_image",
    "server_env",
]

DEFAULT_IMAGE = "docker.io/restatedev/restate:1.7"

BASE_ENV = {
    "RESTATE_DISABLE_TELEMETRY": "true",
    # One line per event, no colours: readable when pasted into a test report.
    "RESTATE_LOG_FORMAT": "compact",
    "RESTATE_LOG_DISABLE_ANSI_CODES": "true",
    # The default filter, minus the release check that fails without internet and reads like an error.
    "RESTATE_LOG_FILTER": "warn,restate=info,octocrab=off",
    # One partition is plenty for tests and makes the cluster ready sooner.
    "RESTATE_DEFAULT_NUM_PARTITIONS": "1",
    # A fixed node name: the data directory is keyed by it, so a restart finds its data again
    # (the default, the host name, differs between a container and the host).
    "RESTATE_NODE_NAME": "restate-testing",
}

# An inactivity timeout of 0 makes the server close the request stream at once: the handler suspends at
# every await that is not already complete and is replayed on the next attempt.
ALWAYS_REPLAY_ENV = {"RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT": "0s"}

# One attempt, then the invocation is killed and the caller sees the failure (the default policy
# retries 70 times, then pauses the invocation, which a test would see as a hang).
DISABLE_RETRIES_ENV = {
    "RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "1",
    "RESTATE_DEFAULT_RETRY_POLICY__ON_MAX_ATTEMPTS": "kill",
}

# No state is sent along with the invocation: every get() is a round trip to the server.
LAZY_STATE_ENV = {"RESTATE_WORKER__INVOKER__DISABLE_EAGER_STATE": "true"}


def default_image() -> str:
    """The image the docker backend runs: ``$RESTATE_TESTING_IMAGE`` or the official 1.7 image."""
    return os.environ.get("RESTATE_TESTING_IMAGE") or DEFAULT_IMAGE


def server_env(
    *,
    always_replay: bool = False,
    disable_retries: bool = False,
    lazy_state: bool = False,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment for restate-server with the given test options; ``extra`` wins over all."""
    env = dict(BASE_ENV)
    if always_replay:
        env.update(ALWAYS_REPLAY_ENV)
    if disable_retries:
        env.update(DISABLE_RETRIES_ENV)
    if lazy_state:
        env.update(LAZY_STATE_ENV)
    env.update(extra or {})
    return env
