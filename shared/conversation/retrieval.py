"""Answers from the company's documents, for both agents.

- `search_documents`: several queries (the model's, or the caller's words and their content words)
  searched together, merged by reciprocal rank and de-duplicated; the search port's cache serves repeats.
- `cite`: the hits as the `search_document` tool's result, each cited by its file.
- `turn_documents`: what the documents say about the caller's last words, added to the LLM prompt for
  the turn within `prompt_budget_tokens` (skipped past `timeout_sec`: the tool remains).
- `answer_from_documents`: the form-filling agent's step for a direct question ("Is a rental car
  covered?"): when the top passage covers enough of the question, it is said (through the same
  `search_document` tool the LLM uses), and the agent goes back to the claim.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shared.conversation.context import CallContext
from shared.llm.history import estimate_tokens
from shared.models import Persona
from shared.search.base import DocumentSearch, RetrievalPolicy, SearchHit, SearchIndexError
from shared.search.text import fold, reciprocal_rank_fusion, terms, unique, words
from shared.settings import SearchSettings

log = logging.getLogger(__name__)

Say = Callable[[str], Awaitable[None]]
Tool = Callable[[str, dict[str, Any]], Awaitable[Any]]
SPOKEN_CHARS = 200
MAX_QUESTION_DIGITS = 4  # "can you call me at 06 12..." gives a value; it asks nothing
MIN_PROMPT_PASSAGE_CHARS = 120  # a passage cut shorter than this says nothing: left out
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_QUESTION_STARTS = frozenset(
    re.findall(
        r"\S+",
        """is are am do does did can could will would should shall may what whats how when where why who
    which whose est-ce est estce combien comment quand ou pourquoi quel quelle quels quelles qui que
    quoi puis-je puis ai-je peut-on peux-je dois-je faut-il y-a-t-il suis-je""",
    )
)
_INTRO = {
    "en": "Here is what our document “{title}” says: ",
    "fr": "Voici ce que dit notre document « {title} » : ",
}
_BACK = {"en": "Now, back to your file.", "fr": "Revenons à votre dossier."}


def retrieval_policy(settings: SearchSettings) -> RetrievalPolicy:
    return RetrievalPolicy(
        top=settings.top,
        answer_min_confidence=settings.answer_min_confidence,
        prompt_budget_tokens=settings.prompt_budget_tokens,
    )


def policy(ctx: CallContext) -> RetrievalPolicy:
    return ctx.ports.retrieval


def is_question(text: str) -> bool:
    """A question, by its mark or its first word (spoken text may lose the question mark)."""
    stripped = text.strip()
    if stripped.endswith("?"):
        return True
    for sentence in _SENTENCE.split(stripped):
        first = fold(sentence.split(maxsplit=1)[0]) if sentence.split() else ""
        if first.strip(",.!") in _QUESTION_STARTS:
            return True
    return False


def rephrasings(text: str, lang: str | None) -> list[str]:
    """The caller's words, and only their content words (greetings, fillers and politeness dropped)."""
    content = " ".join(w for w in words(text) if terms(w, lang))
    return unique(q for q in (text.strip(), content) if q)


def _key(hit: SearchHit) -> str:
    return hit.id or f"{hit.source}#{hit.title}#{hash(hit.content)}"


async def search_documents(
    search: DocumentSearch, queries: Sequence[str], *, lang: str | None, top: int
) -> list[SearchHit]:
    """Every query searched at once, the rankings fused by reciprocal rank, each passage once."""
    asked = unique(q.strip() for q in queries if q.strip())
    results = await asyncio.gather(*(search.search(q, lang=lang, top=top) for q in asked))
    best: dict[str, SearchHit] = {}
    for hits in results:
        for hit in hits:
            key = _key(hit)
            if key not in best or hit.confidence > best[key].confidence:
                best[key] = hit
    fused = reciprocal_rank_fusion([[_key(h) for h in hits] for hits in results])
    ordered = sorted(best, key=lambda key: (-fused[key], -best[key].confidence))
    return [best[key] for key in ordered[:top]]


def document_title(hit: SearchHit) -> str:
    return (hit.context.split(" > ")[0] if hit.context else "") or hit.title


