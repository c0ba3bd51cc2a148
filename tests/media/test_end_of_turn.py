"""The end-of-turn decision: what the words say (English and French), and the silence each verdict
waits for, with the model's probability and the flags (0 honoured)."""

from __future__ import annotations

import asyncio

import pytest

from media_host.end_of_turn import TurnEnd, TurnEndPolicy, Verdict, number_cut_short, words_verdict
from shared.flags.base import FeatureFlags

FINISHED, UNFINISHED, UNSURE = Verdict.FINISHED, Verdict.UNFINISHED, Verdict.UNSURE


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("I had a car accident this morning.", FINISHED),
        ("Can I bring the car to my usual garage?", FINISHED),
        ("Yes, it is.", FINISHED),
        ("I think so.", FINISHED),
        ("What is it about?", FINISHED),  # a question may end with a preposition
        ("That is all for now, thank you for your help.", FINISHED),
        ("My policy number is 4471023.", FINISHED),
        ("Call me back on 06 12 34 56 78.", FINISHED),
        ("My account number is.", UNFINISHED),  # Whisper's period on a half sentence
        ("It happened around.", UNFINISHED),
        ("I was driving to the office and.", UNFINISHED),
        ("The car is a.", UNFINISHED),
        ("It is about.", UNFINISHED),
        ("I want to talk to my.", UNFINISHED),
        ("Um.", UNFINISHED),
        ("So, uh.", UNFINISHED),
        ("I was going to say...", UNFINISHED),
        ("I was going to say,", UNFINISHED),
        ("My account number is 771.", UNFINISHED),  # a number cut in two
        ("My account number is seven seven one.", UNFINISHED),
        ("My phone number is 06 12 34.", UNFINISHED),
        ("So.", UNFINISHED),
        ("My phone number is 06. 12 12 12 12 12 12 12 12 12 12", UNFINISHED),  # Whisper looping on "12"
        ("My count numbers.", UNFINISHED),  # "My account number is" misheard: only the number's name
        ("The policy number.", UNFINISHED),
        ("I lost my policy number.", FINISHED),
        ("What is my account number?", FINISHED),
        ("Call me back on 06 55 55 55 12.", FINISHED),  # a number said three times running is no loop
        ("I had an accident", UNSURE),
        ("", UNSURE),
    ],
)
def test_english_words(text: str, verdict: Verdict) -> None:
    assert words_verdict(text, "en-US") is verdict


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("J'ai eu un accident ce matin.", FINISHED),
        ("Merci beaucoup.", FINISHED),
        ("C'est pour quoi ?", FINISHED),
        ("Mon numéro de contrat est.", UNFINISHED),
        ("Je voudrais parler à.", UNFINISHED),
        ("C'était pour la.", UNFINISHED),
        ("Euh.", UNFINISHED),
        ("Alors, euh...", UNFINISHED),
        ("Mon numéro de téléphone est le 06 12.", UNFINISHED),
        ("Je suis à Paris parce qu'", UNFINISHED),
        ("Mon numéro de contrat.", UNFINISHED),
    ],
)
def test_french_words(text: str, verdict: Verdict) -> None:
    assert words_verdict(text, "fr-FR") is verdict


def test_a_number_is_cut_short_only_when_the_caller_is_giving_one() -> None:
    assert number_cut_short(["my", "account", "number", "is", "771"])
    assert not number_cut_short(["my", "account", "number", "is", "77104512"])
    assert number_cut_short(["call", "me", "on", "06", "12", "34", "56"])
    assert not number_cut_short(["call", "me", "on", "06", "12", "34", "56", "78"])
    assert not number_cut_short(["i", "have", "2", "cars"])  # no identifier being given


POLICY = TurnEndPolicy(sentence_end_ms=300, silence_ms=500, unfinished_ms=1500, model_threshold=0.5)


def test_finished_words_the_model_agrees_end_after_the_short_pause() -> None:
    assert POLICY.wait_ms(FINISHED, 0.93) == 300
    assert POLICY.wait_ms(FINISHED, None) == 300  # no model (or not ready): the words decide


def test_finished_words_the_model_doubts_wait_the_usual_silence() -> None:
    assert POLICY.wait_ms(FINISHED, 0.2) == 500


