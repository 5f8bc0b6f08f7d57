"""Request identity in process: every broken token is a 401 with a short reason, keys are checked at build."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import pytest
import restate_sdk as restate
from restate_sdk import SdkUsageError
from restate_sdk._endpoint.identity import MAX_TOKEN_SIZE, IdentityVerifier

from .apps import SERVICES
from .tokens import Signer, bad_tokens, headers

SIGNER = Signer()
OTHER = Signer()
AUD = "/invoke/Echo/say"


async def _get(app: restate.Endpoint, path: str, hdrs: dict[str, str]) -> tuple[int, bytes]:
    sent: list[MutableMapping[str, Any]] = []
    chunks = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "http_version": "2",
        "headers": [(k.encode(), v.encode()) for k, v in hdrs.items()],
    }
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(x.get("body", b"") for x in sent[1:])


@pytest.mark.parametrize("name", sorted(bad_tokens(SIGNER, OTHER, AUD)))
def test_every_broken_token_is_refused_with_a_reason(name: str) -> None:
    verifier = IdentityVerifier([SIGNER.public_key])
    token = bad_tokens(SIGNER, OTHER, AUD)[name]
    reason = verifier.verify(AUD, headers(token))
    assert reason is not None
    assert len(reason) < 200


def test_a_token_signed_by_any_configured_key_passes() -> None:
    verifier = IdentityVerifier([OTHER.public_key, SIGNER.public_key])
    assert verifier.verify("/prefix" + AUD, headers(SIGNER.token(AUD))) is None
    assert verifier.verify("/discover", headers(SIGNER.token("/discover"))) is None
    assert verifier.verify(AUD, headers(SIGNER.token(AUD, claims={"aud": ["/x", AUD]}))) is None


def test_the_token_is_capped_before_anything_is_decoded() -> None:
    verifier = IdentityVerifier([SIGNER.public_key])
    token = SIGNER.sign_parts("e30", "A" * 8 * 1024 * 1024)  # 8 MiB: would cost 0.17 s to parse
    assert (
        verifier.verify(AUD, headers(token)) == f"JWT of {len(token)} bytes is longer than {MAX_TOKEN_SIZE}"
    )
    # an unsigned payload is never parsed: the signature check comes first
    head, _, sig = SIGNER.token(AUD).split(".")
    assert (
        verifier.verify(AUD, headers(f"{head}.{'W' * 3000}.{sig}"))
        == "signature does not match any configured key"
    )


async def test_broken_tokens_get_401_and_one_short_log_line(caplog: pytest.LogCaptureFixture) -> None:
    app = restate.app(SERVICES, identity_keys=[SIGNER.public_key])
    caplog.set_level(logging.WARNING, logger="restate_sdk")
    for _ in range(3):
        for token in bad_tokens(SIGNER, OTHER, "/discover").values():
            status, body = await _get(app, "/discover", headers(token))
            assert status == 401, body
            assert body.startswith(b"request identity check failed: ")
    lines = [r for r in caplog.records if "identity" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].exc_info is None and len(lines[0].getMessage()) < 300
    status, _ = await _get(app, "/discover", {**headers(SIGNER.token("/discover")), "accept": "*/*"})
    assert status != 401


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], "identity_keys=[] lists no key"),
        ("publickeyv1_abc", "must be a list of keys, not one string: identity_keys=['publickeyv1_abc']"),
        (["publickeyv1_0OIl"], "identity_keys[0] 'publickeyv1_0OIl' has '0' at position 12"),
        ([SIGNER.public_key, "pk_abc"], "identity_keys[1] 'pk_abc' does not start with 'publickeyv1_'"),
        (["publickeyv1_abc"], "decodes to 3 bytes, not to a 32-byte Ed25519 public key"),
        ([42], "identity_keys[0] is of type int, not a"),
        (7, "must be a list of 'publickeyv1_...' strings"),
    ],
)
def test_bad_key_configuration_fails_when_the_app_is_built(keys: Any, message: str) -> None:
    with pytest.raises(SdkUsageError) as info:
        restate.app(SERVICES, identity_keys=keys)
    assert message in str(info.value)


def test_no_keys_means_no_verification() -> None:
    assert restate.app(SERVICES, identity_keys=None)._verifier is None
