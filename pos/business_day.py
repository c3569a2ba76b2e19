"""The business day: the local calendar date a sale, refund or cash movement belongs to.

Times are stored in UTC; a day is the machine's local midnight to midnight, turned into a UTC
range for queries. One module so reports, the cash drawer and refunds agree on what "today" is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pos.errors import InputError


def today() -> date:
    return datetime.now().astimezone().date()


def parse_day(text: str | None) -> date:
    """`YYYY-MM-DD` → date; None or "" → today. Raises `InputError` for anything else."""
    if not text:
        return today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(message=f"{text!r} is not a date.", hint="Use YYYY-MM-DD.") from None


def day_bounds(day: date) -> tuple[str, str]:
    """The UTC ISO range [start, end) of a local business day (compared as text)."""
    start = datetime.combine(day, time.min).astimezone()
    end = datetime.combine(day + timedelta(days=1), time.min).astimezone()
    return (start.astimezone(UTC).isoformat(timespec="microseconds"),
            end.astimezone(UTC).isoformat(timespec="microseconds"))


def day_of(moment: datetime) -> date:
    return moment.astimezone().date()
