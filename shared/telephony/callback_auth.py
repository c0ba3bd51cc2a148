"""Check that a callback really comes from the telephony service: an RS256 JWT signed with a key of the
service's JWKS (fetched and cached), with the expected issuer and audience. Plus per-call secrets.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
from typing import Any

import httpx
import jwt

JWKS_TTL_SEC = 3600.0
JWKS_MIN_REFRESH_SEC = 30.0
LEEWAY_SEC = 30


class CallbackAuthError(Exception):
    """The request is not from the telephony service, or not for this call (HTTP 401)."""


def new_call_secret() -> str:
    return secrets.token_urlsafe(24)


def check_call_secret(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CallbackAuthError("wrong or missing per-call secret")


class JwtVerifier:
    """Verifies bearer tokens against a JWKS URL. One per process; safe to share between calls."""

    def __init__(self, *, jwks_url: str, issuer: str, audience: str | None, timeout_sec: float = 5.0) -> None:
        self._jwks_url, self._issuer, self._audience = jwks_url, issuer, audience
        self._timeout = timeout_sec
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if self._keys and (age < JWKS_MIN_REFRESH_SEC or (not force and age < JWKS_TTL_SEC)):
                return
            try:
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    response = await client.get(self._jwks_url)
                    response.raise_for_status()
                jwks = jwt.PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as exc:
                if self._keys:
                    return  # keep the keys we have; the service may be briefly unreachable
                raise CallbackAuthError(
                    f"cannot fetch the signing keys from {self._jwks_url}: {exc}"
                ) from exc
            self._keys = {key.key_id: key for key in jwks.keys if key.key_id}
            self._fetched_at = time.monotonic()

    async def verify(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, or CallbackAuthError. `authorization` is the raw header value."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise CallbackAuthError("missing bearer token")
        token = authorization[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise CallbackAuthError(f"malformed token: {exc}") from exc
        if header.get("alg") != "RS256":
            raise CallbackAuthError("token is not RS256")
        kid = header.get("kid")
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)  # the service may have rotated its keys
        key = self._keys.get(kid or "")
        if key is None:
            raise CallbackAuthError("token signed with an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_SEC,
                options={"require": ["exp", "iss", "aud"], "verify_aud": self._audience is not None},
            )
        except jwt.InvalidTokenError as exc:
            raise CallbackAuthError(f"invalid token: {exc}") from exc
        return claims


def parse_events(body: bytes) -> list[dict[str, Any]]:
    """A callback body: a JSON array of CloudEvents (a single object is accepted too)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"body is not JSON: {exc}") from exc
    events = data if isinstance(data, list) else [data]
    if not all(isinstance(event, dict) and isinstance(event.get("type"), str) for event in events):
        raise ValueError("expected an array of CloudEvents with a 'type'")
    return events
