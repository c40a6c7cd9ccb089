"""EventBridge schedules: expressions, the event a function receives, and the runner that fires them.

Three layers, each usable alone:

- :func:`parse_schedule` turns ``rate(...)``, ``cron(...)`` or ``at(...)`` into a :class:`Schedule`
  whose :meth:`~Schedule.next_after` says when it fires next. Pure; no clock.
- :func:`scheduled_event` builds the payload a ``Schedule`` / ``ScheduleV2`` event delivers.
- :class:`Scheduler` runs a template's schedules on one background thread against a
  :class:`~localcloud.clock.Clock` and hands each firing to an ``invoke`` callback.

Expression syntax follows the EventBridge user guide ("Cron expressions reference", "Rate expressions
reference") and the EventBridge Scheduler user guide ("Schedule types on EventBridge Scheduler").
"""

from __future__ import annotations

import calendar
import json
import logging
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from localcloud.clock import Clock, SystemClock, as_utc
from localcloud.model import ScheduleEventSpec

__all__ = [
    "AtSchedule",
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleError",
    "ScheduleKind",
    "ScheduleStatus",
    "Scheduler",
    "parse_schedule",
    "schedule_for",
    "scheduled_event",
]

logger = logging.getLogger("localcloud.schedule")

ScheduleKind = Literal["Schedule", "ScheduleV2"]
InvokeCallback = Callable[[str, dict[str, Any]], None]


class ScheduleError(ValueError):
    """A schedule expression (or its timezone / input) that AWS would reject."""

    def __init__(self, expression: str, problem: str) -> None:
        super().__init__(f"invalid schedule expression {expression!r}: {problem}")
        self.expression = expression
        self.problem = problem