def test_finished_words_the_model_is_sure_go_on_wait_long() -> None:
    assert POLICY.wait_ms(FINISHED, 0.02) == 1500  # "I'm not sure." cut before "if the police..."
    no_hold = TurnEndPolicy(sentence_end_ms=300, silence_ms=500, unfinished_ms=1500, hold_threshold=0.0)
    assert no_hold.wait_ms(FINISHED, 0.02) == 500


def test_a_short_utterance_the_model_calls_unfinished_waits_long() -> None:
    """Whisper drops a short last word ("I'm not sure if" heard "I'm not sure."): on three words or
    fewer the model's "unfinished" holds the turn from the short hold threshold (0.15) down."""
    assert POLICY.wait_ms(FINISHED, 0.07, words=3) == 1500
    assert POLICY.wait_ms(FINISHED, 0.07, words=4) == 500  # a longer sentence: the usual hold threshold
    assert POLICY.wait_ms(FINISHED, 0.36, words=3) == 500  # "Not at all.": the model doubts, not sure
    assert POLICY.wait_ms(FINISHED, 0.9, words=1) == 300  # "Yes."
    no_model = TurnEndPolicy(sentence_end_ms=300, silence_ms=500, unfinished_ms=1500, model_threshold=0.0)
    assert no_model.wait_ms(FINISHED, 0.07, words=3) == 300
    off = TurnEndPolicy(sentence_end_ms=300, silence_ms=500, unfinished_ms=1500, short_hold_threshold=0.0)
    assert off.wait_ms(FINISHED, 0.07, words=3) == 500


def test_unfinished_words_wait_long_whatever_the_model_says() -> None:
    assert POLICY.wait_ms(UNFINISHED, 0.98) == 1500
    assert POLICY.wait_ms(UNFINISHED, None) == 1500


def test_the_model_alone_holds_the_turn_when_the_words_are_unsure_or_not_transcribed_yet() -> None:
    assert POLICY.wait_ms(UNSURE, 0.1) == 1500
    assert POLICY.wait_ms(None, 0.1) == 1500
    assert POLICY.wait_ms(UNSURE, 0.8) == 500
    assert POLICY.wait_ms(None, None) == 500


def test_flags_at_zero_turn_each_shortcut_off() -> None:
    flags = FeatureFlags(
        vad_unfinished_timeout_ms=0, vad_end_of_turn_threshold=0.0, vad_sentence_end_timeout_ms=0
    )
    policy = TurnEndPolicy.from_flags(flags)
    assert policy.wait_ms(UNFINISHED, 0.1) == 500  # unfinished words: the plain silence only
    assert policy.wait_ms(UNSURE, 0.1) == 500  # the model is off
    assert policy.wait_ms(FINISHED, 0.9) == 500  # no early end on a finished sentence
    assert policy.longest_ms == 500


def test_defaults_come_from_the_flags() -> None:
    policy = TurnEndPolicy.from_flags(FeatureFlags())
    assert (policy.sentence_end_ms, policy.silence_ms, policy.unfinished_ms) == (300, 500, 1500)
    assert policy.model_threshold == 0.5 and policy.hold_threshold == 0.05 and policy.longest_ms == 1500
    assert policy.short_hold_threshold == 0.15


async def _done(text: str) -> str:
    return text


async def test_the_turn_ends_when_the_pause_is_long_enough_for_what_was_said() -> None:
    turn_end = TurnEnd(POLICY)
    finished = [asyncio.create_task(_done("My name is")), asyncio.create_task(_done("John Smith."))]
    unfinished = [asyncio.create_task(_done("My account number is")), asyncio.create_task(_done("771."))]
    await asyncio.gather(*finished, *unfinished)
    assert not turn_end.ended(288, finished, "en-US")
    assert turn_end.ended(300, finished, "en-US")  # the segments are joined: "My name is John Smith."
    assert not turn_end.ended(1000, unfinished, "en-US")  # "... number is 771." is a number cut short
    assert turn_end.ended(1500, unfinished, "en-US")  # the long pause ends it anyway


async def test_a_transcript_not_ready_yet_waits_the_usual_silence() -> None:
    turn_end = TurnEnd(POLICY)
    pending = [asyncio.create_task(asyncio.sleep(10, result="Hello."))]
    assert not turn_end.ended(300, pending, "en-US")
    assert turn_end.ended(500, pending, "en-US")
    pending[0].cancel()
