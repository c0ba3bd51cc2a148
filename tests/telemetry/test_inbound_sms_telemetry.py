"""A text from the caller joins their latest call as a `call.sms` span (kind inbound) linked to the span
that answered that call, with the call id in the span and in the log line, and never the number."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from shared.composition import build_services
from shared.models import Call
from shared.settings import load_settings
from shared.sms.inbound import receive_sms
from shared.telemetry import names
from tests.telemetry.conftest import Captured

CALLER = "+33612345678"
ANSWERED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.usefixtures("entry_point_logging")
async def test_an_inbound_text_is_a_linked_span_of_its_call(
    tmp_path: Path, telemetry: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    services = build_services(load_settings(store={"sqlite": {"path": tmp_path / "calls.sqlite3"}}))
    try:
        call = Call(caller_phone=CALLER)
        call.connection.trace_parent = ANSWERED
        call = await services.store.create(call)
        telemetry.spans.clear()
        caplog.set_level(logging.INFO)
        assert await receive_sms(services, CALLER, services.settings.acs.phone_number, "I have a photo")
    finally:
        await services.aclose()
    [span] = [s for s in telemetry.finished() if s.name == names.SPAN_SMS]
    assert span.attributes is not None
    assert span.attributes[names.ATTR_SMS_KIND] == "inbound"
    assert span.attributes[names.ATTR_CALL_ID] == str(call.call_id)
    assert [f"{link.context.span_id:016x}" for link in span.links] == ["b7ad6b7169203331"]
    assert CALLER not in " ".join(str(v) for v in span.attributes.values())
    assert any(r.getMessage() == f"inbound SMS added to call {call.call_id}" for r in caplog.records)
