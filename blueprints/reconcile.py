"""Reconciliation: a timer trigger finishing the calls whose last events were lost. Thin: the work
is in `shared/calls/reconcile.py`."""

from __future__ import annotations

import azure.functions as func

from blueprints import runtime
from shared.calls.reconcile import reconcile_calls

SCHEDULE = "30 */1 * * * *"  # NCRONTAB (with seconds): every minute, half a minute after the reminders

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("reconcile_calls")
@bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=True)
async def reconcile_calls_timer(timer: func.TimerRequest) -> None:
    """Every minute (and at start, after downtime): finish the calls the telephony service ended while
    their events were lost, each with its one post-call job."""
    await reconcile_calls(await runtime.current().get())
