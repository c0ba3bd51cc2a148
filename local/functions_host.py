"""A stand-in for the Azure Functions host, for `callcenter dev` and tests.

Like the host, it indexes the functions registered on the real `function_app.app`, reads their bindings
and resolves each binding's connection from the app settings the host's way (local/host_settings.py),
refusing to start with the host's own "functions are in error" wording when one does not resolve.
It serves the host's Event Grid webhook URL shape (`/runtime/webhooks/EventGrid?functionName=NAME`),
the host's admin route for running a timer function by hand (`POST /admin/functions/NAME`), fires
timer triggers on their NCRONTAB schedule, and drives queue triggers from the Storage queue their
binding names (Azurite), or from the in-process job queue in the embedded default
(local/queue_trigger.py). The code under test is the production trigger code.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
from azure.functions.decorators.core import BindingDirection
from azure.functions.timer import TimerRequest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.host_settings import (
    HostIndexingError,
    HostSettings,
    indexing_error,
    never_resolvable,
    resolve_storage_connection,
)
from local.ncrontab import Schedule
from local.queue_trigger import QueueOptions, pump_memory_queue, pump_storage_queue
from shared.jobs.base import MemoryJobQueue

log = logging.getLogger(__name__)

EVENT_GRID_PATH = "/runtime/webhooks/EventGrid"
ADMIN_FUNCTIONS_PATH = "/admin/functions/{name}"


STORAGE_BINDINGS = {"queueTrigger", "queue", "blobTrigger", "blob", "table"}


@dataclass(frozen=True)
class RegisteredFunction:
    name: str
    trigger: str
    function: Callable[..., Any]
    binding: dict[str, Any]
    bindings: tuple[dict[str, Any], ...] = ()


@functools.cache
def indexed_functions(app: Any) -> tuple[Any, ...]:
    """`app.get_functions()`, once per app: like the host, the SDK refuses to index an app twice."""
    return tuple(app.get_functions())


def registered_functions(app: Any) -> dict[str, RegisteredFunction]:
    """Every non-HTTP function of a FunctionApp, by name (HTTP goes to the ASGI app directly)."""
    found: dict[str, RegisteredFunction] = {}
    for function in indexed_functions(app):
        trigger = next(  # a function has one trigger binding (besides inputs such as a Durable client)
            b.get_dict_repr()
            for b in function.get_bindings()
            if b.get_dict_repr()["direction"] == BindingDirection.IN
            and str(b.get_dict_repr()["type"]).endswith("Trigger")
        )
        if trigger["type"] != "httpTrigger":
            name = str(function.get_function_name())
            bindings = tuple(b.get_dict_repr() for b in function.get_bindings())
            found[name] = RegisteredFunction(
                name, trigger["type"], function.get_user_function(), trigger, bindings
            )
    return found


def _all_bindings(app: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        str(f.get_function_name()): [b.get_dict_repr() for b in f.get_bindings()]
        for f in indexed_functions(app)
    }


async def _invoke(function: Callable[..., Any], **kwargs: Any) -> None:
    result = function(**kwargs)
    if inspect.isawaitable(result):
        await result


def _event_grid_event(raw: dict[str, Any]) -> func.EventGridEvent:
    event_time = raw.get("eventTime")
    return func.EventGridEvent(
        id=str(raw.get("id", "")),
        data=raw.get("data") or {},
        topic=str(raw.get("topic", "")),
        subject=str(raw.get("subject", "")),
        event_type=str(raw.get("eventType", "")),
        event_time=datetime.fromisoformat(event_time.replace("Z", "+00:00")) if event_time else None,
        data_version=str(raw.get("dataVersion", "")),
    )


class FunctionsHost:
    def __init__(
        self,
        app: Any,
        settings: HostSettings | None = None,
        *,
        queue_options: QueueOptions | None = None,
        event_grid_key: str | None = None,
    ) -> None:
        """`event_grid_key`: the host's `eventgrid_extension` system key, required as `?code=` on the
        Event Grid webhook as the real host does (None: no key, for tests driving one function)."""
        self.event_grid_key = event_grid_key
        self.functions = registered_functions(app)
        self.bindings = _all_bindings(app)
        self.settings = settings if settings is not None else HostSettings.from_environment()
        self.queue_options = queue_options or QueueOptions.from_host_json()
        self.invocations: list[tuple[str, str]] = []  # (function name, event id or schedule time)

    def check(self, *, in_process_queues: bool = False) -> None:
        """Raise `HostIndexingError` for every function whose bindings the host could not resolve.

        With `in_process_queues` (the embedded default), queue triggers are fed by the in-process
        job queue, so their storage connection is not looked up; a name that can never resolve
        (holding `__`) is still refused, as it would be on Azure.
        """
        errors: dict[str, str] = {}
        for name, bindings in self.bindings.items():
            for binding in bindings:
                if binding["type"] not in STORAGE_BINDINGS:
                    continue
                connection = binding.get("connection")
                try:
                    if not (in_process_queues and binding["type"] == "queueTrigger"):
                        resolve_storage_connection(connection, self.settings)
                    elif never_resolvable(connection):
                        resolve_storage_connection(connection, HostSettings())
                except ValueError as exc:
                    errors[name] = indexing_error(name, "Storage", str(exc))
        if errors:
            raise HostIndexingError(errors)

    def _queue_invoker(self, function: RegisteredFunction, durable: str | None) -> Any:
        async def invoke(message: Any) -> None:
            arguments: dict[str, Any] = {function.binding["name"]: message}
            for binding in function.bindings:
                if binding["type"] == "durableClient":  # the worker passes the client's JSON context
                    if durable is None:
                        raise RuntimeError(f"{function.name} needs a Durable client: none runs here")
                    arguments[binding["name"]] = durable
            self.invocations.append((function.name, str(message.id)))
            await _invoke(function.function, **arguments)

        return invoke

    async def run_queue_triggers(self, *, durable: str | None, jobs: MemoryJobQueue | None = None) -> None:
        """Drive every queue-triggered function until cancelled: from its Storage queue, or, with
        `jobs` (the embedded default), from the in-process job queue. One task owns them all.
        `durable`: the JSON context given to `durableClient` bindings (local/durable_rpc.py)."""
        pumps = []
        for function in self.functions.values():
            if function.trigger != "queueTrigger":
                continue
            invoke = self._queue_invoker(function, durable)
            if jobs is not None:
                pumps.append(pump_memory_queue(jobs, invoke, self.queue_options))
            else:
                connection = resolve_storage_connection(function.binding.get("connection"), self.settings)
                queue = str(function.binding["queueName"])
                pumps.append(pump_storage_queue(connection, queue, invoke, self.queue_options))
        if pumps:
            await asyncio.gather(*(self._logged(pump) for pump in pumps))

    @staticmethod
    async def _logged(pump: Any) -> None:
        try:
            await pump
        except Exception:  # the host logs a listener that failed; the other triggers go on
            log.exception("a queue trigger listener stopped")

    def routes(self) -> list[Route]:
        return [
            Route(EVENT_GRID_PATH, self._event_grid, methods=["POST"]),
            Route(ADMIN_FUNCTIONS_PATH, self._run_timer_now, methods=["POST"]),
        ]

    async def _run_timer_now(self, request: Request) -> Response:
        """Run a timer function now, as the host's admin API does (202); here the answer waits for the
        function to return, so a caller knows its effects are done (500 if it failed)."""
        name = request.path_params["name"]
        target = self.functions.get(name)
        if target is None or target.trigger != "timerTrigger":
            return JSONResponse({"error": f"no timer function named {name!r}"}, status_code=404)
        self.invocations.append((name, "admin"))
        try:
            await _invoke(target.function, **{target.binding["name"]: TimerRequest(past_due=False)})
        except Exception:
            log.exception("timer function %s failed", name)
            return JSONResponse({"error": f"function {name} failed"}, status_code=500)
        return Response(status_code=202)

    async def _event_grid(self, request: Request) -> Response:
        if self.event_grid_key is not None and not hmac.compare_digest(
            request.query_params.get("code", "").encode(), self.event_grid_key.encode()
        ):
            return JSONResponse(
                {"error": "missing or wrong code (the eventgrid_extension key)"}, status_code=401
            )
        return await self._deliver_event_grid(request)

    async def _deliver_event_grid(self, request: Request) -> Response:
        name = request.query_params.get("functionName", "")
        target = self.functions.get(name)
        if target is None or target.trigger != "eventGridTrigger":
            return JSONResponse({"error": f"no Event Grid function named {name!r}"}, status_code=404)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        events = body if isinstance(body, list) else [body]
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            code = (events[0].get("data") or {}).get("validationCode") if events else None
            return JSONResponse({"validationResponse": code})
        for raw in events:
            if not isinstance(raw, dict):
                return JSONResponse({"error": "events must be objects"}, status_code=400)
            self.invocations.append((name, str(raw.get("id", ""))))
            try:
                await _invoke(target.function, **{target.binding["name"]: _event_grid_event(raw)})
            except Exception:  # the host logs a failed invocation and answers 500, like Azure does
                log.exception("function %s failed on event %s", name, raw.get("id"))
                return JSONResponse({"error": f"function {name} failed"}, status_code=500)
        return Response(status_code=202)

    async def run_timers(self, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """Fire each timer function on its schedule until cancelled (one task owns all timers)."""
        timers = [
            (f, Schedule.parse(f.binding["schedule"]))
            for f in self.functions.values()
            if f.trigger == "timerTrigger"
        ]
        if not timers:
            return
        upcoming = {f.name: s.next_after(clock()) for f, s in timers}
        while True:
            now = clock()
            for function, schedule in timers:
                due = upcoming[function.name]
                if due <= now:
                    past_due = (now - due).total_seconds() > 1
                    upcoming[function.name] = schedule.next_after(now)
                    self.invocations.append((function.name, due.isoformat()))
                    try:
                        await _invoke(
                            function.function, **{function.binding["name"]: TimerRequest(past_due=past_due)}
                        )
                    except Exception:
                        log.exception("timer function %s failed", function.name)
            wait = min((d - clock()).total_seconds() for d in upcoming.values())
            await asyncio.sleep(max(0.05, min(wait, 1.0)))
