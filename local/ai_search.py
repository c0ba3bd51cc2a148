"""A loopback stand-in for Azure AI Search: the REST calls the `azure-search-documents` clients send
(create / get an index, index documents, search, count), each request checked field by field against
the service's REST contract, the way the ACS simulator stands in for Call Automation.

Checked: the `api-key` header, `api-version`, the JSON content type, every request field's name and
type (an unknown field is a 400, as the service answers), `select` / `orderby` / filters naming
existing fields with the right attributes, vector queries (`kind`, `k`, `fields` a vector field, the
vector's dimensions), semantic queries naming a configuration of the index, documents carrying the key
and only fields of the schema, index definitions (one string key, vector fields tied to a profile and
an algorithm, semantic fields that exist). Errors use the service's `{"error": {"code", "message"}}`.

Ranking is an approximation of the service's (BM25 without its analyzers, cosine similarity, reciprocal
rank fusion for hybrid queries, a reranker score from term coverage): the contract is the point.
Filters: `field op 'text'` clauses joined by `and` (op: eq ne gt ge lt le).
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from local.ai_search_contract import (
    API_VERSIONS,
    INDEX_REQUEST,
    SEARCH_REQUEST,
    ContractError,
    SearchIndexState,
    check_document,
    check_fields,
    check_index_definition,
    check_vector_query,
    parse_filter,
)
from local.threaded_server import Background, ThreadedServer

_TOKEN = re.compile(r"\w+")


class AiSearchService(Background):
    """The stand-in on loopback: `endpoint` and `api_key` go to the SDK clients."""

    def __init__(self, *, api_key: str = "loopback-search-key", port: int = 0) -> None:
        self.api_key = api_key
        self.indexes: dict[str, SearchIndexState] = {}
        self.requests: list[dict[str, Any]] = []  # method, path, params, body of each request
        self._lock = threading.Lock()
        self._server = ThreadedServer(self.app(), name="AI Search stand-in", port=port, lifespan="off")

    @property
    def endpoint(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self, timeout: float = 10.0) -> AiSearchService:
        self._server.start(timeout)
        return self

    def stop(self) -> None:
        self._server.stop()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/indexes", self._indexes, methods=["POST", "GET"]),
                Route("/indexes('{name}')", self._index, methods=["GET", "PUT", "DELETE"]),
                Route("/indexes('{name}')/docs/search.post.search", self._search, methods=["POST"]),
                Route("/indexes('{name}')/docs/search.index", self._write, methods=["POST"]),
                Route("/indexes('{name}')/docs/$count", self._count, methods=["GET"]),
            ]
        )

    async def _handle(self, request: Request, work: Any) -> Response:
        body: Any = None
        try:
            if request.headers.get("api-key") != self.api_key:
                raise ContractError("the api-key header is missing or wrong", 403, "Forbidden")
            version = request.query_params.get("api-version")
            if version not in API_VERSIONS:
                raise ContractError(f"api-version {version!r} is missing or unknown")
            if request.method in {"POST", "PUT"}:
                if not request.headers.get("content-type", "").startswith("application/json"):
                    raise ContractError("the body must be application/json", 415, "UnsupportedMediaType")
                try:
                    body = await request.json()
                except ValueError:
                    raise ContractError("the body is not valid JSON") from None
            with self._lock:
                self.requests.append(
                    {
                        "method": request.method,
                        "path": request.url.path,
                        "params": dict(request.query_params),
                        "body": body,
                    }
                )
                return work(request, body)  # type: ignore[no-any-return]
        except ContractError as exc:
            return JSONResponse({"error": {"code": exc.code, "message": str(exc)}}, status_code=exc.status)

    def _state(self, request: Request) -> SearchIndexState:
        name = request.path_params["name"]
        if name not in self.indexes:
            raise ContractError(f"The index '{name}' was not found.", 404, "ResourceNotFound")
        return self.indexes[name]

    async def _indexes(self, request: Request) -> Response:
        def work(_request: Request, body: Any) -> Response:
            if request.method == "GET":
                return JSONResponse({"value": [s.definition for s in self.indexes.values()]})
            definition = check_index_definition(body)
            if definition["name"] in self.indexes:
                raise ContractError(
                    f"index {definition['name']} already exists", 409, "ResourceNameAlreadyInUse"
                )
            self.indexes[definition["name"]] = SearchIndexState(definition)
            return JSONResponse(definition, status_code=201)

        return await self._handle(request, work)

    async def _index(self, request: Request) -> Response:
        def work(request: Request, body: Any) -> Response:
            name = request.path_params["name"]
            if request.method == "PUT":
                definition = check_index_definition(body)
                if definition["name"] != name:
                    raise ContractError("the index name in the body differs from the URL")
                created = name not in self.indexes
                self.indexes[name] = SearchIndexState(
                    definition, self.indexes[name].documents if not created else {}
                )
                return JSONResponse(definition, status_code=201 if created else 200)
            state = self._state(request)
            if request.method == "DELETE":
                del self.indexes[name]
                return Response(status_code=204)
            return JSONResponse(state.definition)

        return await self._handle(request, work)

    async def _count(self, request: Request) -> Response:
        return await self._handle(
            request, lambda r, _b: PlainTextResponse(str(len(self._state(r).documents)))
        )

    async def _write(self, request: Request) -> Response:
        def work(request: Request, body: Any) -> Response:
            state = self._state(request)
            actions = check_fields(body, INDEX_REQUEST, "index documents").get("value") or []
            results = []
            for document in actions:
                action, key, fields = check_document(state, document)
                if action == "delete":
                    state.documents.pop(key, None)
                elif action == "merge" and key not in state.documents:
                    results.append(
                        {
                            "key": key,
                            "status": False,
                            "errorMessage": "Document not found.",
                            "statusCode": 404,
                        }
                    )
                    continue
                elif action in {"merge", "mergeOrUpload"}:
                    state.documents[key] = {**state.documents.get(key, {}), **fields}
                else:
                    state.documents[key] = fields
                results.append({"key": key, "status": True, "errorMessage": None, "statusCode": 200})
            status = 200 if all(r["status"] for r in results) else 207
            return JSONResponse({"value": results}, status_code=status)

        return await self._handle(request, work)

    async def _search(self, request: Request) -> Response:
        return await self._handle(request, lambda r, body: JSONResponse(self.run_query(self._state(r), body)))

    def run_query(self, state: SearchIndexState, body: Any) -> dict[str, Any]:
        query = check_fields(body, SEARCH_REQUEST, "search")
        fields = state.fields
        select = [s.strip() for s in (query.get("select") or "").split(",") if s.strip()]
        for name in select:
            if name not in fields or not state.retrievable(name):
                raise ContractError(f"select: '{name}' is not a retrievable field of the index")
        clauses = parse_filter(query.get("filter"), fields)
        documents = [d for d in state.documents.values() if _matches(d, clauses)]
        text = query.get("search") or "*"
        keyword = _bm25(documents, text, state) if text.strip() != "*" else [(d, 1.0) for d in documents]
        rankings = [keyword] if text.strip() != "*" or not query.get("vectorQueries") else []
        for vector_query in query.get("vectorQueries") or []:
            rankings.append(_vector_ranking(documents, check_vector_query(vector_query, fields)))
        scored = _fuse(rankings) if len(rankings) > 1 else (rankings[0] if rankings else [])
        if query.get("orderby"):
            scored = _ordered(scored, query["orderby"], fields)
        semantic = query.get("queryType") == "semantic"
        if semantic:
            configurations = {
                c["name"] for c in (state.definition.get("semantic") or {}).get("configurations") or []
            }
            if query.get("semanticConfiguration") not in configurations:
                raise ContractError("semanticConfiguration names no semantic configuration of the index")
        skip, top = query.get("skip") or 0, query.get("top") or 50
        page = scored[skip : skip + top]
        names = select or [n for n in fields if state.retrievable(n)]
        value = []
        for document, score in page:
            hit: dict[str, Any] = {"@search.score": score}
            if semantic:
                hit["@search.rerankerScore"] = round(4.0 * _coverage(text, document, state), 4)
            hit |= {name: document.get(name) for name in names}
            value.append(hit)
        if semantic:
            value.sort(key=lambda h: -h["@search.rerankerScore"])
        answer: dict[str, Any] = {"value": value}
        if query.get("count"):
            answer["@odata.count"] = len(scored)
        return answer


def _matches(document: dict[str, Any], clauses: list[tuple[str, str, str]]) -> bool:
    for name, op, wanted in clauses:
        value = str(document.get(name) or "")
        checks = {"eq": value == wanted, "ne": value != wanted, "gt": value > wanted,
                  "ge": value >= wanted, "lt": value < wanted, "le": value <= wanted}  # fmt: skip
        if not checks[op]:
            return False
    return True


def _ordered(scored: list[tuple[dict[str, Any], float]], orderby: str, fields: dict[str, Any]) -> list[Any]:
    for clause in reversed([c.strip() for c in orderby.split(",")]):
        name, _, direction = clause.partition(" ")
        if name not in fields or not fields[name].get("sortable", True):
            raise ContractError(f"orderby: '{name}' is not a sortable field")
        scored = sorted(scored, key=lambda item: str(item[0].get(name) or ""), reverse=direction == "desc")
    return scored


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def _bm25(
    documents: list[dict[str, Any]], text: str, state: SearchIndexState
) -> list[tuple[dict[str, Any], float]]:
    searchable = state.searchable()
    bags = [_tokens(" ".join(str(d.get(n) or "") for n in searchable)) for d in documents]
    average = sum(len(b) for b in bags) / len(bags) if bags else 1.0
    scored = []
    for document, bag in zip(documents, bags, strict=True):
        score = 0.0
        for term in set(_tokens(text)):
            frequency = bag.count(term)
            if frequency:
                df = sum(1 for b in bags if term in b)
                idf = math.log(1 + (len(bags) - df + 0.5) / (df + 0.5))
                score += idf * frequency * 2.2 / (frequency + 1.2 * (0.25 + 0.75 * len(bag) / (average or 1)))
        if score > 0:
            scored.append((document, round(score, 4)))
    return sorted(scored, key=lambda item: -item[1])


def _vector_ranking(documents: list[dict[str, Any]], query: tuple[list[float], int, str]) -> list[Any]:
    vector, k, name = query
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    scored = []
    for document in documents:
        other = document.get(name)
        if other:
            dot = sum(a * b for a, b in zip(vector, other, strict=True))
            scored.append((document, round(dot / (norm * (math.sqrt(sum(x * x for x in other)) or 1.0)), 4)))
    return sorted(scored, key=lambda item: -item[1])[:k]


def _fuse(rankings: list[list[tuple[dict[str, Any], float]]]) -> list[tuple[dict[str, Any], float]]:
    scores: dict[int, float] = {}
    documents: dict[int, dict[str, Any]] = {}
    for ranking in rankings:
        for rank, (document, _score) in enumerate(ranking, 1):
            documents[id(document)] = document
            scores[id(document)] = scores.get(id(document), 0.0) + 1.0 / (60 + rank)
    return [(documents[i], round(s, 6)) for i, s in sorted(scores.items(), key=lambda item: -item[1])]


def _coverage(text: str, document: dict[str, Any], state: SearchIndexState) -> float:
    wanted = set(_tokens(text))
    present = set(_tokens(" ".join(str(document.get(n) or "") for n in state.searchable())))
    return len(wanted & present) / len(wanted) if wanted else 0.0
