"""Answers from the company's documents in the conversation: the form agent answers a direct question
mid-claim and goes back to it, the search_document tool merges and cites, the LLM prompt carries the
turn's documents within its budget, and results are kept in the cache port."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import openai
import pytest

from local.llm_server import ScriptedLlmServer
from shared.cache.memory import MemoryCache
from shared.conversation.engine import Conversation
from shared.conversation.form_agent import FormAgent
from shared.conversation.llm_agent import LlmAgent
from shared.conversation.retrieval import is_question, rephrasings, search_documents, turn_documents
from shared.conversation.tools import run_tool
from shared.llm.client import OpenAiChatModel
from shared.llm.history import estimate_tokens
from shared.models import Message, Persona
from shared.search.base import RetrievalPolicy, SearchHit
from shared.search.cached import CachedSearch
from shared.search.ingest import index_folders
from shared.search.sqlite_index import SqliteKnowledgeIndex
from tests.conversation.support import Harness, make_harness

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


class CountingSearch:
    """The real index, counting the queries that reach it (to see what the cache saved)."""

    def __init__(self, inner: SqliteKnowledgeIndex) -> None:
        self.inner, self.queries = inner, 0

    async def search(self, query: str, *, lang: str | None = None, top: int = 3) -> list[SearchHit]:
        self.queries += 1
        return await self.inner.search(query, lang=lang, top=top)

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture
async def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SqliteKnowledgeIndex]:
    shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")
    monkeypatch.chdir(tmp_path)
    knowledge = SqliteKnowledgeIndex(tmp_path / "search.sqlite3")
    await index_folders(knowledge, [tmp_path / "knowledge"])
    yield knowledge
    await knowledge.close()


async def harness_with(tmp_path: Path, search: object, *, lang: str = "en-US") -> Harness:
    harness = await make_harness(tmp_path, lang=lang)
    harness.ctx.ports = dataclasses.replace(harness.ctx.ports, search=search)  # type: ignore[arg-type]
    return harness


async def say(agent: FormAgent, harness: Harness, text: str) -> list[str]:
    await harness.ctx.add_message(Message(persona=Persona.HUMAN, content=text))
    harness.spoken.clear()
    await agent.respond(harness.ctx, harness.speak)
    return list(harness.spoken)


async def test_the_form_agent_answers_a_question_mid_claim_then_asks_its_question_again(
    tmp_path: Path, index: SqliteKnowledgeIndex
) -> None:
    harness = await harness_with(tmp_path, index)
    agent = FormAgent()
    await say(agent, harness, "Hello, my car was damaged in a parking lot this morning.")
    asked = await say(agent, harness, "My name is John Smith.")
    spoken = await say(
        agent, harness, "Before we go on, will I get a courtesy car while my car is being repaired?"
    )
    assert "replacement vehicle is provided while your own car is being repaired" in spoken[0]
    assert "Replacement car while your vehicle is off the road" in spoken[0]
    assert spoken[-1] == asked[-1]  # back to the claim: the question it had asked
    call = await harness.reload()
    (answer,) = [m for m in call.messages if any(t.name == "search_document" for t in m.tool_calls)]
    assert "source: knowledge/en/replacement-car.md" in (answer.tool_calls[0].result or "")
    assert call.claim == {"caller_name": "John Smith"} | {
        k: v for k, v in call.claim.items() if k != "caller_name"
    }
    await say(agent, harness, "My email address is john dot smith at example dot com.")
    assert (await harness.reload()).claim["caller_email"] == "john.smith@example.com"


async def test_the_form_agent_answers_in_french_from_the_french_documents(
    tmp_path: Path, index: SqliteKnowledgeIndex
) -> None:
    harness = await harness_with(tmp_path, index, lang="fr-FR")
    agent = FormAgent()
    await say(agent, harness, "Bonjour, ma voiture a été abîmée ce matin sur un parking.")
    spoken = await say(
        agent, harness, "Est-ce que j'ai droit à une voiture de prêt pendant les réparations ?"
    )
    assert spoken[0].startswith("Voici ce que dit notre document « Véhicule de remplacement")
    assert "véhicule de remplacement est mis à votre disposition" in spoken[0]


@pytest.mark.parametrize(
    "text",
    [
        "What time do you close on Saturday?",  # the documents only half answer: "Saturday"
        "Do you sell boat insurance for the lake?",  # nothing about it
        "How many days do I have to report an accident?",  # the best passage (a write-off) only shares words
        "My name is John Smith.",  # not a question
        "Could you reach me on 06 15 30 10 00?",  # a phone number, however it is asked
    ],
)
async def test_the_form_agent_does_not_answer_what_the_documents_do_not_clearly_answer(
    tmp_path: Path, index: SqliteKnowledgeIndex, text: str
) -> None:
    harness = await harness_with(tmp_path, index)
    agent = FormAgent()
    await say(agent, harness, "Hello, my car was damaged in a parking lot this morning.")
    spoken = await say(agent, harness, text)
    assert not any("document" in line for line in spoken)
    call = await harness.reload()
    assert not any(t.name == "search_document" for m in call.messages for t in m.tool_calls)


def test_questions_are_told_by_their_mark_or_their_first_word() -> None:
    assert is_question("Is a rental car covered")
    assert is_question("ok. how long do I have")
    assert is_question("Est-ce que la franchise s'applique")
    assert is_question("my windscreen, covered?")
    assert not is_question("My name is John Smith.")
    assert rephrasings("Hello, um, is a rental car covered?", "en-US") == [
        "Hello, um, is a rental car covered?",
        "rental car covered",
    ]


async def test_search_document_merges_the_queries_cites_each_file_once_and_uses_the_cache(
    tmp_path: Path, index: SqliteKnowledgeIndex
) -> None:
    counting = CountingSearch(index)
    cached = CachedSearch(counting, MemoryCache(), namespace="test", ttl_sec=60)
    harness = await harness_with(tmp_path, cached)
    arguments = (
        '{"queries": ["courtesy car during repairs", "replacement vehicle", "courtesy car during repairs"]}'
    )
    result = await run_tool(harness.ctx, "search_document", arguments, harness.speak)
    assert result.ok
    assert result.content.startswith("[1] ")
    assert "(source: knowledge/en/replacement-car.md;" in result.content
    titles = [line for line in result.content.splitlines() if line.startswith("[")]
    assert len(titles) == len(set(titles)) == 3
    assert counting.queries == 2  # the repeated query was asked once
    await run_tool(harness.ctx, "search_document", arguments, harness.speak)
    assert counting.queries == 2  # the second time, the cache answered


async def test_merged_results_rank_a_passage_found_by_every_query_first(index: SqliteKnowledgeIndex) -> None:
    hits = await search_documents(
        index, ["how long can I keep the loan car", "replacement vehicle days"], lang="en-US", top=3
    )
    assert hits[0].title == "How long can I keep the replacement vehicle?"
    assert len({h.id for h in hits}) == len(hits)


async def test_the_turn_documents_fit_the_prompt_budget(tmp_path: Path, index: SqliteKnowledgeIndex) -> None:
    harness = await harness_with(tmp_path, index)
    harness.ctx.ports = dataclasses.replace(
        harness.ctx.ports, retrieval=RetrievalPolicy(prompt_budget_tokens=120)
    )
    await harness.ctx.add_message(
        Message(persona=Persona.HUMAN, content="Can I pay my premium once a year instead of every month?")
    )
    documents = await turn_documents(harness.ctx)
    assert "How can I pay my premium? (source: knowledge/en/billing.md;" in documents
    assert estimate_tokens(documents) <= 120 + 2
    assert documents.count("(source: ") == 1  # no room for a second passage
    harness.ctx.ports = dataclasses.replace(
        harness.ctx.ports, retrieval=RetrievalPolicy(prompt_budget_tokens=0)
    )
    assert await turn_documents(harness.ctx) == ""


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedLlmServer]:
    with ScriptedLlmServer() as running:
        yield running


async def test_the_llm_prompt_carries_the_documents_about_the_callers_words(
    tmp_path: Path, index: SqliteKnowledgeIndex, server: ScriptedLlmServer
) -> None:
    harness = await harness_with(tmp_path, index)
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    model = OpenAiChatModel(client, "fast-model")
    try:
        conversation = Conversation(harness.ctx, llm=LlmAgent([model]))
        await conversation.start(harness.speak)
        server.script.add_text("Yes, with Comfort and Premium you get a replacement vehicle.")
        await conversation.respond("Will I get a courtesy car while my car is being repaired?", harness.speak)
    finally:
        await model.close()
    system = server.requests[-1].body["messages"][0]
    assert system["role"] == "system"
    assert (
        "Do I get a courtesy car during repairs? (source: knowledge/en/replacement-car.md;"
        in system["content"]
    )
    assert harness.spoken[-1] == "Yes, with Comfort and Premium you get a replacement vehicle."