class Schedule(ABC):
    """When a schedule fires. ``next_after`` takes and returns timezone-aware UTC datetimes."""

    expression: str

    @abstractmethod
    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after ``moment``, or ``None`` if the schedule never fires again
        (a past ``at()``, a cron whose Year field is exhausted)."""


# --------------------------------------------------------------------------------------------------
# rate(value unit)
# --------------------------------------------------------------------------------------------------

_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


class RateSchedule(Schedule):
    """``rate(value unit)``: every ``interval`` from ``anchor``.

    EventBridge: "A rate expression starts when you create the scheduled event rule, and then it runs
    on a defined schedule." Scheduler: "If you do not provide a StartDate for a rate-based schedule,
    your schedule starts invoking its target immediately." Locally the anchor is the time the local
    cloud started; firings are ``anchor + k × interval`` (k >= 0). A ``day`` is 24 hours whatever the
    timezone (Scheduler: "days represents a 24-hour duration on the clock"). Without an anchor,
    ``next_after(t)`` is ``t + interval``.
    """

    def __init__(self, expression: str, interval: timedelta, anchor: datetime | None = None) -> None:
        self.expression = expression
        self.interval = interval
        self.anchor = as_utc(anchor) if anchor is not None else None

    def with_anchor(self, anchor: datetime) -> RateSchedule:
        return RateSchedule(self.expression, self.interval, anchor)

    def next_after(self, moment: datetime) -> datetime:
        moment = as_utc(moment)
        if self.anchor is None:
            return moment + self.interval
        if moment < self.anchor:
            return self.anchor
        periods = (moment - self.anchor) // self.interval + 1
        return self.anchor + periods * self.interval

    def __repr__(self) -> str:
        return f"RateSchedule({self.expression!r}, anchor={self.anchor!r})"


def _parse_rate(expression: str, body: str, kind: ScheduleKind, anchor: datetime | None) -> RateSchedule:
    match = re.fullmatch(r"\s*(\S+)\s+(\S+)\s*", body)
    if match is None:
        raise ScheduleError(expression, "a rate expression is 'rate(value unit)', e.g. rate(5 minutes)")
    value_text, unit = match.group(1), match.group(2).lower()
    if not value_text.isdigit() or int(value_text) <= 0:
        raise ScheduleError(expression, f"the rate value must be a positive integer, got {value_text!r}")
    value = int(value_text)
    singular = unit.removesuffix("s")
    if singular not in _UNIT_SECONDS:
        raise ScheduleError(
            expression, f"the rate unit must be minute(s), hour(s) or day(s), got {match.group(2)!r}"
        )
    if kind == "Schedule":
        # EventBridge rules: "If the value is equal to 1, then the unit must be singular. If the value
        # is greater than 1, the unit must be plural."
        if value == 1 and unit != singular:
            raise ScheduleError(expression, f"a value of 1 takes the singular unit: rate(1 {singular})")
        if value > 1 and unit == singular:
            raise ScheduleError(expression, f"a value above 1 takes the plural unit: rate({value} {unit}s)")
    # EventBridge Scheduler documents only the plural units and no singular/plural rule; both forms
    # are accepted for ScheduleV2 rather than rejecting a template AWS might take.
    return RateSchedule(expression, timedelta(seconds=value * _UNIT_SECONDS[singular]), anchor)


# --------------------------------------------------------------------------------------------------
# cron(Minutes Hours Day-of-month Month Day-of-week Year)
# --------------------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

MIN_YEAR, MAX_YEAR = 1970, 2199


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    max_step: int  # Quartz's limit on the increment after "/" (AWS rejects cron(*/60 ...))
    names: dict[str, int]


_MINUTES = _Field("Minutes", 0, 59, 59, {})
_HOURS = _Field("Hours", 0, 23, 23, {})
_DAY_OF_MONTH = _Field("Day-of-month", 1, 31, 31, {})
_MONTH = _Field("Month", 1, 12, 12, _MONTHS)
_DAY_OF_WEEK = _Field("Day-of-week", 1, 7, 7, _WEEKDAYS)
_YEAR = _Field("Year", MIN_YEAR, MAX_YEAR, MAX_YEAR - MIN_YEAR, {})


def _aws_weekday(day: date) -> int:
    """AWS numbering: 1 = SUN ... 7 = SAT (Python's weekday() is 0 = MON ... 6 = SUN)."""
    return (day.weekday() + 1) % 7 + 1


def _value(expression: str, field: _Field, text: str) -> int:
    if text in field.names:
        return field.names[text]
    if not text.isdigit():
        raise ScheduleError(expression, f"{field.name} field: {text!r} is not a number or a name")
    number = int(text)
    if not field.low <= number <= field.high:
        raise ScheduleError(
            expression, f"{field.name} field: {number} is out of range {field.low}-{field.high}"
        )
    return number


def _values(expression: str, field: _Field, text: str) -> frozenset[int]:
    """``*``, ``a``, ``a-b``, ``a/n``, ``a-b/n``, ``*/n`` and comma lists of them.

    A range whose start exceeds its end wraps around (``FRI-MON``, ``22-2``), as Quartz (the syntax
    AWS follows) does.
    """
    result: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or not 1 <= int(step_text) <= field.max_step:
                raise ScheduleError(
                    expression,
                    f"{field.name} field: increment {step_text!r} must be an integer 1-{field.max_step}",
                )
            step = int(step_text)
        if base == "*":
            start, end = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(expression, field, first), _value(expression, field, last)
        elif base:
            start = _value(expression, field, base)
            end = field.high if slash else start
        else:
            raise ScheduleError(expression, f"{field.name} field: empty item in {text!r}")
        span = (
            range(start, end + 1)
            if start <= end
            else [*range(start, field.high + 1), *range(field.low, end + 1)]
        )
        result.update(list(span)[::step])
    return frozenset(result)


def _nearest_weekday(year: int, month: int, day: int) -> int | None:
    """``nW``: "the weekday closest to the nth day of the month", never leaving the month (Quartz)."""
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return None
    weekday = _aws_weekday(date(year, month, day))
    if weekday == 7:  # Saturday: the Friday before, or Monday the 3rd if the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if weekday == 1:  # Sunday: the Monday after, or the Friday before if the month ends on Sunday
        return day + 1 if day < last else day - 2
    return day


class CronSchedule(Schedule):
    """``cron(Minutes Hours Day-of-month Month Day-of-week Year)``, evaluated in ``timezone``.

    Wildcards as in the EventBridge "Cron expressions reference": ``, - * /`` everywhere; ``?`` in
    exactly one of Day-of-month / Day-of-week ("If you specify a value or a * (asterisk) in one of the
    fields, you must use a ? (question mark) in the other"); ``L`` (last day of the month; in
    Day-of-week, ``nL`` = the last day n of the month, ``L`` alone = Saturday); ``W`` (``15W`` = the
    weekday closest to the 15th, ``LW`` = the last weekday, never crossing into another month);
    ``#`` (``3#2`` = the second Tuesday; 1 = SUN ... 7 = SAT). Names JAN-DEC, SUN-SAT.

    Daylight saving time (EventBridge Scheduler: "When the time shifts forward in Spring, your
    schedule invocation gets skipped if the cron expression falls on a non-existent date and time.
    When the time shifts back in the Fall, your schedule runs only once and doesn't repeat its
    invocation."): a wall time inside the spring-forward gap is skipped; a wall time that occurs twice
    fires at its first occurrence only.
    """

    def __init__(
        self,
        expression: str,
        fields: list[str],
        timezone: str | None = None,
    ) -> None:
        self.expression = expression
        self.timezone_name = timezone or "UTC"
        self.tz: tzinfo = UTC if timezone in (None, "UTC") else _zone(expression, timezone)
        minutes, hours, day_of_month, month, day_of_week, year = fields
        self.minutes = sorted(_values(expression, _MINUTES, minutes))
        self.hours = sorted(_values(expression, _HOURS, hours))
        self.months = sorted(_values(expression, _MONTH, month))
        self.years = sorted(_values(expression, _YEAR, year))
        if (day_of_month == "?") == (day_of_week == "?"):
            raise ScheduleError(
                expression,
                "exactly one of Day-of-month and Day-of-week must be '?' "
                f"(got {day_of_month!r} and {day_of_week!r})",
            )
        self._days: Callable[[int, int], set[int]] = (
            self._day_of_week_rule(day_of_week)
            if day_of_month == "?"
            else self._day_of_month_rule(day_of_month)
        )

    def _day_of_month_rule(self, text: str) -> Callable[[int, int], set[int]]:
        if text == "L":
            return lambda y, m: {calendar.monthrange(y, m)[1]}
        if text == "LW":
            return lambda y, m: {_last_weekday(y, m)}
        if text.endswith("W"):
            day = _value(self.expression, _DAY_OF_MONTH, text[:-1])
            return lambda y, m: {d} if (d := _nearest_weekday(y, m, day)) is not None else set()
        if "L" in text or "W" in text:
            raise ScheduleError(
                self.expression, f"Day-of-month field: {text!r} (L, LW and nW must stand alone)"
            )
        days = _values(self.expression, _DAY_OF_MONTH, text)
        return lambda y, m: {d for d in days if d <= calendar.monthrange(y, m)[1]}

    def _day_of_week_rule(self, text: str) -> Callable[[int, int], set[int]]:
        if "#" in text:
            weekday_text, _, nth_text = text.partition("#")
            if "," in text or not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
                raise ScheduleError(
                    self.expression,
                    f"Day-of-week field: {text!r}; '#' takes one day and an occurrence 1-5, "
                    "and no list (3#1,6#3 is invalid)",
                )
            weekday, nth = _value(self.expression, _DAY_OF_WEEK, weekday_text), int(nth_text)
            return lambda y, m: {d} if (d := _nth_weekday(y, m, weekday, nth)) is not None else set()
        if text == "L":
            text = "7"  # "L" alone in Day-of-week is the last day of the week: Saturday
        elif text.endswith("L"):
            weekday = _value(self.expression, _DAY_OF_WEEK, text[:-1])
            return lambda y, m: {_last_weekday_of(y, m, weekday)}
        if "L" in text:  # no day name contains an L
            raise ScheduleError(self.expression, f"Day-of-week field: {text!r} (nL must stand alone)")
        weekdays = _values(self.expression, _DAY_OF_WEEK, text)

        def days(y: int, m: int) -> set[int]:
            first = _aws_weekday(date(y, m, 1))
            last = calendar.monthrange(y, m)[1]
            return {d for d in range(1, last + 1) if (first + d - 2) % 7 + 1 in weekdays}

        return days

    def _to_utc(self, wall: datetime) -> datetime | None:
        """The UTC instant of a local wall time (first occurrence if repeated); None if it never occurs."""
        if self.tz is UTC:
            return wall.replace(tzinfo=UTC)
        instant = wall.replace(tzinfo=self.tz, fold=0).astimezone(UTC)
        if instant.astimezone(self.tz).replace(tzinfo=None) != wall:
            return None  # inside the spring-forward gap
        return instant

    def next_after(self, moment: datetime) -> datetime | None:
        moment = as_utc(moment)
        # Wall times are generated in increasing order; with first occurrences only, their UTC
        # instants increase too, so the first candidate after `moment` is the answer.
        start = moment.astimezone(self.tz).replace(tzinfo=None, second=0, microsecond=0)
        for year in self.years:
            if year < start.year:
                continue
            for month in self.months:
                if (year, month) < (start.year, start.month):
                    continue
                for day in sorted(self._days(year, month)):
                    if (year, month, day) < (start.year, start.month, start.day):
                        continue
                    for hour in self.hours:
                        for minute in self.minutes:
                            wall = datetime(year, month, day, hour, minute)
                            if wall < start:
                                continue
                            instant = self._to_utc(wall)
                            if instant is not None and instant > moment:
                                return instant
        return None

    def __repr__(self) -> str:
        return f"CronSchedule({self.expression!r}, timezone={self.timezone_name!r})"


def _last_weekday(year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    weekday = _aws_weekday(date(year, month, last))
    return last - {7: 1, 1: 2}.get(weekday, 0)


def _last_weekday_of(year: int, month: int, weekday: int) -> int:
    last = calendar.monthrange(year, month)[1]
    return last - (_aws_weekday(date(year, month, last)) - weekday) % 7


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> int | None:
    first = 1 + (weekday - _aws_weekday(date(year, month, 1))) % 7
    day = first + 7 * (nth - 1)
    return day if day <= calendar.monthrange(year, month)[1] else None


def _zone(expression: str, name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(expression, f"unknown ScheduleExpressionTimezone {name!r}") from error


# --------------------------------------------------------------------------------------------------
# at(yyyy-mm-ddThh:mm:ss)
# --------------------------------------------------------------------------------------------------


class AtSchedule(Schedule):
    """``at(yyyy-mm-ddThh:mm:ss)``: an EventBridge Scheduler one-time schedule, in ``timezone``."""

    def __init__(self, expression: str, when: datetime) -> None:
        self.expression = expression
        self.when = as_utc(when)

    def next_after(self, moment: datetime) -> datetime | None:
        return self.when if self.when > as_utc(moment) else None

    def __repr__(self) -> str:
        return f"AtSchedule({self.expression!r}, when={self.when.isoformat()})"


def _parse_at(expression: str, body: str, timezone: str | None) -> AtSchedule:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", body) is None:
        raise ScheduleError(expression, "a one-time schedule is 'at(yyyy-mm-ddThh:mm:ss)'")
    try:
        wall = datetime.fromisoformat(body)
    except ValueError as error:
        raise ScheduleError(expression, f"not a valid date and time: {error}") from error
    tz = UTC if timezone in (None, "UTC") else _zone(expression, timezone)
    return AtSchedule(expression, wall.replace(tzinfo=tz))


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------


def parse_schedule(
    expression: str,
    *,
    kind: ScheduleKind = "Schedule",
    timezone: str | None = None,
    anchor: datetime | None = None,
) -> Schedule:
    """Parse a ScheduleExpression as ``kind`` would accept it.

    ``kind="Schedule"`` (an EventBridge rule) takes ``rate()`` and ``cron()``; ``"ScheduleV2"``
    (EventBridge Scheduler) also takes ``at()``. ``timezone`` (ScheduleExpressionTimezone, an IANA
    name) applies to ``cron()`` and ``at()``; ``anchor`` to ``rate()``. Raises :class:`ScheduleError`.
    """
    match = re.fullmatch(r"\s*(\w+)\((.*)\)\s*", expression, flags=re.DOTALL)
    if match is None:
        raise ScheduleError(expression, "expected rate(...), cron(...) or at(...)")
    function, body = match.group(1).lower(), match.group(2)
    if function == "rate":
        return _parse_rate(expression, body, kind, anchor)
    if function == "cron":
        fields = body.upper().split()
        if len(fields) != 6:
            raise ScheduleError(
                expression,
                f"a cron expression has 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), "
                f"got {len(fields)}",
            )
        if "?" in fields[:2] + fields[3:4] + fields[5:]:
            raise ScheduleError(expression, "'?' is allowed only in Day-of-month or Day-of-week")
        return CronSchedule(expression, fields, timezone)
    if function == "at":
        if kind != "ScheduleV2":
            raise ScheduleError(expression, "at() one-time schedules exist only in EventBridge Scheduler")
        return _parse_at(expression, body.strip(), timezone)
    raise ScheduleError(expression, f"unknown schedule type {function!r}; expected rate, cron or at")


def schedule_for(spec: ScheduleEventSpec, *, anchor: datetime | None = None) -> Schedule:
    """The :class:`Schedule` of a template's ``Schedule`` / ``ScheduleV2`` event."""
    return parse_schedule(spec.expression, kind=spec.kind, timezone=spec.timezone, anchor=anchor)


# --------------------------------------------------------------------------------------------------
# The event a function receives
# --------------------------------------------------------------------------------------------------


def _parse_input(spec: ScheduleEventSpec) -> Any:
    assert spec.input is not None
    try:
        return json.loads(spec.input)
    except json.JSONDecodeError as error:
        raise ScheduleError(
            spec.expression, f"Input of event {spec.name!r} is not valid JSON: {error}"
        ) from error


def scheduled_event(
    spec: ScheduleEventSpec,
    fired_at: datetime,
    *,
    region: str,
    account_id: str,
    schedule_group: str = "default",
) -> dict[str, Any]:
    """The payload a Lambda function receives when ``spec`` fires at ``fired_at``.

    - ``Schedule`` (EventBridge rule) with ``Input``: the Input JSON, verbatim ("Valid JSON text passed
      to the target. In this case, nothing from the event itself is passed to the target").
    - ``Schedule`` without Input: the ``Scheduled Event`` document, ``source`` ``aws.events``,
      ``resources`` = the rule's ARN, ``detail`` ``{}``.
    - ``ScheduleV2`` (EventBridge Scheduler) with ``Input``: the Input JSON, verbatim (a Lambda target
      requires well-formed JSON).
    - ``ScheduleV2`` without Input: Scheduler "delivers a default notification to the target". As
      observed in AWS it is the same envelope with ``source`` ``aws.scheduler``, ``resources`` = the
      schedule's ARN (``schedule/<group>/<name>``) and ``detail`` the *string* ``"{}"`` (not an
      object: a known difference from rules that handlers trip over).
    """
    if spec.input is not None:
        payload: dict[str, Any] = _parse_input(spec)
        return payload
    name = spec.rule_name or spec.name
    scheduler = spec.kind == "ScheduleV2"
    resource = (
        f"arn:aws:scheduler:{region}:{account_id}:schedule/{schedule_group}/{name}"
        if scheduler
        else f"arn:aws:events:{region}:{account_id}:rule/{name}"
    )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler" if scheduler else "aws.events",
        "account": account_id,
        "time": as_utc(fired_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [resource],
        "detail": "{}" if scheduler else {},
    }


# --------------------------------------------------------------------------------------------------
# The runner
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    """One schedule's counters, for ``localcloud status``."""

    function_id: str
    event_name: str
    expression: str
    enabled: bool
    fired: int  # firings handed to the invoke callback
    completed: int  # invocations that returned or raised
    failed: int  # invocations that raised
    last_fired_at: datetime | None
    next_fire_at: datetime | None


class _Entry:
    def __init__(self, function_id: str, spec: ScheduleEventSpec, schedule: Schedule) -> None:
        self.function_id = function_id
        self.spec = spec
        self.schedule = schedule
        self.next_fire_at: datetime | None = None
        self.last_fired_at: datetime | None = None
        self.fired = 0
        self.completed = 0
        self.failed = 0


class Scheduler:
    """Fires a template's schedules on one background thread.

    - ``fire_at_start`` (local convenience, default on): each enabled ``rate()`` schedule fires once
      when :meth:`start` is called, then every interval after that (which is what Scheduler does for a
      rate schedule without StartDate; an EventBridge rule would wait one interval first). ``cron()``
      and ``at()`` schedules wait for their next match. Disabled schedules never fire.
    - Each firing calls ``invoke(function_id, event)`` on a worker thread, so a slow function delays
      no other schedule. Firings are never dropped: if the runner falls behind (a suspended laptop, a
      ManualClock jumped forward), every missed firing is delivered late, in order, with its own
      scheduled time; if all workers are busy, firings queue. A callback that raises is logged and
      counted; the schedule carries on.
    - :meth:`stop` is prompt: it wakes the runner, joins it, and cancels firings still queued.
      Invocations already running finish on their worker threads.

    Use :class:`~localcloud.clock.ManualClock` with ``auto_advance=False`` in tests: the runner then
    moves only when the test advances the clock.
    """

    _MAX_SLEEP_S = 60.0  # re-read now() at least this often (clock's seconds), in case it jumps

    def __init__(
        self,
        schedules: Iterable[tuple[str, ScheduleEventSpec]],
        invoke: InvokeCallback,
        *,
        region: str,
        account_id: str,
        clock: Clock | None = None,
        fire_at_start: bool = True,
        max_workers: int = 16,
    ) -> None:
        self._invoke = invoke
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._region = region
        self._account_id = account_id
        self._fire_at_start = fire_at_start
        self._entries: list[_Entry] = []
        for function_id, spec in schedules:
            try:
                schedule = schedule_for(spec)
                if spec.input is not None:
                    _parse_input(spec)
            except ScheduleError as error:
                raise ScheduleError(
                    spec.expression, f"{function_id}.Events.{spec.name}: {error.problem}"
                ) from None
            self._entries.append(_Entry(function_id, spec, schedule))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="localcloud-schedule")

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Anchor the rate schedules at the clock's current time and start the runner thread."""
        if self._thread is not None or self._stop.is_set():
            raise RuntimeError("a Scheduler can be started once")
        started_at = self._clock.now()
        with self._lock:
            for entry in self._entries:
                if not entry.spec.enabled:
                    continue
                if isinstance(entry.schedule, RateSchedule):
                    entry.schedule = entry.schedule.with_anchor(started_at)
                    entry.next_fire_at = (
                        started_at if self._fire_at_start else entry.schedule.next_after(started_at)
                    )
                else:
                    entry.next_fire_at = entry.schedule.next_after(started_at)
                    if entry.next_fire_at is None:
                        logger.info(
                            "%s.%s: %s never fires after %s",
                            entry.function_id,
                            entry.spec.name,
                            entry.spec.expression,
                            started_at.isoformat(),
                        )
        self._thread = threading.Thread(target=self._run, name="localcloud-scheduler", daemon=True)
        self._thread.start()
        logger.info("scheduler started with %d schedule(s)", len(self._entries))

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop firing; join the runner thread. Safe to call more than once, or before start()."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("scheduler thread did not stop within %s s", timeout)
        self._workers.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Scheduler:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the runner thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # -- status -------------------------------------------------------------------------------------

    def status(self) -> list[ScheduleStatus]:
        with self._lock:
            return [
                ScheduleStatus(
                    function_id=entry.function_id,
                    event_name=entry.spec.name,
                    expression=entry.spec.expression,
                    enabled=entry.spec.enabled,
                    fired=entry.fired,
                    completed=entry.completed,
                    failed=entry.failed,
                    last_fired_at=entry.last_fired_at,
                    next_fire_at=entry.next_fire_at,
                )
                for entry in self._entries
            ]

    # -- the runner ---------------------------------------------------------------------------------

    def run_due(self, now: datetime) -> int:
        """Dispatch every firing due at or before ``now``; return how many. Called by the runner."""
        now = as_utc(now)
        dispatched = 0
        with self._lock:
            for entry in self._entries:
                late = 0
                while entry.next_fire_at is not None and entry.next_fire_at <= now:
                    if self._stop.is_set():
                        return dispatched
                    fire_at = entry.next_fire_at
                    self._dispatch(entry, fire_at)
                    dispatched += 1
                    late += 1
                    entry.next_fire_at = entry.schedule.next_after(fire_at)
                if late > 1:
                    logger.warning(
                        "%s.%s fell behind: delivered %d late firings",
                        entry.function_id,
                        entry.spec.name,
                        late,
                    )
        return dispatched

    def _dispatch(self, entry: _Entry, fire_at: datetime) -> None:
        event = scheduled_event(entry.spec, fire_at, region=self._region, account_id=self._account_id)
        entry.fired += 1
        entry.last_fired_at = fire_at
        logger.info(
            "firing %s.%s (%s) for %s",
            entry.function_id,
            entry.spec.name,
            entry.spec.expression,
            fire_at.isoformat(),
        )
        try:
            self._workers.submit(self._invoke_one, entry, event)
        except RuntimeError:  # the pool was shut down by stop() meanwhile
            entry.fired -= 1

    def _invoke_one(self, entry: _Entry, event: dict[str, Any]) -> None:
        failed = False
        try:
            self._invoke(entry.function_id, event)
        except Exception:
            failed = True
            logger.exception("scheduled invocation of %s.%s failed", entry.function_id, entry.spec.name)
        with self._lock:
            entry.completed += 1
            entry.failed += int(failed)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                now = self._clock.now()
                self.run_due(now)
                with self._lock:
                    upcoming = [e.next_fire_at for e in self._entries if e.next_fire_at is not None]
                wait = (min(upcoming) - now).total_seconds() if upcoming else self._MAX_SLEEP_S
                self._clock.sleep(min(max(wait, 0.0), self._MAX_SLEEP_S), self._stop)
        except Exception:
            logger.exception("scheduler thread crashed")
            raise
