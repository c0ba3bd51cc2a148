"""Both directions of ACS authentication.

Inbound: the SDK signs each REST request with HMAC-SHA256 over
`VERB\\n<path?query>\\n<x-ms-date>;<host>;<x-ms-content-sha256>` using the base64-decoded access key
and sends `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<b64>`.

Outbound: callbacks and the media websocket carry `Authorization: Bearer <JWT>`, RS256-signed with a key
generated at start (its `kid` in the header), claims `iss`, `aud`, `iat`, `nbf`, `exp`; the public key is
served as a JWKS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = ["MAX_CLOCK_SKEW_S", "TokenSigner", "check_hmac", "decode_access_key"]

MAX_CLOCK_SKEW_S = 15 * 60
_SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"


def decode_access_key(access_key: str) -> bytes:
    """The HMAC secret: the access key is base64, as in an ACS connection string."""
    try:
        return base64.b64decode(access_key, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the ACS access key must be base64") from exc


def _signature(secret: bytes, string_to_sign: str) -> str:
    digest = hmac.new(secret, string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _header_problem(headers: Mapping[str, str], body: bytes) -> str | None:
    """Why the date or content-hash headers are unacceptable, if they are."""
    date, content_hash = headers.get("x-ms-date"), headers.get("x-ms-content-sha256")
    if not date or not content_hash or not headers.get("host"):
        return "missing x-ms-date, x-ms-content-sha256 or host header"
    try:
        sent_at = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return "malformed x-ms-date"
    if sent_at.tzinfo is None or abs((datetime.now(UTC) - sent_at).total_seconds()) > MAX_CLOCK_SKEW_S:
        return "x-ms-date is too far from the current time"
    if not hmac.compare_digest(content_hash, base64.b64encode(hashlib.sha256(body).digest()).decode()):
        return "x-ms-content-sha256 does not match the body"
    return None


def check_hmac(
    secret: bytes, *, method: str, raw_path: str, query: str, headers: Mapping[str, str], body: bytes
) -> str | None:
    """None when the request is signed with the key, else the reason it is refused."""
    authorization = headers.get("authorization", "")
    prefix = f"HMAC-SHA256 SignedHeaders={_SIGNED_HEADERS}&Signature="
    if not authorization.startswith(prefix):
        return "missing or malformed HMAC-SHA256 Authorization header"
    problem = _header_problem(headers, body)
    if problem is not None:
        return problem
    signed = f"{headers['x-ms-date']};{headers['host']};{headers['x-ms-content-sha256']}"
    given = authorization[len(prefix) :]
    target = raw_path + (f"?{query}" if query else "")
    for candidate in dict.fromkeys((target, unquote(target))):
        expected = _signature(secret, f"{method.upper()}\n{candidate}\n{signed}")
        if hmac.compare_digest(given, expected):
            return None
    return "the HMAC signature does not match the access key"


class TokenSigner:
    """An RS256 key pair: signs callback and websocket JWTs, publishes the JWKS."""

    def __init__(self, *, audience: str, ttl_s: int = 300, issuer: str = "") -> None:
        self.audience, self.ttl_s, self.issuer = audience, ttl_s, issuer
        self.kid = uuid.uuid4().hex
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def token(self) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience, "iat": now, "nbf": now, "exp": now + self.ttl_s}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        jwk = dict(RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}
