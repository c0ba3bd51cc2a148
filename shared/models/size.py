"""How big one call document may grow, and the rule that keeps it there.

Cosmos DB refuses documents over 2 MB (its system properties included), and a call can be fed without
bound (texts to the bot's number, a talkative caller, many resumed calls in a row). The rule:

- per message: a text from the caller keeps its first `MAX_SMS_CHARS` characters (longer than any
  carrier delivers as one message); any message content, tool argument or result is capped at
  `MAX_MESSAGE_CHARS` by the model;
- per document: the JSON of the call stays under `MAX_DOCUMENT_BYTES` (1.5 MB: room under 2 MB for
  the store's own properties). When a write would pass it, the oldest per-turn latency records go
  first (past `MAX_TURN_RECORDS`), then the oldest messages; `messages_trimmed` counts the messages
  removed, so the report and the history say that earlier ones existed. The claim, reminders and the
  newest messages always stay.

`fit_document` is applied on every write made through `update_call` and on every resumed call.
"""

from __future__ import annotations

from shared.models.call import Call

MAX_DOCUMENT_BYTES = 1_500_000
MAX_SMS_CHARS = 2_000
MAX_TURN_RECORDS = 500
ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters (an ellipsis marking the cut)."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def document_bytes(call: Call) -> int:
    return len(call.model_dump_json(exclude={"etag"}).encode())


def fit_document(call: Call, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> int:
    """Trim `call` in place to `max_bytes` of JSON (see the module docstring); the messages removed."""
    if len(call.turns) > MAX_TURN_RECORDS:
        del call.turns[: len(call.turns) - MAX_TURN_RECORDS]
    excess = document_bytes(call) - max_bytes
    if excess <= 0:
        return 0
    removed = 0
    while excess > 0 and removed < len(call.messages) - 1:  # the newest message always stays
        excess -= len(call.messages[removed].model_dump_json().encode()) + 1  # its JSON and a comma
        removed += 1
    del call.messages[:removed]
    call.messages_trimmed += removed
    return removed