def cite(hits: Sequence[SearchHit]) -> str:
    """The hits as a tool result the model can quote, each with the file it comes from."""
    if not hits:
        return "no document found for these queries"
    return "\n\n".join(
        f"[{n}] {hit.title} (source: {hit.source}; {document_title(hit)})\n{hit.content}"
        for n, hit in enumerate(hits, 1)
    )


def _last_caller_words(ctx: CallContext) -> str:
    for message in reversed(ctx.call.messages):
        if message.persona is Persona.HUMAN:
            return message.content
    return ""


async def turn_documents(ctx: CallContext) -> str:
    """Documents about the caller's last words for the LLM prompt, within the policy's token budget."""
    rules = policy(ctx)
    text = _last_caller_words(ctx)
    if rules.prompt_budget_tokens <= 0 or len(unique(terms(text, ctx.lang))) < 2:
        return ""
    try:
        hits = await asyncio.wait_for(
            search_documents(ctx.ports.search, rephrasings(text, ctx.lang), lang=ctx.lang, top=rules.top),
            rules.timeout_sec,
        )
    except (TimeoutError, SearchIndexError) as exc:
        log.warning("call %s: no documents for this turn: %r", ctx.call.call_id, exc)
        return ""
    header = (
        "\n\nDocuments of the company that may answer the caller's last words (cite the source file; "
        "say you don't know when they don't answer):"
    )
    budget = rules.prompt_budget_tokens - estimate_tokens(header)
    parts: list[str] = []
    for hit in hits:
        if hit.confidence < rules.prompt_min_confidence:
            continue
        part = cite([hit]).removeprefix("[1] ")
        if estimate_tokens(part) > budget:  # the last one that fits in part, cut at a word
            part = part[: max(0, int(budget * 3.5) - 2)].rsplit(" ", 1)[0] + "…"
        if estimate_tokens(part) > budget or len(part) < MIN_PROMPT_PASSAGE_CHARS:
            break
        parts.append(f"- {part}")
        budget -= estimate_tokens(part)
    return header + "\n" + "\n".join(parts) if parts else ""


def spoken_answer(hit: SearchHit, question: str, lang: str | None) -> str:
    """The one or two sentences of the passage that share most words with the question, in order."""
    wanted = set(terms(question, lang))
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(hit.content.split())) if s.strip()]
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(wanted & set(terms(sentences[i], lang))), i))
    chosen: list[int] = []
    for index in ranked[:2]:
        if sum(len(sentences[i]) for i in chosen) + len(sentences[index]) <= SPOKEN_CHARS or not chosen:
            chosen.append(index)
    return " ".join(sentences[i] for i in sorted(chosen))[: SPOKEN_CHARS * 2]


def confident_answer(
    hits: Sequence[SearchHit], question: str, lang: str | None, min_confidence: float
) -> SearchHit | None:
    """The top passage when it covers enough of the question and its heading shares a word with it (a
    passage that only shares scattered words, "day" and "report" for "how many days to report an
    accident" in a write-off passage, is not an answer). A passage without a heading of its own (under
    the document's title) is judged on its coverage alone."""
    if not hits or hits[0].confidence < min_confidence:
        return None
    top = hits[0]
    if top.title != document_title(top) and not set(terms(question, lang)) & set(terms(top.title, lang)):
        return None
    return top


async def answer_from_documents(ctx: CallContext, text: str, say: Say, tool: Tool) -> bool:
    """The form agent's answer to a direct question, when a document clearly answers it.

    Returns whether it answered (the caller then hears the question they were asked before)."""
    rules = policy(ctx)
    if not is_question(text) or len(unique(terms(text, ctx.lang))) < 2:
        return False
    if sum(ch.isdigit() for ch in text) >= MAX_QUESTION_DIGITS:  # a phone number or a date: a claim value
        return False
    queries = rephrasings(text, ctx.lang)
    try:
        hits = await search_documents(ctx.ports.search, queries, lang=ctx.lang, top=rules.top)
    except SearchIndexError as exc:
        log.warning("call %s: document search failed: %s", ctx.call.call_id, exc)
        return False
    top = confident_answer(hits, text, ctx.lang, rules.answer_min_confidence)
    if top is None:
        return False
    await tool("search_document", {"queries": queries})  # stored with the turn, cited by file
    family = "fr" if ctx.lang.lower().startswith("fr") else "en"
    await say(_INTRO[family].format(title=document_title(top)) + spoken_answer(top, text, ctx.lang))
    await say(_BACK[family])
    return True
