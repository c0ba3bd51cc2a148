"""The web report: `GET /api/report` (the call list, admin key; `?format=csv` downloads it),
`GET /api/report/fleet` (calls per day, outcomes, latency, slowest calls; admin key),
`GET /api/report/{call_id}` (one call, signed link or admin key) and `GET /api/report/{call_id}/recording`
(its recording, same access; byte ranges served). Thin: the pages are built in `shared/report/`.

Under `/api` like every route: the Functions host only forwards paths under its route prefix (`api`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from blueprints.dependencies import API_KEY_HEADER, ServicesDep
from shared.report.fleet_page import DEFAULT_DAYS, FleetRequest, fleet_page
from shared.report.pages import (
    DEFAULT_LIMIT,
    CsvFile,
    ListRequest,
    PageCredentials,
    call_page,
    list_csv,
    list_page,
    recording,
)
from shared.report.recording import part_of
from shared.report.render import SECURITY_HEADERS, HtmlPage

router = APIRouter(prefix="/report", tags=["report"])

Text = Annotated[str | None, Query(max_length=100)]
HeaderKey = Annotated[str | None, Header(alias=API_KEY_HEADER)]


def _response(page: HtmlPage) -> HTMLResponse:
    return HTMLResponse(page.html, status_code=page.status, headers=SECURITY_HEADERS)


@router.get("", response_class=HTMLResponse)
async def report_list(
    *,
    services: ServicesDep,
    header_key: HeaderKey = None,
    key: Annotated[str | None, Query(max_length=500)] = None,
    phone: Text = None,
    since: Text = None,
    until: Text = None,
    next_action: Text = None,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
    q: Text = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    format: Annotated[str | None, Query(pattern="^(html|csv)$")] = None,
) -> Response:
    request = ListRequest(phone, since, until, next_action, cursor, limit, key, header_key, q, sort, page)
    if format == "csv":
        exported = await list_csv(services.store, services.settings, request)
        if isinstance(exported, HtmlPage):
            return _response(exported)
        return _csv(exported)
    return _response(await list_page(services.store, services.settings, request))


@router.get("/fleet", response_class=HTMLResponse)
async def report_fleet(
    *,
    services: ServicesDep,
    header_key: HeaderKey = None,
    key: Annotated[str | None, Query(max_length=500)] = None,
    days: Annotated[int, Query(ge=1, le=366)] = DEFAULT_DAYS,
) -> HTMLResponse:
    """The fleet view: calls per day by outcome, voice-to-voice p50/p95 per day and agent, slowest calls."""
    request = FleetRequest(days=days, query_key=key, header_key=header_key)
    return _response(await fleet_page(services.store, services.settings, request))


def _csv(exported: CsvFile) -> Response:
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
    }
    return Response(exported.text, media_type="text/csv; charset=utf-8", headers=headers)


def page_credentials(
    header_key: HeaderKey = None,
    key: Annotated[str | None, Query(max_length=500)] = None,
    expires: Annotated[str | None, Query(max_length=20)] = None,
    sig: Annotated[str | None, Query(max_length=200)] = None,
    pk: Annotated[str | None, Query(max_length=32)] = None,
) -> PageCredentials:
    """What opened a call's page or recording: the admin key, or a signed link with its partition key."""
    return PageCredentials(keys=(header_key, key), expires=expires, signature=sig, partition=pk)


Credentials = Annotated[PageCredentials, Depends(page_credentials)]


@router.get("/{call_id}", response_class=HTMLResponse)
async def report_call(call_id: str, services: ServicesDep, credentials: Credentials) -> HTMLResponse:
    return _response(await call_page(services.store, services.settings, call_id, credentials))


@router.get("/{call_id}/recording")
async def report_recording(
    call_id: str,
    services: ServicesDep,
    credentials: Credentials,
    byte_range: Annotated[str | None, Header(alias="Range", max_length=200)] = None,
) -> Response:
    answer = await recording(services.store, services.blobs, services.settings, call_id, credentials)
    if isinstance(answer, HtmlPage):
        return _response(answer)
    headers = {"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"}
    if answer.location is not None:  # a short-lived read-only URL of the blob (Azure: a SAS)
        return RedirectResponse(answer.location, status_code=307, headers=headers)
    if answer.status != 200:
        return _response(HtmlPage(404, "no recording"))
    part = part_of(answer, byte_range)  # the player asks for ranges to seek (and Safari to play at all)
    return Response(
        part.content, status_code=part.status, media_type=answer.media_type, headers=headers | part.headers
    )
