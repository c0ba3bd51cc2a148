"""Calls spread over the last days for the fleet view: every outcome, both agents, known latencies."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.models import (
    AgentKind,
    Call,
    CallDirection,
    CallState,
    Message,
    MessageAction,
    Persona,
    TurnLatency,
)

OUTCOME_CYCLE = ("claim_complete", "transferred", "hung_up", "failed", "hung_up")


def fleet_call(created_at: datetime, outcome: str, agent: AgentKind | None, latencies: list[float]) -> Call:
    """A finished call (or one in progress) whose document says `outcome` the way calls end up stored."""
    call = Call(
        created_at=created_at, caller_phone="+33612345678", direction=CallDirection.INBOUND, agent=agent
    )
    call.turns = [TurnLatency(started_at=created_at, first_frame_out_ms=ms) for ms in latencies]
    call.connection.state = CallState.CONNECTED if outcome == "in_progress" else CallState.DISCONNECTED
    if outcome != "failed":
        call.connection.call_connection_id = f"conn-{created_at.timestamp():.0f}"
        call.messages = [
            Message(created_at=created_at, persona=Persona.ASSISTANT, content="Hello, how can I help?"),
            Message(created_at=created_at, persona=Persona.HUMAN, content="My car was stolen."),
        ]
    if outcome == "claim_complete":
        call.claim = {field.name: "filled" for field in call.initiate.claim}
    if outcome == "transferred":
        call.messages.append(
            Message(
                persona=Persona.ASSISTANT,
                action=MessageAction.TRANSFER,
                content="transferred to +33699999999",
            )
        )
    return call


def fleet_calls(now: datetime, days: int = 10) -> list[Call]:
    """Two or three calls a day over `days` days before `now`, one slow LLM call on the last day."""
    calls: list[Call] = []
    for day in range(days):
        created = now - timedelta(days=day, hours=1)
        for index in range(2 + day % 2):
            outcome = OUTCOME_CYCLE[(day + index) % len(OUTCOME_CYCLE)]
            agent = AgentKind.LLM if index % 2 == 0 else AgentKind.FORM
            base = 600.0 if agent is AgentKind.LLM else 400.0
            latencies = [] if outcome == "failed" else [base + 10 * day, base + 50 + 10 * day, base + 200]
            calls.append(fleet_call(created - timedelta(minutes=index), outcome, agent, latencies))
    calls.append(fleet_call(now - timedelta(minutes=5), "hung_up", AgentKind.LLM, [2400.0, 3100.0]))
    return calls
