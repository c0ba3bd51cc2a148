"""Calls to report on: one complete call and two sparse ones, with known secrets that must never show."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.models import (
    Call,
    CallDirection,
    Message,
    MessageAction,
    NextAction,
    NextActionKind,
    Persona,
    Reminder,
    ReminderOwner,
    Satisfaction,
    Synthesis,
    ToolCall,
    TurnLatency,
)
from shared.settings import Settings, load_settings
from shared.store.sqlite import SqliteCallStore

KEY = "report-test-key"
SIGNING_KEY = "report-test-signing-key"
SECRET_MARKERS = ("CALLBACK-SECRET-XYZ", "MEDIA-SECRET-XYZ")
NOW = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)
MAIN_PHONE = "+33612345678"
OTHER_PHONE = "+33698765432"
SCRIPT = "<script>alert('pwned')</script>"
LATENCIES = (
    (120, 310, 480, 560, 590),
    (95, 280, 450, 530, 555),
    (140, 350, 700, 790, 820),
)


def report_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "api": {"key": KEY, "public_url": "http://report.example"},
        "store": {"sqlite": {"path": tmp_path / "calls.sqlite3"}},
        "report": {"signing_key": SIGNING_KEY},
    }
    values.update(overrides)
    return load_settings(**values)


def isolated_report_settings(data: Path, **overrides: object) -> Settings:
    """`report_settings` for a module-scoped fixture: the developer's own settings (environment,
    local.settings.json) left out, as the function-scoped `monkeypatch` does for other tests."""
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith(("MODE", "API__", "STORE__", "REPORT__", "BLOBS__")):
                env.delenv(name)
        env.setenv("LOCAL_SETTINGS_PATH", str(data / "absent-local.settings.json"))
        return report_settings(data, **overrides)


def full_call() -> Call:
    """Everything the call page shows: synthesis, claim, reminders, next action, tools, three turns."""
    started = NOW - timedelta(hours=1)
    call = Call(
        created_at=started,
        updated_at=started + timedelta(minutes=4),
        direction=CallDirection.INBOUND,
        caller_phone=MAIN_PHONE,
        bot_phone="+33100000000",
        lang_short_code="en-US",
        claim={
            "caller_name": "Jane Doe",
            "caller_email": "jane.doe@example.com",
            "caller_phone": MAIN_PHONE,
            "incident_datetime": "2025-03-13T22:30:00+01:00",
            "incident_description": f"Water leak in the kitchen {SCRIPT}",
        },
        synthesis=Synthesis(
            short="Kitchen water leak reported by Jane Doe.",
            long="The caller reported a water leak under the kitchen sink the night before.",
            satisfaction=Satisfaction.HIGH,
            improvement_suggestions="Ask for photos of the damage earlier.",
        ),
        next=NextAction(
            action=NextActionKind.REQUIRES_EXPERTISE,
            justification="A plumber must assess the damage before any refund.",
        ),
        reminders=[
            Reminder(
                title="Call back about the plumber",
                description="Confirm the plumber's visit.",
                due_date_time=NOW + timedelta(days=1),
                owner=ReminderOwner.AGENT,
            )
        ],
        recording_url="http://127.0.0.1:9/recordings/call.wav",
        turns=[
            TurnLatency(
                stt_final_ms=stt,
                llm_first_token_ms=llm,
                first_sentence_ms=sentence,
                tts_first_audio_ms=tts,
                first_frame_out_ms=frame,
            )
            for stt, llm, sentence, tts, frame in LATENCIES
        ],
    )
    call.secrets.callback, call.secrets.media = SECRET_MARKERS
    call.messages = [
        Message(created_at=started, persona=Persona.ASSISTANT, content="Hello, this is Amélie from Contoso."),
        Message(
            created_at=started + timedelta(seconds=5),
            persona=Persona.HUMAN,
            content=f"My name is Jane Doe, there is water everywhere {SCRIPT}",
        ),
        Message(
            created_at=started + timedelta(seconds=7),
            persona=Persona.ASSISTANT,
            content="Thank you Jane, I noted your name.",
            tool_calls=[
                ToolCall(
                    id="call_1",
                    name="updated_claim",
                    arguments='{"field": "caller_name", "value": "Jane Doe"}',
                    result="caller_name is now 'Jane Doe'",
                )
            ],
        ),
        Message(
            created_at=started + timedelta(seconds=60),
            persona=Persona.ASSISTANT,
            action=MessageAction.HANGUP,
            content="Goodbye.",
        ),
    ]
    return call


def sparse_calls() -> list[Call]:
    closed = Call(
        created_at=NOW - timedelta(days=2),
        caller_phone=OTHER_PHONE,
        synthesis=Synthesis(short="Address change, done.", long="The caller moved."),
        next=NextAction(action=NextActionKind.CASE_CLOSED, justification="Nothing left to do."),
    )
    first = Call(created_at=NOW - timedelta(days=10), caller_phone=MAIN_PHONE)
    first.messages = [Message(created_at=first.created_at, persona=Persona.HUMAN, content="Is anyone there?")]
    for call in (closed, first):
        call.secrets.callback, call.secrets.media = SECRET_MARKERS
    return [closed, first]


async def seed(settings: Settings) -> list[Call]:
    """The three calls stored (newest first in the returned list)."""
    store = SqliteCallStore(settings.store.sqlite.path)
    try:
        return [await store.create(call) for call in [full_call(), *sparse_calls()]]
    finally:
        await store.close()
