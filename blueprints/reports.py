"""The web report: `GET /api/report` (the call list, admin key) and `GET /api/report/{call_id}` (one call,
signed link or admin key). Thin: the pages are built in `shared/report/`.

Under `/api` like every route: the Functions host only forwards paths under its route prefix (`api`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse

from blueprints.dependencies import API_KEY_HEADER, ServicesDep
from shared.report.pages import DEFAULT_LIMIT, ListRequest, call_page, list_page
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
) -> HTMLResponse:
    request = ListRequest(phone, since, until, next_action, cursor, limit, key, header_key)
    return _response(await list_page(services.store, services.settings, request))


@router.get("/{call_id}", response_class=HTMLResponse)
async def report_call(
    *,
    call_id: str,
    services: ServicesDep,
    header_key: HeaderKey = None,
    key: Annotated[str | None, Query(max_length=500)] = None,
    expires: Annotated[str | None, Query(max_length=20)] = None,
    sig: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    page = await call_page(
        services.store, services.settings, call_id, keys=(header_key, key), expires=expires, signature=sig
    )
    return _response(page)
