"""The post-call activities: idempotent synthesis and next action (LLM JSON or rules), the summary SMS
sent at most once (lease + mark), and the done mark."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from local.llm_server import ScriptedLlmServer
from shared.composition import Services
from shared.insights.activities import has_interaction, post_call_input, run_activity
from shared.insights.summary_sms import STALE_AFTER_SEC, SmsInProgressError, lease_key
from shared.jobs.base import POST_CALL, Job
from shared.models import Call, MessageAction, NextActionKind, Persona, Satisfaction
from shared.sms.base import OutboxSms, SmsError, SmsOutcomeUnknownError, SmsUnavailableError
from tests.insights.support import CALLER, ScriptedSms, local_services, new_call, payload


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = local_services(tmp_path)
    yield built
    await built.aclose()


async def _reload(services: Services, call: Call) -> Call:
    stored = await services.store.get(call.call_id)
    assert stored is not None
    return stored


def _outbox(services: Services) -> OutboxSms:
    assert isinstance(services.sms, OutboxSms)
    return services.sms


async def test_post_call_input_says_whether_anyone_talked(services: Services) -> None:
    talked = await new_call(services, said=["My car was stolen."])
    silent = await new_call(services)
    for call, interaction in ((talked, True), (silent, False)):
        made = await post_call_input(services, Job(kind=POST_CALL, call_id=str(call.call_id)))
        assert made == {"call_id": str(call.call_id), "caller_phone": CALLER, "interaction": interaction}
        assert has_interaction(call) is interaction
    assert await post_call_input(services, Job(kind="other", call_id=str(talked.call_id))) is None


async def test_synthesis_and_next_action_are_written_once_from_rules_without_an_llm(
    services: Services,
) -> None:
    call = await new_call(services, said=["My car was stolen."], claim={"caller_name": "Jean Dupont"})
    assert await run_activity(services, "synthesis", payload(call)) == {
        "status": "written",
        "source": "rules",
    }
    first = await _reload(services, call)
    assert first.synthesis is not None and "Jean Dupont" in first.synthesis.short
    assert first.synthesis.satisfaction is Satisfaction.UNKNOWN
    assert (await run_activity(services, "synthesis", payload(call)))["status"] == "kept"
    assert (await _reload(services, call)).synthesis == first.synthesis
    action = await run_activity(services, "next_action", payload(call))
    assert action == {"status": "written", "source": "rules", "action": "customer_will_send_info"}
    assert (await run_activity(services, "next_action", payload(call)))["status"] == "kept"


@pytest.fixture
def llm() -> Iterator[ScriptedLlmServer]:
    with ScriptedLlmServer() as server:
        yield server


async def test_an_llm_writes_synthesis_and_next_action_as_validated_json(
    tmp_path: Path, llm: ScriptedLlmServer
) -> None:
    services = local_services(tmp_path, llm={"slow": {"base_url": llm.base_url, "model": "slow-model"}})
    try:
        call = await new_call(services, said=["Thank you so much, that was perfect."])
        llm.script.add_text(
            'Here it is: ```json\n{"short": "Car theft reported.", "long": "The caller reported a theft.", '
            '"satisfaction": "high", "improvement_suggestions": ""}\n```'
        )
        llm.script.add_text('{"action": "case_closed", "justification": "Everything was collected."}')
        assert (await run_activity(services, "synthesis", payload(call)))["source"] == "llm"
        assert (await run_activity(services, "next_action", payload(call)))["source"] == "llm"
        stored = await _reload(services, call)
        assert stored.synthesis is not None and stored.synthesis.short == "Car theft reported."
        assert stored.synthesis.satisfaction is Satisfaction.HIGH
        assert stored.next is not None and stored.next.action is NextActionKind.CASE_CLOSED
        assert (
            llm.requests[0].model == "slow-model" and llm.requests[0].body["messages"][0]["role"] == "system"
        )
    finally:
        await services.aclose()


async def test_invalid_llm_answers_fall_back_to_the_other_model_then_to_rules(
    tmp_path: Path, llm: ScriptedLlmServer
) -> None:
    services = local_services(
        tmp_path,
        llm={
            "slow": {"base_url": llm.base_url, "model": "slow-model"},
            "fast": {"base_url": llm.base_url, "model": "fast-model"},
        },
    )
    try:
        call = await new_call(services, said=["Hello"])
        llm.script.add_text('{"short": "no long field"}', model="slow-model")
        llm.script.add_text(
            '{"short": "From the fast model.", "long": "Fast.", "satisfaction": "unknown"}',
            model="fast-model",
        )
        llm.script.add_text('{"action": "call_the_pope", "justification": "?"}', model="slow-model")
        llm.script.add_error(503, model="fast-model")
        assert (await run_activity(services, "synthesis", payload(call)))["source"] == "llm"
        assert (await run_activity(services, "next_action", payload(call)))["source"] == "rules"
        stored = await _reload(services, call)
        assert stored.synthesis is not None and stored.synthesis.short == "From the fast model."
        assert stored.next is not None
    finally:
        await services.aclose()


async def test_the_summary_sms_goes_once_with_the_link_and_joins_the_transcript(services: Services) -> None:
    call = await new_call(services, said=["My car was stolen."])
    await run_activity(services, "synthesis", payload(call))
    sent = await run_activity(services, "sms_summary", payload(call))
    assert sent["status"] == "sent"
    assert await run_activity(services, "sms_summary", payload(call)) == {"status": "already_sent"}
    (message,) = _outbox(services).outbox
    assert message.to == CALLER and message.body.startswith("Contoso: ")
    assert f"https://calls.example.org/api/report/{call.call_id}?expires=" in message.body
    stored = await _reload(services, call)
    assert stored.summary_sms_sent_at is not None and stored.summary_sms_error is None
    assert (
        stored.messages[-1].action is MessageAction.SMS and stored.messages[-1].persona is Persona.ASSISTANT
    )
    assert await services.cache.get(lease_key(call.call_id)) is None


async def test_concurrent_attempts_send_one_sms(services: Services) -> None:
    call = await new_call(services, said=["Hello"])
    results = await asyncio.gather(
        *(run_activity(services, "sms_summary", payload(call)) for _ in range(3)), return_exceptions=True
    )
    assert len(_outbox(services).outbox) == 1
    assert sum(1 for r in results if isinstance(r, dict) and r["status"] == "sent") == 1
    assert all(isinstance(r, dict | SmsInProgressError) for r in results)


async def test_a_crash_mid_send_is_never_resent_silently(services: Services) -> None:
    call = await new_call(services, said=["Hello"])
    key = lease_key(call.call_id)
    await services.cache.set(key, f"sending|dead|{time.time():.3f}".encode(), ttl_sec=3600)
    with pytest.raises(SmsInProgressError):  # fresh: maybe still sending
        await run_activity(services, "sms_summary", payload(call))
    await services.cache.set(
        key, f"sending|dead|{time.time() - STALE_AFTER_SEC - 1:.3f}".encode(), ttl_sec=3600
    )
    assert await run_activity(services, "sms_summary", payload(call)) == {"status": "unknown"}
    assert await run_activity(services, "sms_summary", payload(call)) == {
        "status": "not_sent",
        "error": (await _reload(services, call)).summary_sms_error,
    }
    assert _outbox(services).outbox == []
    assert "may have been sent" in ((await _reload(services, call)).summary_sms_error or "")


async def test_a_send_whose_mark_was_lost_is_marked_without_resending(services: Services) -> None:
    call = await new_call(services, said=["Hello"])
    await services.cache.set(lease_key(call.call_id), b"sent|SM123", ttl_sec=3600)
    assert (await run_activity(services, "sms_summary", payload(call)))["status"] == "sent"
    assert _outbox(services).outbox == []
    assert (await _reload(services, call)).summary_sms_sent_at is not None


async def test_delivery_failures_are_recorded_or_retried(tmp_path: Path) -> None:
    services = local_services(tmp_path)
    sms = ScriptedSms(errors=[SmsUnavailableError("down"), SmsError("number blocked")])
    services.sms = sms
    try:
        call = await new_call(services, said=["Hello"])
        with pytest.raises(SmsUnavailableError):  # transient: the orchestration retries
            await run_activity(services, "sms_summary", payload(call))
        assert (await _reload(services, call)).summary_sms_error is None
        refused = await run_activity(services, "sms_summary", payload(call))
        assert refused == {"status": "failed", "error": "number blocked"}
        assert (await _reload(services, call)).summary_sms_error == "refused: number blocked"
        assert (await run_activity(services, "sms_summary", payload(call)))["status"] == "not_sent"
        assert sms.outbox == []

        unknown = await new_call(services, said=["Hello"])
        sms.errors.append(SmsOutcomeUnknownError("read timeout"))
        assert (await run_activity(services, "sms_summary", payload(unknown)))["status"] == "unknown"
        assert await services.cache.get(lease_key(unknown.call_id)) is not None  # kept: never resent
        assert "may have been sent" in ((await _reload(services, unknown)).summary_sms_error or "")
    finally:
        await services.aclose()


async def test_mark_done_is_set_once(services: Services) -> None:
    call = await new_call(services)
    assert await run_activity(services, "mark_done", payload(call)) == {"status": "written"}
    done = (await _reload(services, call)).post_call_done_at
    assert await run_activity(services, "mark_done", payload(call)) == {"status": "kept"}
    assert (await _reload(services, call)).post_call_done_at == done
    with pytest.raises(ValueError, match="unknown post-call activity"):
        await run_activity(services, "dance", payload(call))
