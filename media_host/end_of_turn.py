"""When the caller has finished: the end-of-turn decision of one call (per call, no I/O of its own).

Three signals, read at every frame of a pause once everything said is cut into segments:

- the words (`words_verdict`): a last word that announces more ("is", "the", "about", "and", "my",
  "de", "est", "pour"...), a filler ("uh", "um", "euh"), a trailing comma or "...", or a number cut
  short (fewer digits than an identifier or a phone number has) mean UNFINISHED whatever the
  punctuation; a final ".", "?" or "!" otherwise means FINISHED; anything else is UNSURE;
- the acoustic end-of-turn model (`shared.speech.base.TurnEndModel`, smart-turn by default): the
  probability that the caller's last seconds of audio end a turn, computed at the speculative pause
  (`Pause`, 64 ms), in parallel with the transcript;
- the pause length.

`TurnEndPolicy.wait_ms` turns the first two into the silence after which the turn ends: FINISHED words
with the model agreeing end it after `vad_sentence_end_timeout_ms` (300 ms); UNFINISHED words, a
model that says unfinished while the words are not plainly finished, or a model sure of it (under
`vad_end_of_turn_hold_threshold`, or `vad_end_of_turn_short_hold_threshold` on three words or fewer)
whatever the words, hold it until `vad_unfinished_timeout_ms` (1.5 s); the rest ends after
`vad_silence_timeout_ms` (500 ms).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from shared.flags.base import FeatureFlags
from shared.speech.base import SAMPLE_RATE, SAMPLE_WIDTH, TurnEndModel

log = logging.getLogger(__name__)


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


MODEL_AUDIO_SEC = 8  # what the end-of-turn model looks at: the caller's last 8 s


class Verdict(Enum):
    FINISHED = "finished"
    UNFINISHED = "unfinished"
    UNSURE = "unsure"


# Words after which a caller has not finished (per language family). Prepositions are left out when
# the utterance ends with "?" ("what is it about?").
_PREPOSITIONS_EN = _set(
    "about around of to for with at from into onto near than between towards toward during until without like"
)
_GOES_ON_EN = _set(
    "a an the my your our their and but or because cause if whether when while unless then "
    "is are was were am been being i we they it's that's there's what's he's she's i'm we're "
    "they're you're i've we've i'd i'll very quite really"
)
_PREPOSITIONS_FR = _set("de du des à au aux pour avec sans sur sous dans chez vers entre par")
_GOES_ON_FR = _set(
    "le la les l un une mon ma mes ton ta tes son sa ses notre nos votre vos leurs ce cet cette ces "
    "et ou mais donc car parce puisque que qu quand lorsque comme est suis es sont était étais ai "
    "as avons avez ont vais va vas allons dois peux veux voudrais je j tu il ils on c"
)
_FILLERS = _set("uh um umm uhm er erm hmm mm euh heu hum ben bah")
_BE = _set("is are was were am")
_SUBJECTS = _set("it i you we they he she who")  # "yes, it is." is finished
_SO_AFTER = _set("think hope guess believe suppose say said do did don't not")

_DIGIT_WORDS = {
    **dict.fromkeys(_set("zero oh one two three four five six seven eight nine"), 1),
    **dict.fromkeys(_set("zéro un une deux trois quatre cinq six sept huit neuf"), 1),
    **dict.fromkeys(
        _set(
            "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty "
            "forty fifty sixty seventy eighty ninety dix onze douze treize quatorze quinze seize vingt "
            "trente quarante cinquante soixante"
        ),
        2,
    ),
    "double": 1,  # "double seven": the second digit comes with the next word
    "triple": 2,
}
_PHONE_CONTEXT = _set("phone telephone téléphone mobile portable cell call joindre reach appeler rappeler")
_NUMBER_CONTEXT = _PHONE_CONTEXT | _set(
    "number numéro code account policy contract contrat police dossier reference référence claim "
    "sinistre zip postal plate immatriculation card carte digits chiffres id"
)
PHONE_DIGITS = 10
IDENTIFIER_DIGITS = 6
_NUMBER_NOUNS = _set("number numbers numéro numéros code")
_DETERMINERS = _set("my your our their the his her mon ma mes notre votre le la")
LOOP_REPEATS = 4  # a word Whisper writes this many times running is a decoding loop, said once
SHORT_UTTERANCE_WORDS = 3  # up to this many words, `short_hold_threshold` applies

_TOKEN = re.compile(r"[\w']+|[.?!,…]+|-")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def _words(tokens: Sequence[str]) -> list[str]:
    return [token for token in tokens if token[0].isalnum() or token[0] == "_"]


def _without_loops(tokens: Sequence[str]) -> list[str]:
    """The tokens with each run of LOOP_REPEATS or more identical words kept once: Whisper sometimes
    loops on the last word it heard ("06. 12 12 12 12 12..." for "zero six, twelve,")."""
    kept: list[str] = []
    run = 0
    for index, token in enumerate(tokens):
        run = run + 1 if index and token == tokens[index - 1] else 1
        kept.append(token)
        if run == LOOP_REPEATS:
            del kept[-(LOOP_REPEATS - 1) :]
        elif run > LOOP_REPEATS:
            kept.pop()
    return kept


def names_a_number(words: Sequence[str], french: bool) -> bool:
    """The words are only the name of a number the caller is about to give ("my account number",
    "the policy number", "mon numéro de contrat"): Whisper's reading of "My account number is" when
    it drops the last short word ("My count numbers.")."""
    if not 2 <= len(words) <= 5 or words[0] not in _DETERMINERS:
        return False
    if words[-1] in _NUMBER_NOUNS:
        return True
    return french and len(words) >= 3 and words[-3] in _NUMBER_NOUNS and words[-2] in ("de", "d")


def _digits(word: str) -> int | None:
    """How many digits a word says ("771" 3, "seven" 1, "twenty" 2), or None for a word that is no number."""
    if word.isdigit():
        return len(word)
    return _DIGIT_WORDS.get(word)


def number_cut_short(words: Sequence[str]) -> bool:
    """The words end with a number that is shorter than what the caller is giving: fewer than
    PHONE_DIGITS digits after a phone word, fewer than IDENTIFIER_DIGITS after "number", "code",
    "policy"... ("my account number is 771")."""
    digits, index = 0, len(words)
    while index and (count := _digits(words[index - 1])) is not None:
        digits, index = digits + count, index - 1
    if not digits:
        return False
    context = set(words[:index])
    if context & _PHONE_CONTEXT:
        return digits < PHONE_DIGITS
    return bool(context & _NUMBER_CONTEXT) and digits < IDENTIFIER_DIGITS


def _last_word_goes_on(words: Sequence[str], french: bool, question: bool) -> bool:
    last = words[-1].strip("'")
    elided = last.rsplit("'", 1)[-1]  # "j'ai" -> "ai", "qu'il" -> "il"
    if last in _FILLERS:
        return True
    if last in _BE and not french:  # "my name is" goes on, "yes, it is" is finished
        return len(words) == 1 or words[-2] not in _SUBJECTS
    if last == "so":  # "I think so." is finished, "so" alone or after a clause is not
        return len(words) == 1 or words[-2] not in _SO_AFTER
    if french:
        return (elided in _GOES_ON_FR or last in _GOES_ON_FR) or (not question and elided in _PREPOSITIONS_FR)
    return last in _GOES_ON_EN or (not question and last in _PREPOSITIONS_EN)


def count_words(text: str) -> int:
    """How many words the transcript holds (a decoding loop counted once)."""
    return len(_words(_without_loops(_tokens(text))))


def words_verdict(text: str, lang: str = "en-US") -> Verdict:
    """What the words alone say about the caller being done (English, and French for `fr-*`)."""
    tokens = _without_loops(_tokens(text))
    words = _words(tokens)
    if not words:
        return Verdict.UNSURE
    last_mark = tokens[-1] if not tokens[-1][0].isalnum() else ""
    if last_mark.startswith((",", "…", "-")) or last_mark.endswith(("..", "…")):
        return Verdict.UNFINISHED
    french = lang.lower().startswith("fr")
    question = last_mark.startswith("?")
    if _last_word_goes_on(words, french, question) or number_cut_short(words):
        return Verdict.UNFINISHED
    if not question and names_a_number(words, french):
        return Verdict.UNFINISHED
    return Verdict.FINISHED if last_mark[:1] in (".", "?", "!") else Verdict.UNSURE


@dataclass(frozen=True)
class TurnEndPolicy:
    """The silences (ms) that end a turn, from the flags; 0 turns a shortcut off."""

    sentence_end_ms: float = 300
    silence_ms: float = 500
    unfinished_ms: float = 1500
    model_threshold: float = 0.5
    hold_threshold: float = 0.05
    short_hold_threshold: float = 0.15

    @classmethod
    def from_flags(cls, flags: FeatureFlags) -> TurnEndPolicy:
        return cls(
            sentence_end_ms=flags.vad_sentence_end_timeout_ms,
            silence_ms=flags.vad_silence_timeout_ms,
            unfinished_ms=flags.vad_unfinished_timeout_ms,
            model_threshold=flags.vad_end_of_turn_threshold,
            hold_threshold=flags.vad_end_of_turn_hold_threshold,
            short_hold_threshold=flags.vad_end_of_turn_short_hold_threshold,
        )

    @property
    def longest_ms(self) -> float:
        """The silence after which a turn ends whatever was said."""
        return max(self.silence_ms, self.unfinished_ms)

    @property
    def shortest_ms(self) -> float:
        return min(ms for ms in (self.sentence_end_ms, self.silence_ms, self.longest_ms) if ms)

    def model_says_done(self, probability: float | None) -> bool | None:
        """The model's verdict (None: no model, off, or not ready)."""
        if probability is None or not self.model_threshold:
            return None
        return probability >= self.model_threshold

    def wait_ms(self, verdict: Verdict | None, probability: float | None, words: int | None = None) -> float:
        """The silence after which the turn ends, given the words (None: transcript not ready), the
        model's probability that the caller is done (None: no model or not ready) and how many words
        were said (None: unknown). A model sure the caller goes on holds whatever the words: under
        `hold_threshold`, or `short_hold_threshold` on SHORT_UTTERANCE_WORDS words or fewer, where a
        last word Whisper dropped is most of what tells a cut from a finished sentence."""
        done = self.model_says_done(probability)
        short = words is not None and words <= SHORT_UTTERANCE_WORDS
        hold = max(self.hold_threshold, self.short_hold_threshold) if short else self.hold_threshold
        sure_not_done = done is False and probability is not None and probability < hold
        if (
            verdict is Verdict.UNFINISHED
            or sure_not_done
            or (verdict is not Verdict.FINISHED and done is False)
        ):
            return self.longest_ms
        if verdict is Verdict.FINISHED and done is not False and self.sentence_end_ms:
            return min(self.sentence_end_ms, self.silence_ms)
        return self.silence_ms


