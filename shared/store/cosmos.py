"""Cosmos DB conversation store (`azure-cosmos` async), partition key `/caller_phone`.

Optimistic concurrency uses the document's `_etag` with `If-Match`; a 412 becomes ConflictError.
Sort keys are stored as fixed-format UTC text (`created_sort`, `updated_sort`) so that text order is
time order. Listing across partitions (`list_by_date`) pages by keyset, `(created_sort, id)` below the
last row seen, because the Python SDK keeps no usable continuation for a cross-partition ORDER BY; that
query needs the composite index `COMPOSITE_INDEXES` on the container (infra/ declares it). Listing one
caller's calls (one partition) uses the SDK's continuation tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from azure.core import MatchConditions
from azure.core.credentials_async import AsyncTokenCredential
from azure.cosmos import exceptions
from azure.cosmos.aio import ContainerProxy, CosmosClient

from shared.models import Call
from shared.store.base import (
    ConflictError,
    Page,
    StoreError,
    clamp_due_limit,
    clamp_limit,
    decode_cursor,
    encode_cursor,
)

# `callback_due_sort`: when the earliest reminder awaiting a call-back is due (null when none), so the
# due-reminders query is one range filter on a top-level field the default index covers.
_EXTRA_FIELDS = ("id", "created_sort", "updated_sort", "callback_due_sort")


# The container's composite indexes: the keyset ORDER BY of `list_by_date` needs this one.
COMPOSITE_INDEXES: list[list[dict[str, str]]] = [
    [{"path": "/created_sort", "order": "descending"}, {"path": "/id", "order": "descending"}],
]
PARTITION_KEY_PATH = "/caller_phone"


def keyset_query(
    *, since: str | None, until: str | None, after: tuple[str, str] | None, size: int
) -> tuple[str, list[dict[str, object]]]:
    """The cross-partition page query: newest first, `size` + 1 rows (one more tells a next page exists),
    strictly after the `(created_sort, id)` of the last row already returned."""
    clauses = ["true"]
    parameters: list[dict[str, object]] = [{"name": "@size", "value": size + 1}]
    if since is not None:
        clauses.append("c.created_sort >= @since")
        parameters.append({"name": "@since", "value": since})
    if until is not None:
        clauses.append("c.created_sort < @until")
        parameters.append({"name": "@until", "value": until})
    if after is not None:
        clauses.append(
            "(c.created_sort < @after_sort OR (c.created_sort = @after_sort AND c.id < @after_id))"
        )
        parameters += [{"name": "@after_sort", "value": after[0]}, {"name": "@after_id", "value": after[1]}]
    query = (
        f"SELECT TOP @size * FROM c WHERE {' AND '.join(clauses)}"  # noqa: S608 (fixed clauses)
        " ORDER BY c.created_sort DESC, c.id DESC"
    )
    return query, parameters


def _sortable(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _to_document(call: Call) -> dict[str, Any]:
    document: dict[str, Any] = call.document()
    document["id"] = str(call.call_id)
    document["created_sort"] = _sortable(call.created_at)
    document["updated_sort"] = _sortable(call.updated_at)
    due = call.next_callback_due()
    document["callback_due_sort"] = None if due is None else _sortable(due)
    return document


def _from_document(document: dict[str, Any]) -> Call:
    etag = document.get("_etag")
    fields = {k: v for k, v in document.items() if not k.startswith("_") and k not in _EXTRA_FIELDS}
    call = Call.model_validate(fields)
    call.etag = etag
    return call


class CosmosCallStore:
    def __init__(
        self,
        endpoint: str,
        *,
        database: str,
        container: str,
        key: str | None = None,
        credential: AsyncTokenCredential | None = None,
    ) -> None:
        auth: str | AsyncTokenCredential
        if key:
            auth = key
        elif credential is not None:
            auth = credential
        else:
            from azure.identity.aio import DefaultAzureCredential  # noqa: PLC0415 (only in Entra ID mode)

            auth = credential = DefaultAzureCredential()
        self._credential = credential
        self._client = CosmosClient(endpoint, credential=auth)
        self._container: ContainerProxy = self._client.get_database_client(database).get_container_client(
            container
        )
        self._endpoint = endpoint

    def _error(self, exc: Exception) -> StoreError:
        return StoreError(f"cosmos store {self._endpoint}: {exc}")

    async def get(self, call_id: UUID, *, caller_phone: str | None = None) -> Call | None:
        try:
            if caller_phone is not None:
                return _from_document(
                    await self._container.read_item(str(call_id), partition_key=caller_phone)
                )
            query = self._container.query_items(
                "SELECT * FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": str(call_id)}]
            )
            async for document in query:
                return _from_document(document)
            return None
        except exceptions.CosmosResourceNotFoundError:
            return None
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc

    async def create(self, call: Call) -> Call:
        try:
            return _from_document(await self._container.create_item(_to_document(call)))
        except exceptions.CosmosResourceExistsError as exc:
            raise ConflictError(f"call {call.call_id} already exists") from exc
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc

    async def replace(self, call: Call) -> Call:
        if call.etag is None:
            raise ConflictError(f"call {call.call_id}: replace needs the etag read with the call")
        try:
            document = await self._container.replace_item(
                str(call.call_id),
                _to_document(call),
                etag=call.etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except (exceptions.CosmosAccessConditionFailedError, exceptions.CosmosResourceNotFoundError) as exc:
            raise ConflictError(
                f"call {call.call_id}: stale etag or deleted (someone else wrote first)"
            ) from exc
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc
        return _from_document(document)

    async def delete(self, call_id: UUID, *, caller_phone: str) -> bool:
        try:
            await self._container.delete_item(str(call_id), partition_key=caller_phone)
        except exceptions.CosmosResourceNotFoundError:
            return False
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc
        return True

    async def find_resumable(self, caller_phone: str, *, within: timedelta, now: datetime) -> Call | None:
        page = await self._query(
            "SELECT TOP 1 * FROM c WHERE c.caller_phone = @phone AND c.updated_sort >= @since"
            " ORDER BY c.updated_sort DESC",
            {"@phone": caller_phone, "@since": _sortable(now - within)},
            partition_key=caller_phone,
            limit=1,
            cursor=None,
        )
        return page.items[0] if page.items else None

    async def list_by_phone(self, caller_phone: str, *, limit: int = 20, cursor: str | None = None) -> Page:
        return await self._query(
            "SELECT * FROM c WHERE c.caller_phone = @phone ORDER BY c.created_sort DESC",
            {"@phone": caller_phone},
            partition_key=caller_phone,
            limit=limit,
            cursor=cursor,
        )

    async def list_by_date(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        size = clamp_limit(limit)
        after: tuple[str, str] | None = None
        if cursor is not None:
            position = decode_cursor(cursor)
            if set(position) != {"c", "i"}:
                raise ValueError("invalid cursor")
            after = (position["c"], position["i"])
        query, parameters = keyset_query(
            since=_sortable(since) if since is not None else None,
            until=_sortable(until) if until is not None else None,
            after=after,
            size=size,
        )
        try:
            documents = [d async for d in self._container.query_items(query, parameters=parameters)]
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc
        items = [_from_document(document) for document in documents[:size]]
        next_cursor = None
        if len(documents) > size:
            last = documents[size - 1]
            next_cursor = encode_cursor({"c": last["created_sort"], "i": last["id"]})
        return Page(items=items, next_cursor=next_cursor)

    async def list_due_reminders(self, now: datetime, limit: int) -> list[Call]:
        size = clamp_due_limit(limit)
        calls: list[Call] = []
        try:
            query = self._container.query_items(
                "SELECT TOP @limit * FROM c WHERE IS_STRING(c.callback_due_sort)"
                " AND c.callback_due_sort <= @now ORDER BY c.callback_due_sort ASC",
                parameters=[{"name": "@limit", "value": size}, {"name": "@now", "value": _sortable(now)}],
            )
            async for document in query:
                calls.append(_from_document(document))
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc
        return calls

    async def list_post_call_pending(self, enqueued_before: datetime, limit: int) -> list[Call]:
        size = clamp_due_limit(limit)
        calls: list[Call] = []
        try:
            query = self._container.query_items(
                "SELECT TOP @limit * FROM c WHERE IS_STRING(c.post_call_enqueued_at)"
                " AND NOT IS_STRING(c.post_call_done_at) AND c.post_call_enqueued_at < @before",
                parameters=[
                    {"name": "@limit", "value": size},
                    {"name": "@before", "value": enqueued_before.isoformat()},
                ],
            )
            async for document in query:
                calls.append(_from_document(document))
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc
        return calls

    async def list_unfinished(self, updated_before: datetime, limit: int) -> list[Call]:
        size = clamp_due_limit(limit)
        calls: list[Call] = []
        try:
            query = self._container.query_items(
                "SELECT TOP @limit * FROM c WHERE c.connection.state != 'disconnected'"
                " AND c.updated_sort < @before ORDER BY c.updated_sort ASC",
                parameters=[
                    {"name": "@limit", "value": size},
                    {"name": "@before", "value": _sortable(updated_before)},
                ],
            )
            async for document in query:
                calls.append(_from_document(document))
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc
        return calls

    async def find_by_recording(self, recording_id: str, *, server_call_id: str | None = None) -> Call | None:
        lookups = [("c.recording_id", recording_id)]
        if server_call_id:
            lookups.append(("c.connection.server_call_id", server_call_id))
        try:
            for path, value in lookups:
                query = self._container.query_items(
                    f"SELECT TOP 1 * FROM c WHERE {path} = @value ORDER BY c.created_sort DESC",  # noqa: S608
                    parameters=[{"name": "@value", "value": value}],
                )
                async for document in query:
                    return _from_document(document)
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc
        return None

    async def _query(
        self,
        query: str,
        parameters: dict[str, str],
        *,
        partition_key: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        size = clamp_limit(limit)
        options: dict[str, Any] = {"max_item_count": size}
        if partition_key is not None:
            options["partition_key"] = partition_key
        try:
            items = self._container.query_items(
                query, parameters=[{"name": k, "value": v} for k, v in parameters.items()], **options
            )
            pages = items.by_page(cursor)
            async for page in pages:
                calls = [_from_document(document) async for document in page]
                return Page(items=calls, next_cursor=getattr(pages, "continuation_token", None))
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc
        return Page(items=[])

    async def ping(self) -> None:
        try:
            await self._container.read()
        except exceptions.CosmosHttpResponseError as exc:
            raise self._error(exc) from exc

    async def close(self) -> None:
        await self._client.close()
        if self._credential is not None and hasattr(self._credential, "close"):
            await self._credential.close()
