"""NCRONTAB schedules as the Functions host reads them: six fields, `sec min hour day month weekday`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES = ("second", "minute", "hour", "day", "month", "weekday")
MAX_LOOKAHEAD = timedelta(days=366)


def _field(text: str, low: int, high: int, name: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = int(first), int(last)
        else:
            start = end = int(base)
            if step_text:
                end = high
        if step < 1 or not (low <= start <= end <= high):
            raise ValueError(f"NCRONTAB {name} field {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday, as in cron

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        fields = expression.split()
        if len(fields) != 6:
            raise ValueError(f"NCRONTAB needs 6 fields (sec min hour day month weekday): {expression!r}")
        try:
            parsed = [
                _field(f, low, high, n) for f, (low, high), n in zip(fields, _RANGES, _NAMES, strict=True)
            ]
        except ValueError as exc:
            raise ValueError(f"bad NCRONTAB {expression!r}: {exc}") from exc
        return cls(*parsed)

    def matches(self, moment: datetime) -> bool:
        return (
            moment.second in self.seconds
            and moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.day in self.days
            and moment.month in self.months
            and (moment.isoweekday() % 7) in self.weekdays
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first matching second strictly after `moment` (skipping non-matching days and hours fast)."""
        candidate = moment.replace(microsecond=0) + timedelta(seconds=1)
        deadline = moment + MAX_LOOKAHEAD
        while candidate <= deadline:
            if (
                candidate.month not in self.months
                or candidate.day not in self.days
                or (candidate.isoweekday() % 7) not in self.weekdays
            ):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif candidate.hour not in self.hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0, second=0)
            elif candidate.minute not in self.minutes:
                candidate = (candidate + timedelta(minutes=1)).replace(second=0)
            elif candidate.second not in self.seconds:
                candidate += timedelta(seconds=1)
            else:
                return candidate
        raise ValueError("the schedule never fires within a year")
