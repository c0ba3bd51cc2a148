"""`GET /api/docs`: Swagger UI for the API, offline (the files come from a Python package, see
`shared/api_docs.py`). Under `/api` like every route, so the Functions host serves it too."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from shared.api_docs import ASSETS, DOCS_HEADERS, DOCS_PAGE, START_SCRIPT, asset_path

router = APIRouter(tags=["docs"], include_in_schema=False)

CACHE = {"Cache-Control": "public, max-age=86400"}


@router.get("/docs", response_class=HTMLResponse)
async def docs_page() -> HTMLResponse:
    return HTMLResponse(DOCS_PAGE, headers=DOCS_HEADERS)


@router.get("/docs/start.js")
async def docs_start() -> Response:
    return Response(START_SCRIPT, media_type="text/javascript; charset=utf-8", headers=DOCS_HEADERS)


@router.get("/docs/assets/{name}")
async def docs_asset(name: str) -> Response:
    path = asset_path(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type=ASSETS[name], headers={**DOCS_HEADERS, **CACHE})
