"""The HTTP API: one FastAPI app served by Azure Functions (AsgiFunctionApp) or by uvicorn locally.

Routes live under `/api`, the Functions host's default route prefix, so URLs are the same in both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from blueprints import calls, docs, health, reports, runtime, sms
from blueprints.body_limit import BodyLimit
from blueprints.openapi import install_truthful_openapi
from shared.composition import ServicesHolder
from shared.problems import plain_message
from shared.settings import Settings, SettingsError
from shared.store.base import StoreError

API_PREFIX = "/api"
MAX_BODY_BYTES = 256 * 1024


def _readable(error: Mapping[str, Any]) -> str:
    """`phone_number: '12345' is not an E.164 phone number...` instead of pydantic's nested lists."""
    location = ".".join(str(part) for part in tuple(error.get("loc", ()))[1:]) or "body"
    return f"{location}: {plain_message(error)}"


def create_api(settings: Settings | None = None) -> FastAPI:
    """The API. Without `settings`, the process's shared services (also used by the triggers)."""
    holder = ServicesHolder(settings) if settings is not None else None  # None: the process's services

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await (holder or runtime.current()).aclose()

    app = FastAPI(
        title="Call Center AI",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",  # under the host's route prefix, like the docs page
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: /api/docs serves it offline
        redoc_url=None,
    )
    app.state.services = holder
    app.include_router(health.router, prefix=API_PREFIX)
    app.include_router(calls.router, prefix=API_PREFIX)
    app.include_router(sms.router, prefix=API_PREFIX)
    app.include_router(reports.router, prefix=API_PREFIX)  # HTML pages; /report is outside the host's prefix
    app.include_router(docs.router, prefix=API_PREFIX)

    # outermost: the limit holds on the bytes read (chunked or not), before any route or key check
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    install_truthful_openapi(app, max_body_bytes=MAX_BODY_BYTES)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": [_readable(e) for e in exc.errors()]}, status_code=400)

    @app.exception_handler(SettingsError)
    async def _misconfigured(_request: Request, exc: SettingsError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(StoreError)
    async def _store_unavailable(_request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": f"conversation store unavailable: {exc}"}, status_code=503)

    return app
