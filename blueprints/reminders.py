"""Reminders: a timer trigger placing the call-backs of due reminders. Thin: the work is in
`shared/reminders/callbacks.py`."""

from __future__ import annotations

import logging

import azure.functions as func

from blueprints import runtime
from shared.reminders.callbacks import run_due_callbacks

log = logging.getLogger(__name__)

SCHEDULE = "0 */1 * * * *"  # NCRONTAB (with seconds): every minute

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.function_name("reminder_callbacks")
@bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False)
async def reminder_callbacks(timer: func.TimerRequest) -> None:
    """Every minute: call back the customers whose assistant reminders are due (late ones included)."""
    if timer.past_due:
        log.info("reminder call-backs: the timer is past due, catching up")
    await run_due_callbacks(await runtime.current().get())
