"""Calls: place one (`POST /api/call`), read them, receive the telephony service's call events, and
answer incoming calls (Event Grid `IncomingCall` trigger). Thin: the work is in `shared/calls/`."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

import azure.functions as func
from fastapi import APIRouter, Header, HTTPException, Query, Request, status

from blueprints import event_grid, runtime
from blueprints.dependencies import ApiKey, ServicesDep
from shared.calls.events import handle_call_events
from shared.calls.inbound import INCOMING_CALL, answer_incoming_call
from shared.calls.outbound import CallPlacementError, CallRequest, place_call
from shared.calls.routing import partition_key
from shared.models.call import check_e164
from shared.store.base import CallNotFoundError
from shared.telephony.callback_auth import CallbackAuthError, parse_events

log = logging.getLogger(__name__)

router = APIRouter(prefix="/call", tags=["calls"])
bp = func.Blueprint()  # type: ignore[no-untyped-call]


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[ApiKey])
async def create_call(body: CallRequest, services: ServicesDep) -> dict[str, object]:
    try:
        call = await place_call(services, body)
    except CallPlacementError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the call could not be placed: {exc}") from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, [str(exc)]) from exc
    return call.public()


@router.get("/{call_id}", dependencies=[ApiKey])
async def get_call(
    call_id: UUID,
    services: ServicesDep,
    phone_number: Annotated[
        str | None, Query(max_length=32, description="the caller's number (E.164): a cheaper point read")
    ] = None,
) -> dict[str, object]:
    call = await services.store.get(call_id, caller_phone=partition_key(phone_number))
    if call is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"call {call_id} not found")
    return call.public()


@router.get("", dependencies=[ApiKey])
async def list_calls(
    services: ServicesDep,
    phone_number: Annotated[str, Query(description="the caller's number, E.164")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, object]:
    try:
        phone = check_e164(phone_number)
        page = await services.store.list_by_phone(phone, limit=limit, cursor=cursor)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    return {"calls": [call.public() for call in page.items], "next_cursor": page.next_cursor}


@router.post("/events/{call_id}")
async def call_events(
    *,
    call_id: UUID,
    request: Request,
    services: ServicesDep,
    secret: Annotated[str | None, Query(max_length=200)] = None,
    pk: Annotated[str | None, Query(max_length=32)] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, object]:
    """The callback URL given to the telephony service for one call."""
    try:
        await services.callback_verifier.verify(authorization)
        events = parse_events(await request.body())
        applied = await handle_call_events(services, call_id, secret, events, caller_phone=partition_key(pk))
    except CallbackAuthError as exc:
        log.warning("call %s: callback refused: %s", call_id, exc)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unauthorized callback") from exc
    except CallNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    return {"applied": applied}


@bp.function_name("incoming_call")
@bp.event_grid_trigger(arg_name="event")
async def incoming_call(event: func.EventGridEvent) -> None:
    """Event Grid subscription on the ACS resource, filtered on `Microsoft.Communication.IncomingCall`.

    The subscription must deliver the Event Grid schema; a CloudEvents delivery is logged and dropped."""
    if not event_grid.accepts(event, INCOMING_CALL, "incoming_call"):
        return
    data = event.get_json()
    try:
        await answer_incoming_call(  # logs "call answered" with the call id
            await runtime.current().get(), data if isinstance(data, dict) else {}
        )
    except ValueError as exc:
        log.warning("IncomingCall %s ignored: %s", event.id, exc)
        return
