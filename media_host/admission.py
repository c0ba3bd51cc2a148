"""Who may open a call's media socket, and how much a socket may send.

A socket is admitted for one call only: with the call's own media secret (`?token=`, the URL the
function app gave the telephony service), or with the telephony service's signed JWT AND the call
connection id it names (`x-ms-call-connection-id`) matching the call document, since ACS's JWT is
not bound to a call. Credentials are checked before saying whether the call exists: an unknown call
is 4404 only for a valid JWT, 4401 for anyone else. The connection id is written when the answer
returns, which can be a moment after the socket arrives, so a JWT socket waits up to
`BIND_WAIT_SEC` for it.

`SocketLimits` bounds each admitted socket: a message over `MAX_MESSAGE_BYTES` or more than
`MAX_MESSAGES_PER_SEC` messages in a second closes it (ACS sends 50 frames of about 1.3 kB a second;
a merely malformed or oversized audio frame under the limit is dropped by the protocol parser instead).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from shared.calls.routing import PARTITION_PARAM, partition_key
from shared.composition import Services
from shared.models import Call, CallState
from shared.telephony.callback_auth import CallbackAuthError

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_FINISHED = 4410
CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008
CONNECTION_HEADER = "x-ms-call-connection-id"
BIND_WAIT_SEC = 3.0
BIND_POLL_SEC = 0.1
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_MESSAGES_PER_SEC = 2000


@dataclass(frozen=True)
class Admission:
    """The call the socket may serve, or the close code and reason to refuse it with."""

    call: Call | None
    code: int | None = None
    reason: str = ""


async def _jwt_valid(services: Services, authorization: str | None) -> bool:
    if not authorization:
        return False
    try:
        await services.callback_verifier.verify(authorization)
    except CallbackAuthError:
        return False
    return True


def _token_valid(token: str | None, call: Call | None) -> bool:
    expected = call.secrets.media if call is not None else None
    return bool(token and expected and hmac.compare_digest(token.encode(), expected.encode()))


async def admit(
    services: Services, call_id: UUID, query: Mapping[str, str], headers: Mapping[str, str]
) -> Admission:
    """Decide on one media socket for `call_id` (see the module docstring)."""
    jwt_ok: bool | None = None
    if not query.get("token"):  # only a JWT can admit it: check it before any store read
        jwt_ok = await _jwt_valid(services, headers.get("authorization"))
        if not jwt_ok:
            return Admission(None, CLOSE_UNAUTHORIZED, "unauthorized")
    call = await services.store.get(call_id, caller_phone=partition_key(query.get(PARTITION_PARAM)))
    token_ok = _token_valid(query.get("token"), call)
    if not token_ok:
        if jwt_ok is None:
            jwt_ok = await _jwt_valid(services, headers.get("authorization"))
        if call is None:
            return Admission(
                None,
                CLOSE_NOT_FOUND if jwt_ok else CLOSE_UNAUTHORIZED,
                "unknown call" if jwt_ok else "unauthorized",
            )
        if not jwt_ok:
            return Admission(None, CLOSE_UNAUTHORIZED, "unauthorized")
        call = await _bound_call(services, call, headers.get(CONNECTION_HEADER))
        if call is None:
            return Admission(None, CLOSE_UNAUTHORIZED, "the token is not for this call")
    assert call is not None
    if call.connection.state is CallState.DISCONNECTED:
        return Admission(None, CLOSE_FINISHED, "call finished")
    return Admission(call)


async def _bound_call(services: Services, call: Call, connection_id: str | None) -> Call | None:
    """The call when `connection_id` is its call connection id (waiting a moment for it to be stored)."""
    if not connection_id:
        return None
    deadline = time.monotonic() + BIND_WAIT_SEC
    current: Call | None = call
    while current is not None:
        stored = current.connection.call_connection_id
        if stored is not None:
            return current if hmac.compare_digest(stored.encode(), connection_id.encode()) else None
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(BIND_POLL_SEC)
        current = await services.store.get(call.call_id, caller_phone=call.caller_phone)
    return None


@dataclass
class SocketLimits:
    """Per-socket bounds on message size and rate; `check` says why to close, or None."""

    max_bytes: int = MAX_MESSAGE_BYTES
    max_per_sec: int = MAX_MESSAGES_PER_SEC
    clock: Callable[[], float] = time.monotonic
    _window_start: float = field(default=-1.0)
    _count: int = 0

    def check(self, message: str | bytes) -> tuple[int, str] | None:
        if len(message) > self.max_bytes:
            return CLOSE_TOO_BIG, f"message over {self.max_bytes} bytes"
        now = self.clock()
        if now - self._window_start >= 1.0:
            self._window_start, self._count = now, 0
        self._count += 1
        if self._count > self.max_per_sec:
            return CLOSE_POLICY, f"more than {self.max_per_sec} messages a second"
        return None
