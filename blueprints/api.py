"""The HTTP API: one FastAPI app served by Azure Functions (AsgiFunctionApp) or by uvicorn locally.

Routes live under `/api`, the Functions host's default route prefix, so URLs are the same in both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from blueprints import health
from shared.composition import ServicesHolder
from shared.settings import Settings
from shared.store.base import StoreError

API_PREFIX = "/api"


def create_api(settings: Settings | None = None) -> FastAPI:
    holder = ServicesHolder(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await holder.aclose()

    app = FastAPI(title="Call Center AI", version="0.1.0", lifespan=lifespan)
    app.state.services = holder
    app.include_router(health.router, prefix=API_PREFIX)

    @app.exception_handler(StoreError)
    async def _store_unavailable(_request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": f"conversation store unavailable: {exc}"}, status_code=503)

    return app
