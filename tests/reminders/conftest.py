"""Fixtures for the reminder call-back tests: runners (Services) on one SQLite file, and the real
redis-server fixture of the cache tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from shared.cache.base import Cache
from shared.composition import Services, build_services
from shared.models import Call, CallState, Message, Persona, Reminder, ReminderOwner
from shared.models.call import utc_now
from shared.settings import Settings, load_settings
from shared.telephony.base import CallLeg, CallRoute, RecordingTelephony, Telephony, TelephonyError
from tests.cache.conftest import redis_url  # noqa: F401 (the real redis-server, started once per session)

CALLER = "+33612345678"

Runner = Callable[..., AbstractAsyncContextManager[Services]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        store={"sqlite": {"path": tmp_path / "calls.sqlite3"}}, blobs={"files_dir": tmp_path / "blobs"}
    )


@pytest.fixture
def runner(settings: Settings) -> Runner:
    """A runner's Services (its own store object on the shared SQLite file) with the given cache and
    telephony, as a second process would have."""

    @asynccontextmanager
    async def build(
        *, cache: Cache | None = None, telephony: Telephony | None = None
    ) -> AsyncIterator[Services]:
        services = build_services(settings)
        if cache is not None:
            await services.cache.close()
            services.cache = cache
        if telephony is not None:
            services.telephony = telephony
        try:
            yield services
        finally:  # the shared cache and telephony are closed by their owner
            for closer in (services.store.close, services.recordings.close, services.blobs.close):
                await closer()

    return build


class FlakyTelephony(RecordingTelephony):
    """Dialing fails for the first `failures` calls (all of them with failures=-1)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.dials = 0

    async def create(self, target_phone: str, source_phone: str, route: CallRoute) -> CallLeg:
        self.dials += 1
        if self.failures < 0 or self.dials <= self.failures:
            raise TelephonyError(f"call to {target_phone} failed: the line is busy")
        return await super().create(target_phone, source_phone, route)


def reminder(title: str, due: datetime, owner: ReminderOwner = ReminderOwner.ASSISTANT) -> Reminder:
    return Reminder(title=title, description=f"about {title}", due_date_time=due, owner=owner)


def ended_call(*reminders: Reminder, phone: str = CALLER, at: datetime | None = None) -> Call:
    """A finished call with a short conversation, a claim and the given reminders."""
    at = at or utc_now() - timedelta(hours=1)
    call = Call(caller_phone=phone, created_at=at, updated_at=at, reminders=list(reminders))
    call.connection.state = CallState.DISCONNECTED
    call.claim = {"caller_name": "Jean Dupont"}
    call.messages = [
        Message(persona=Persona.ASSISTANT, content="Hello, how can I help?"),
        Message(persona=Persona.HUMAN, content="Call me back tomorrow please."),
    ]
    return call


def dialed(telephony: RecordingTelephony) -> list[str]:
    return [action.target or "" for action in telephony.actions if action.kind == "create"]
