"""FastAPI dependencies shared by the routers: the process's services and the API key check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from blueprints import runtime
from shared.composition import Services, ServicesHolder

API_KEY_HEADER = "x-functions-key"


async def get_services(request: Request) -> Services:
    holder: ServicesHolder | None = request.app.state.services
    return await (holder or runtime.current()).get()


ServicesDep = Annotated[Services, Depends(get_services)]


async def require_api_key(
    services: ServicesDep, key: Annotated[str | None, Header(alias=API_KEY_HEADER)] = None
) -> None:
    """The same check under uvicorn and in Azure (the host's own key check is off: auth level anonymous)."""
    expected = services.settings.api.key
    if expected is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "API__KEY is not configured on the server")
    if key is None or not hmac.compare_digest(key.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"missing or wrong {API_KEY_HEADER} header")


ApiKey = Depends(require_api_key)
