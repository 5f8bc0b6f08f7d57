"""Ed25519 request-identity tokens as restate-server makes them, and broken ones, for the tests."""

from __future__ import annotations

import base64
import json
import random
import string
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b64(data: bytes | Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Signer:
    """A key pair: ``public_key`` is what ``identity_keys`` takes, ``pem`` what restate-server loads."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = "publickeyv1_" + b58encode(raw)
        self.pem = self.private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())

    def sign_parts(self, header: str, payload: str) -> str:
        signature = self.private.sign(f"{header}.{payload}".encode())
        return f"{header}.{payload}.{b64(signature)}"

    def token(self, aud: str, *, header: Any = None, claims: dict[str, Any] | None = None) -> str:
        now = int(time.time())
        body = {"aud": aud, "exp": now + 60, "iat": now, "nbf": now - 60, **(claims or {})}
        head = header if header is not None else {"typ": "JWT", "alg": "EdDSA", "kid": self.public_key}
        return self.sign_parts(b64(head), b64(body))


def headers(token: str) -> dict[str, str]:
    return {"x-restate-signature-scheme": "v1", "x-restate-jwt-v1": token}


def bad_tokens(signer: Signer, other: Signer, aud: str) -> dict[str, str]:
    """Tokens that must each get a 401, by name."""
    now = int(time.time())
    good = signer.token(aud)
    head, payload, sig = good.split(".")
    nested = "[" * 3000 + "]" * 3000
    return {
        "header-is-a-list": signer.sign_parts(b64([]), payload),
        "header-is-a-number": signer.sign_parts(b64(1), payload),
        "unsigned-header-is-a-list": f"{b64([])}.{payload}.{sig}",
        "nested-payload-unsigned": f"{head}.{b64(nested.encode())}.{sig}",
        "nested-payload-signed": signer.sign_parts(head, b64(nested.encode())),
        "exp-is-a-string": signer.token(aud, claims={"exp": "tomorrow"}),
        "nbf-is-null": signer.token(aud, claims={"nbf": None}),
        "aud-is-an-object": signer.token(aud, claims={"aud": {"x": 1}}),
        "payload-not-json": signer.sign_parts(head, b64(b"\xff\xfe{")),
        "payload-a-list": signer.sign_parts(head, b64([1, 2])),
        "oversized-5k": signer.sign_parts(head, b64({"aud": aud, "pad": "p" * 5000})),
        "oversized-20k": "a" * 20_000 + "." + payload + "." + sig,
        "other-key": other.token(aud),
        "expired": signer.token(aud, claims={"exp": now - 5}),
        "not-yet-valid": signer.token(aud, claims={"nbf": now + 300}),
        "wrong-audience": signer.token("/invoke/Other/x"),
        "alg-none": f"{b64({'alg': 'none'})}.{payload}.",
        "alg-hs256": signer.sign_parts(b64({"alg": "HS256", "typ": "JWT"}), payload),
        "two-parts": f"{head}.{payload}",
        "four-parts": f"{good}.{sig}",
        "bad-base64": f"{head}.{payload}.{'*' * 86}",
        "short-signature": f"{head}.{payload}.{sig[:40]}",
        "missing-claims": signer.sign_parts(head, b64({"aud": aud})),
        "empty": "",
    }


def mutated_tokens(rng: random.Random, good: str, n: int) -> list[str]:
    """``n`` random corruptions of ``good``, each certain to break it (the last signature character
    is left alone: two of its bits are padding, so some changes there decode to the same signature)."""
    alphabet = string.ascii_letters + string.digits + "-_.=+/ "
    out: list[str] = []
    while len(out) < n:
        t = list(good)
        for _ in range(rng.randint(1, 4)):
            if len(t) < 2:
                break
            op, pos = rng.randrange(4), rng.randrange(len(t) - 1)
            if op == 0:
                t[pos] = rng.choice(alphabet)
            elif op == 1:
                t.insert(pos, rng.choice(alphabet))
            elif op == 2:
                del t[pos]
            else:
                t = t[:pos]
        token = "".join(t)
        if token.strip() not in (good, ""):  # servers strip the blanks around a header value
            out.append(token)
    return out