@dataclass
class TurnEnd:
    """One call's end-of-turn state: the utterance's recent audio (for the model) and the model's
    prediction at the latest pause. The session feeds it the turn detector's events."""

    policy: TurnEndPolicy
    model: TurnEndModel | None = None
    _audio: bytearray = field(default_factory=bytearray)
    _prediction: asyncio.Task[float | None] | None = None

    def on_pause(self, pcm: bytes) -> None:
        """A speculative pause: predict on the utterance so far (in parallel with the transcript)."""
        self._cancel()
        if self.model is None or not self.policy.model_threshold:
            return
        audio = bytes(self._audio) + pcm  # the model keeps the last MODEL_AUDIO_SEC of it
        self._prediction = asyncio.create_task(self._predict(self.model, audio))

    def on_segment(self, pcm: bytes) -> None:
        self._audio += pcm
        del self._audio[: max(0, len(self._audio) - MODEL_AUDIO_SEC * SAMPLE_RATE * SAMPLE_WIDTH)]

    def forget(self) -> None:
        """The utterance is over (its turn is kept): start the next one afresh."""
        self._cancel()
        self._audio.clear()

    def close(self) -> None:
        self._cancel()

    def _cancel(self) -> None:
        if self._prediction is not None:
            self._prediction.cancel()
            self._prediction = None

    @staticmethod
    async def _predict(model: TurnEndModel, audio: bytes) -> float | None:
        try:
            return await model.probability(audio)
        except Exception:  # a failing model must not end the call: the words and the pause decide
            log.exception("end-of-turn model failed")
            return None

    @property
    def probability(self) -> float | None:
        task = self._prediction
        if task is None or not task.done() or task.cancelled():
            return None
        return task.result()

    def ended(self, silence_ms: float, transcripts: Sequence[asyncio.Task[str]], lang: str) -> bool:
        """The caller has been silent long enough for what they said so far (`transcripts`: the
        utterance's segments, in order)."""
        if silence_ms < self.policy.shortest_ms:
            return False
        verdict: Verdict | None = None
        words: int | None = None
        ready = bool(transcripts) and all(task.done() and not task.cancelled() for task in transcripts)
        if ready and all(task.exception() is None for task in transcripts):
            text = " ".join(task.result().strip() for task in transcripts)
            verdict, words = words_verdict(text, lang), count_words(text)
        probability = self.probability
        if silence_ms < self.policy.wait_ms(verdict, probability, words):
            return False
        log.info(
            "end of turn after %.0f ms of silence: words %s (%s), model %s",
            silence_ms,
            verdict.value if verdict else "not transcribed yet",
            words,
            "not ready" if probability is None else f"{probability:.3f}",
        )
        return True
