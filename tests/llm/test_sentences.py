"""The first clause of a long first sentence is given before the sentence ends (the turn's first audio)."""

from __future__ import annotations

from local.llm_script import split_tokens
from shared.llm.sentences import SentenceSplitter

REPLY = (
    "Thank you for telling me about the accident, I have noted everything you said. "
    "Was anyone else in the car with you?"
)


def streamed(splitter: SentenceSplitter, text: str) -> list[tuple[int, str]]:
    """(token index at which it was given, piece) for every piece, as a model streams the text."""
    pieces = [
        (index, piece) for index, token in enumerate(split_tokens(text)) for piece in splitter.feed(token)
    ]
    return pieces + [(len(split_tokens(text)), piece) for piece in splitter.flush()]


def test_a_long_first_sentence_gives_its_first_clause_as_soon_as_the_comma_comes() -> None:
    pieces = streamed(SentenceSplitter(first_clause_words=6), REPLY)
    assert [piece for _, piece in pieces] == [
        "Thank you for telling me about the accident,",
        "I have noted everything you said.",
        "Was anyone else in the car with you?",
    ]
    comma = next(i for i, token in enumerate(split_tokens(REPLY)) if token.endswith(","))
    assert pieces[0][0] <= comma + 1  # given at the comma (the space after it), not at the full stop


def test_a_short_clause_or_a_later_comma_is_not_cut() -> None:
    text = "Of course, I can help. Your car, the blue one, is covered by the policy, as you asked."
    pieces = [piece for _, piece in streamed(SentenceSplitter(first_clause_words=6), text)]
    assert pieces == [
        "Of course, I can help.",
        "Your car, the blue one, is covered by the policy, as you asked.",
    ]


def test_numbers_keep_their_commas_and_the_default_gives_whole_sentences() -> None:
    text = "The repair estimate for your car comes to 1,250 euros in all, tax included."
    assert [p for _, p in streamed(SentenceSplitter(first_clause_words=6), text)] == [
        "The repair estimate for your car comes to 1,250 euros in all,",
        "tax included.",
    ]
    assert [p for _, p in streamed(SentenceSplitter(), REPLY)] == [
        "Thank you for telling me about the accident, I have noted everything you said.",
        "Was anyone else in the car with you?",
    ]
