"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.composition import Services, ServicesHolder


async def get_services(request: Request) -> Services:
    holder: ServicesHolder = request.app.state.services
    return await holder.get()


ServicesDep = Annotated[Services, Depends(get_services)]
