"""The Azure AI Search REST contract the loopback stand-in (`local/ai_search.py`) holds requests to:
the fields of a search request, a vector query, an index definition and an indexed document, with
their types, and the checks that answer 400 (as the service does) for anything else. Written from the
service's REST reference (Search Documents POST, Index Documents, Create Index)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

API_VERSIONS = frozenset({"2024-07-01", "2025-09-01", "2026-04-01"})
_STR, _INT, _NUM, _BOOL, _LIST, _OBJ = str, int, (int, float), bool, list, dict
SEARCH_REQUEST: dict[str, Any] = {  # POST /indexes('name')/docs/search.post.search
    "count": _BOOL, "facets": _LIST, "filter": _STR, "highlight": _STR, "highlightPostTag": _STR,
    "highlightPreTag": _STR, "minimumCoverage": _NUM, "orderby": _STR, "queryType": _STR,
    "scoringStatistics": _STR, "sessionId": _STR, "scoringParameters": _LIST, "scoringProfile": _STR,
    "debug": _STR, "search": _STR, "searchFields": _STR, "searchMode": _STR, "queryLanguage": _STR,
    "speller": _STR, "answers": _STR, "select": _STR, "skip": _INT, "top": _INT,
    "semanticConfiguration": _STR, "semanticErrorHandling": _STR, "semanticMaxWaitInMilliseconds": _INT,
    "semanticQuery": _STR, "captions": _STR, "queryRewrites": _STR, "semanticFields": _STR,
    "vectorQueries": _LIST, "vectorFilterMode": _STR, "hybridSearch": _OBJ,
}  # fmt: skip
ENUMS = {
    "queryType": {"simple", "full", "semantic"},
    "searchMode": {"any", "all"},
    "vectorFilterMode": {"postFilter", "preFilter", "strictPostFilter"},
}
VECTOR_QUERY = {
    "kind": _STR, "vector": _LIST, "k": _INT, "fields": _STR, "exhaustive": _BOOL, "oversampling": _NUM,
    "weight": _NUM, "threshold": _OBJ, "filterOverride": _STR, "perDocumentVectorLimit": _INT,
}  # fmt: skip
FIELD_DEFINITION = {
    "name": _STR, "type": _STR, "key": _BOOL, "retrievable": _BOOL, "stored": _BOOL, "searchable": _BOOL,
    "filterable": _BOOL, "sortable": _BOOL, "facetable": _BOOL, "analyzer": _STR, "searchAnalyzer": _STR,
    "indexAnalyzer": _STR, "normalizer": _STR, "dimensions": _INT, "vectorSearchProfile": _STR,
    "vectorEncoding": _STR, "synonymMaps": _LIST, "fields": _LIST, "permissionFilter": _STR,
    "sensitivityLabel": _BOOL,
}  # fmt: skip
INDEX_REQUEST = {"value": _LIST}  # POST /indexes('name')/docs/search.index
ACTIONS = {"upload", "merge", "mergeOrUpload", "delete"}
_FILTER = re.compile(r"^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+'((?:[^']|'')*)'\s*$")


class ContractError(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "InvalidRequestParameter") -> None:
        super().__init__(message)
        self.status, self.code = status, code


def check_fields(body: Any, contract: dict[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ContractError(f"{where}: a JSON object is expected")
    for name, value in body.items():
        if name not in contract:
            raise ContractError(f"{where}: the request has an unknown parameter '{name}'")
        expected = contract[name]
        if value is not None and (
            (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected)
        ):
            raise ContractError(f"{where}: '{name}' has the wrong type ({type(value).__name__})")
        if name in ENUMS and value is not None and value not in ENUMS[name]:
            raise ContractError(f"{where}: '{name}' must be one of {sorted(ENUMS[name])}, not {value!r}")
    return body


@dataclass
class SearchIndexState:
    definition: dict[str, Any]
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def fields(self) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.definition["fields"]}

    @property
    def key(self) -> str:
        return str(next(f["name"] for f in self.definition["fields"] if f.get("key")))

    def retrievable(self, name: str) -> bool:
        return self.fields[name].get("retrievable", True) is not False

    def searchable(self) -> list[str]:
        return [n for n, f in self.fields.items() if f["type"] == "Edm.String" and f.get("searchable", True)]


def check_index_definition(definition: Any) -> dict[str, Any]:
    if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
        raise ContractError("the index definition needs a name")
    fields = definition.get("fields")
    if not isinstance(fields, list) or not fields:
        raise ContractError("the index definition needs fields")
    for item in fields:
        check_fields(item, FIELD_DEFINITION, f"field {item.get('name') if isinstance(item, dict) else item}")
    keys = [f for f in fields if f.get("key")]
    if len(keys) != 1 or keys[0]["type"] != "Edm.String":
        raise ContractError("the index must have exactly one key field, of type Edm.String")
    vector = definition.get("vectorSearch") or {}
    profiles = {p["name"]: p for p in vector.get("profiles") or []}
    algorithms = {a["name"] for a in vector.get("algorithms") or []}
    for item in fields:
        if item["type"] == "Collection(Edm.Single)":
            profile = profiles.get(item.get("vectorSearchProfile") or "")
            if not item.get("dimensions") or profile is None:
                raise ContractError(f"vector field {item['name']} needs dimensions and an existing profile")
            if profile.get("algorithm") not in algorithms:
                raise ContractError(f"vector profile {profile['name']} names no existing algorithm")
    names = {f["name"] for f in fields}
    for configuration in (definition.get("semantic") or {}).get("configurations") or []:
        prioritized = configuration.get("prioritizedFields") or {}
        used = [(prioritized.get("titleField") or {}).get("fieldName")]
        used += [f.get("fieldName") for key in ("prioritizedContentFields", "prioritizedKeywordsFields")
                 for f in prioritized.get(key) or []]  # fmt: skip
        if any(name is not None and name not in names for name in used):
            raise ContractError(f"semantic configuration {configuration.get('name')} names unknown fields")
    return definition


def check_document(state: SearchIndexState, document: Any) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(document, dict):
        raise ContractError("each document must be a JSON object")
    action = document.get("@search.action", "upload")
    if action not in ACTIONS:
        raise ContractError(f"unknown @search.action {action!r}")
    key = document.get(state.key)
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_\-=]+", key):
        raise ContractError(f"document key {state.key} is missing or has characters keys cannot hold")
    fields = {n: v for n, v in document.items() if n != "@search.action"}
    unknown = [n for n in fields if n not in state.fields]
    if unknown:
        raise ContractError(f"the document has fields not in the index: {', '.join(unknown)}")
    for name, value in fields.items():
        definition = state.fields[name]
        is_vector = definition["type"] == "Collection(Edm.Single)" and value is not None
        if is_vector and (not isinstance(value, list) or len(value) != definition["dimensions"]):
            raise ContractError(f"field {name} needs {definition['dimensions']} numbers")
    return action, key, fields


def check_vector_query(item: Any, fields: dict[str, dict[str, Any]]) -> tuple[list[float], int, str]:
    query = check_fields(item, VECTOR_QUERY, "vectorQueries")
    if query.get("kind") != "vector":
        raise ContractError("vectorQueries: only kind 'vector' (a vector given by the client) is served here")
    name = query.get("fields") or ""
    definition = fields.get(name)
    if definition is None or definition["type"] != "Collection(Edm.Single)":
        raise ContractError(f"vectorQueries: '{name}' is not a vector field")
    vector = query.get("vector") or []
    if len(vector) != definition["dimensions"] or not all(isinstance(x, int | float) for x in vector):
        raise ContractError(f"vectorQueries: the vector must have {definition['dimensions']} numbers")
    return vector, int(query.get("k") or 50), name


def parse_filter(expression: str | None, fields: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    clauses: list[tuple[str, str, str]] = []
    for clause in re.split(r"\s+and\s+", expression or "") if expression else []:
        match = _FILTER.match(clause)
        if match is None:
            raise ContractError(f"filter clause not served by the stand-in: {clause!r}")
        name, op, raw = match.groups()
        if name not in fields or not fields[name].get("filterable", True):
            raise ContractError(f"filter: '{name}' is not a filterable field")
        clauses.append((name, op, raw.replace("''", "'")))
    return clauses
