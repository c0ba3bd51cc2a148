"""What every Event Grid trigger checks first: the Event Grid schema and the event type it handles."""

from __future__ import annotations

import logging

import azure.functions as func

log = logging.getLogger(__name__)


def accepts(event: object, event_type: str, function_name: str) -> bool:
    """True for an Event Grid-schema event of `event_type`. The worker hands a CloudEvents-schema
    delivery over as `func.CloudEvent`: that is a subscription set up with the wrong schema, logged once
    per delivery with the fix, never an AttributeError."""
    if not isinstance(event, func.EventGridEvent):
        log.error(
            "%s got a %s (a CloudEvents-schema delivery?): subscribe it with the Event Grid schema",
            function_name,
            type(event).__name__,
        )
        return False
    if event.event_type != event_type:
        log.info("event %s ignored by %s", event.event_type, function_name)
        return False
    return True
