"""Inbound texts: the Event Grid `SMSReceived` trigger (ACS) and the Twilio webhook
(`POST /api/sms/twilio`). Thin: both hand the text to `shared.sms.inbound.receive_sms`."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import parse_qsl

import azure.functions as func
from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import Response

from blueprints import event_grid, runtime
from blueprints.dependencies import ServicesDep
from shared.sms.inbound import receive_sms
from shared.sms.twilio import twilio_signature_valid

log = logging.getLogger(__name__)

SMS_RECEIVED = "Microsoft.Communication.SMSReceived"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

router = APIRouter(prefix="/sms", tags=["sms"])
bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("sms_received")
@bp.event_grid_trigger(arg_name="event")
async def sms_received(event: func.EventGridEvent) -> None:
    """Event Grid subscription on the ACS resource, filtered on `Microsoft.Communication.SMSReceived`."""
    if not event_grid.accepts(event, SMS_RECEIVED, "sms_received"):
        return
    data = event.get_json()
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("from", "to", "message")):
        log.warning("SMSReceived %s ignored: no from/to/message", event.id)
        return
    services = await runtime.current().get()
    await receive_sms(
        services, data["from"], data["to"], data["message"], message_id=data.get("messageId") or event.id
    )


@router.post("/twilio")
async def twilio_webhook(
    request: Request,
    services: ServicesDep,
    signature: Annotated[str | None, Header(alias="X-Twilio-Signature")] = None,
) -> Response:
    """Twilio's "a message comes in" webhook. Signed with the auth token over the public URL."""
    token = services.settings.sms.twilio.auth_token
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the Twilio webhook is not configured")
    params = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    url = services.settings.api.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += f"?{request.url.query}"
    if not twilio_signature_valid(token.get_secret_value(), url, params, signature):
        log.warning("Twilio webhook refused: bad signature")
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid X-Twilio-Signature")
    sender, bot, text = params.get("From", ""), params.get("To", ""), params.get("Body", "")
    if sender and text:
        await receive_sms(services, sender, bot, text, message_id=params.get("MessageSid"))
    return Response(EMPTY_TWIML, media_type="text/xml")
