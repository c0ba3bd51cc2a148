"""Health probes: liveness (the process answers) and readiness (its dependencies answer)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from blueprints.dependencies import ServicesDep
from shared.health import check_readiness

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/liveness")
async def liveness() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readiness")
async def readiness(services: ServicesDep) -> JSONResponse:
    result = await check_readiness(services)
    if result.ready:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "not ready", "failures": result.failures}, status_code=503)
