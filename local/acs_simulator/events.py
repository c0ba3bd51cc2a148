"""Event payloads (CloudEvent callbacks, Event Grid notifications) and their delivery.

Callbacks: a POST of a one-element JSON array of CloudEvents to the call's callback URI, with
`Authorization: Bearer <JWT>`. Event Grid: a POST of a one-element JSON array of Event Grid events with
`aeg-event-type: Notification`. Events of one call (or of one Event Grid event type) are delivered in
order by one worker task that exits when its queue is empty. A failed POST (connection error, timeout,
a 5xx or 429) is retried with an exponential backoff, then recorded as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from typing import Any

import httpx

from local.acs_simulator.auth import TokenSigner
from local.acs_simulator.state import Delivery, SimCall, SimulatorConfig, iso, utc_now

__all__ = ["EVENT_PREFIX", "Courier", "cloud_event", "event_grid_event", "result_information"]

EVENT_PREFIX = "Microsoft.Communication."
EVENT_VERSION = "2026-03-12"
_NO_RETRY = frozenset({400, 401, 403, 404, 413})


def result_information(code: int = 200, sub_code: int = 0, message: str = "") -> dict[str, Any]:
    return {"code": code, "subCode": sub_code, "message": message or "Action completed successfully."}


def cloud_event(
    event_type: str,
    call: SimCall,
    *,
    operation_context: str | None = None,
    result: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A Call Automation CloudEvent; `event_type` is short (`CallConnected`) or full."""
    full_type = event_type if event_type.startswith(EVENT_PREFIX) else EVENT_PREFIX + event_type
    source = f"calling/callConnections/{call.call_connection_id}"
    data = {
        "version": EVENT_VERSION,
        "callConnectionId": call.call_connection_id,
        "serverCallId": call.server_call_id,
        "correlationId": call.correlation_id,
        "operationContext": operation_context,
        "resultInformation": result or result_information(),
        **fields,
        "publicEventType": full_type,
    }
    return {
        "id": str(uuid.uuid4()),
        "source": source,
        "type": full_type,
        "data": data,
        "time": iso(utc_now()),
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": source,
    }


def event_grid_event(event_type: str, subject: str, data: dict[str, Any], topic: str) -> dict[str, Any]:
    full_type = event_type if event_type.startswith(EVENT_PREFIX) else EVENT_PREFIX + event_type
    return {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "subject": subject,
        "data": data,
        "eventType": full_type,
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": iso(utc_now()),
    }


class Courier:
    """Delivers events in order per key, retrying, and records every delivery."""

    def __init__(self, config: SimulatorConfig, signer: TokenSigner, deliveries: list[Delivery]) -> None:
        self.config, self.signer, self.deliveries = config, signer, deliveries
        self._queues: dict[str, deque[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None
        self._closed = False

    def callback(self, call: SimCall, event: dict[str, Any], url: str | None = None) -> Delivery:
        """Queue a CloudEvent for the call's callback URI (or an operation's callback URL)."""
        delivery = Delivery(
            "callback", event["type"], url or call.callback_uri, event, call.call_connection_id
        )
        return self._enqueue(f"call:{call.call_connection_id}", delivery)

    def event_grid(self, event: dict[str, Any]) -> Delivery:
        event_type = event["eventType"]
        delivery = Delivery("eventgrid", event_type, self.config.event_grid_url(event_type), event)
        return self._enqueue(f"eventgrid:{event_type}", delivery)

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    def _enqueue(self, key: str, delivery: Delivery) -> Delivery:
        self.deliveries.append(delivery)
        if self._closed:
            self._finish(delivery, error="the simulator is stopping")
            return delivery
        self._queues.setdefault(key, deque()).append(delivery)
        if key not in self._workers:
            self._workers[key] = asyncio.get_running_loop().create_task(self._drain(key), name=key)
        return delivery

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                await self._deliver(queue[0])
                queue.popleft()
        finally:
            # No await between the emptiness check and the removal: nothing can slip in.
            del self._workers[key]
            if not queue:
                del self._queues[key]

    @staticmethod
    def _finish(delivery: Delivery, *, status: int | None = None, error: str | None = None) -> None:
        delivery.status_code, delivery.error = status, error
        delivery.ok = error is None and status is not None and 200 <= status < 300
        delivery.done, delivery.finished_at = True, time.monotonic()

    async def _deliver(self, delivery: Delivery) -> None:
        if delivery.url is None:
            self._finish(delivery, error=f"no URL to deliver {delivery.event_type} to")
            return
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.delivery_timeout_s, trust_env=False)
        status: int | None = None
        error: str | None = None
        for attempt in range(max(1, self.config.delivery_attempts)):
            if attempt:
                await asyncio.sleep(self.config.delivery_backoff_s * 2 ** (attempt - 1))
            delivery.attempts = attempt + 1
            headers = self._headers(delivery, attempt)
            try:
                response = await self._client.post(delivery.url, json=[delivery.event], headers=headers)
            except httpx.HTTPError as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
                continue
            status, error = response.status_code, None
            if response.is_success or status in _NO_RETRY:
                break
        if status is not None and not 200 <= status < 300:
            error = f"HTTP {status}"
        self._finish(delivery, status=status, error=error)

    def _headers(self, delivery: Delivery, attempt: int) -> dict[str, str]:
        if delivery.channel == "callback":
            delivery.authorization = f"Bearer {self.signer.token()}"
            return {"Authorization": delivery.authorization}
        return {
            "aeg-event-type": "Notification",
            "aeg-subscription-name": "ACS-SIMULATOR",
            "aeg-delivery-count": str(attempt),
            "aeg-data-version": "1.0",
            "aeg-metadata-version": "1",
        }

    async def aclose(self) -> None:
        self._closed = True
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        for queue in self._queues.values():
            for delivery in queue:
                if not delivery.done:
                    self._finish(delivery, error="the simulator stopped")
        self._queues.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
