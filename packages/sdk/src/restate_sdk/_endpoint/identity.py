"""Request identity (protocol.md §8): verify the Ed25519 JWT restate-server signs each request with."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._errors import SdkUsageError

__all__ = ["IdentityVerifier"]

_PREFIX = "publickeyv1_"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        idx = _B58.find(ch)
        if idx < 0:
            raise ValueError(f"invalid base58 character {ch!r}")
        n = n * 58 + idx
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + raw


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse_key(key: str) -> Ed25519PublicKey:
    if not key.startswith(_PREFIX):
        raise SdkUsageError(f"identity key must start with {_PREFIX!r}: {key!r}")
    raw = _b58decode(key[len(_PREFIX) :])
    if len(raw) != 32:
        raise SdkUsageError(f"identity key {key!r} does not decode to a 32-byte Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def _audience(path: str) -> str:
    segments = [s for s in path.split("/") if s]
    if len(segments) >= 3 and segments[-3] == "invoke":
        return "/" + "/".join(segments[-3:])
    if segments and segments[-1] == "discover":
        return "/discover"
    return path


class IdentityVerifier:
    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = [parse_key(k) for k in keys]

    def verify(self, path: str, headers: Mapping[str, str]) -> str | None:
        """None when the request is signed by one of our keys, else why not."""
        scheme = headers.get("x-restate-signature-scheme")
        if scheme is None:
            return "missing x-restate-signature-scheme header"
        if scheme != "v1":
            return f"signature scheme {scheme!r} is not accepted"
        token = headers.get("x-restate-jwt-v1")
        if not token:
            return "missing x-restate-jwt-v1 header"
        try:
            header_b64, payload_b64, sig_b64 = token.split(".")
            header: dict[str, Any] = json.loads(_b64url(header_b64))
            claims: dict[str, Any] = json.loads(_b64url(payload_b64))
            signature = _b64url(sig_b64)
        except ValueError:
            return "malformed JWT"
        if header.get("alg") != "EdDSA":
            return f"JWT algorithm {header.get('alg')!r} is not EdDSA"
        signed = f"{header_b64}.{payload_b64}".encode()
        for key in self._keys:
            try:
                key.verify(signature, signed)
                break
            except InvalidSignature:
                continue
        else:
            return "signature does not match any configured key"
        now = time.time()
        for claim in ("aud", "exp", "iat", "nbf"):
            if claim not in claims:
                return f"JWT lacks the {claim!r} claim"
        if claims["exp"] < now:
            return "JWT expired"
        if claims["nbf"] > now:
            return "JWT not yet valid"
        if claims["aud"] != _audience(path):
            return f"JWT audience {claims['aud']!r} does not match {_audience(path)!r}"
        return None
