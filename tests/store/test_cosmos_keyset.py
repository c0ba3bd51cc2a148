"""Cross-partition listing on Cosmos DB pages by keyset: the Python SDK keeps no usable continuation for
a cross-partition ORDER BY. The query's ORDER BY must be exactly the composite index the container
declares (infra/ reads the same constant), or Cosmos refuses it."""

from __future__ import annotations

import re

from shared.store.cosmos import COMPOSITE_INDEXES, keyset_query


def _order_by(query: str) -> list[dict[str, str]]:
    clause = query.split("ORDER BY", 1)[1]
    terms = [term.strip().split() for term in clause.split(",")]
    return [
        {"path": "/" + field.removeprefix("c."), "order": "descending" if way == "DESC" else "ascending"}
        for field, way in terms
    ]


def test_the_page_query_orders_by_the_declared_composite_index() -> None:
    query, _ = keyset_query(since=None, until=None, after=None, size=20)
    assert _order_by(query) in COMPOSITE_INDEXES


def test_the_first_page_asks_one_row_more_than_it_returns() -> None:
    query, parameters = keyset_query(since="2026-12-01T00:00:00.000000Z", until=None, after=None, size=20)
    assert query.startswith("SELECT TOP @size * FROM c WHERE")
    values = {p["name"]: p["value"] for p in parameters}
    assert values == {"@size": 21, "@since": "2026-12-01T00:00:00.000000Z"}
    assert "@after" not in query


def test_a_next_page_starts_strictly_after_the_last_row_seen() -> None:
    last = ("2026-12-06T08:00:00.000000Z", "5b4ad7a6-0c61-4b8c-9b39-1f1c2e0c8b11")
    query, parameters = keyset_query(since=None, until="2026-12-07T00:00:00.000000Z", after=last, size=5)
    values = {p["name"]: p["value"] for p in parameters}
    assert values["@after_sort"] == last[0] and values["@after_id"] == last[1] and values["@size"] == 6
    where = query.split("WHERE", 1)[1].split("ORDER BY", 1)[0]
    assert re.search(
        r"\(c\.created_sort < @after_sort OR \(c\.created_sort = @after_sort AND c\.id < @after_id\)\)", where
    )
    assert "c.created_sort < @until" in where
