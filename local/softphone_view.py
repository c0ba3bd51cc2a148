"""What the browser softphone shows of a call: the spoken transcript, the texts apart, the claim with
its missing fields in words, the caller's words of the turn in progress, the report link.

Built by the local stack from the call document (and its in-process media host) for the simulator's
`/softphone` page (`SimulatorConfig.softphone_events`).
"""

from __future__ import annotations

from typing import Any

from shared.claim.display import field_label, readable_value
from shared.models import Call, MessageAction, Persona

__all__ = ["softphone_view"]

_SPOKEN = {Persona.HUMAN, Persona.ASSISTANT}


def _claim(call: Call) -> list[dict[str, Any]]:
    names = [field.name for field in call.initiate.claim]
    names += [name for name in call.claim if name not in names]
    rows = []
    for name in names:
        value = call.claim.get(name)
        rows.append(
            {
                "field": name,
                "label": field_label(name),
                "value": value,
                "text": readable_value(value) if value else "",
                "missing": not value,
            }
        )
    return rows


def softphone_view(call: Call, interim: str, report_url: str | None) -> dict[str, Any]:
    """{messages: [{persona, text}], sms: [{persona, text}], claim: [...], interim, lang, report_url}."""
    spoken = [m for m in call.messages if m.persona in _SPOKEN and m.content]
    return {
        "messages": [
            {"persona": m.persona.value, "text": m.content}
            for m in spoken
            if m.action is not MessageAction.SMS
        ],
        "sms": [
            {"persona": m.persona.value, "text": m.content} for m in spoken if m.action is MessageAction.SMS
        ],
        "claim": _claim(call),
        "interim": interim,
        "lang": call.current_lang,
        "report_url": report_url,
    }
