"""EventBridge schedule expressions, the scheduled event payloads, and the Scheduler runner."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud.clock import AcceleratedClock, Clock, ManualClock, SystemClock
from localcloud.model import ScheduleEventSpec
from localcloud.schedule import (
    AtSchedule,
    CronSchedule,
    RateSchedule,
    ScheduleError,
    ScheduleKind,
    Scheduler,
    parse_schedule,
    scheduled_event,
)

T0 = datetime(2024, 3, 1, 9, 15, tzinfo=UTC)  # a Friday
REGION, ACCOUNT = "ap-south-1", "123456789012"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def firings(expression: str, after: datetime, count: int, **kwargs: Any) -> list[datetime]:
    schedule = parse_schedule(expression, **kwargs)
    result: list[datetime] = []
    moment: datetime | None = after
    for _ in range(count):
        assert moment is not None
        moment = schedule.next_after(moment)
        if moment is None:
            break
        result.append(moment)
    return result


# ---------------------------------------------------------------------------------------------- rate


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("rate(7 days)", 7 * 86400),
    ],
)
def test_rate_valid_expressions(expression: str, seconds: int) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, RateSchedule)
    assert schedule.interval == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("rate(1 minutes)", "singular"),
        ("rate(1 hours)", "singular"),
        ("rate(5 minute)", "plural"),
        ("rate(5 day)", "plural"),
        ("rate(0 minutes)", "positive integer"),
        ("rate(-5 minutes)", "positive integer"),
        ("rate(1.5 hours)", "positive integer"),
        ("rate(2 weeks)", "minute(s), hour(s) or day(s)"),
        ("rate(5)", "rate(value unit)"),
    ],
)
def test_rate_invalid_expressions_name_the_problem(expression: str, problem: str) -> None:
    with pytest.raises(ScheduleError, match=r"invalid schedule expression") as caught:
        parse_schedule(expression)
    assert caught.value.expression == expression
    assert problem in caught.value.problem


def test_rate_scheduler_v2_accepts_either_unit_form() -> None:
    # EventBridge Scheduler documents plural units only and no singular/plural rule
    assert parse_schedule("rate(1 minutes)", kind="ScheduleV2").next_after(T0) == T0 + timedelta(minutes=1)
    assert parse_schedule("rate(1 minute)", kind="ScheduleV2").next_after(T0) == T0 + timedelta(minutes=1)


def test_rate_fires_every_interval_from_its_anchor() -> None:
    schedule = parse_schedule("rate(5 minutes)", anchor=T0)
    assert schedule.next_after(T0 - timedelta(seconds=1)) == T0
    assert schedule.next_after(T0) == T0 + timedelta(minutes=5)
    assert schedule.next_after(T0 + timedelta(minutes=7)) == T0 + timedelta(minutes=10)
    assert schedule.next_after(T0 + timedelta(minutes=10)) == T0 + timedelta(minutes=15)


def test_rate_without_anchor_is_one_interval_after() -> None:
    assert parse_schedule("rate(1 hour)").next_after(T0) == T0 + timedelta(hours=1)


def test_next_after_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        parse_schedule("rate(1 hour)").next_after(datetime(2024, 3, 1))


# ---------------------------------------------------------------------------------------------- cron


def test_cron_every_five_minutes() -> None:
    after = utc(2024, 3, 1, 9, 12, 30)
    assert firings("cron(0/5 * * * ? *)", after, 3) == [
        utc(2024, 3, 1, 9, 15),
        utc(2024, 3, 1, 9, 20),
        utc(2024, 3, 1, 9, 25),
    ]
    assert firings("cron(*/5 * * * ? *)", after, 3) == firings("cron(0/5 * * * ? *)", after, 3)


def test_cron_next_after_is_strictly_after() -> None:
    assert firings("cron(15 9 * * ? *)", T0, 1) == [utc(2024, 3, 2, 9, 15)]


def test_cron_weekdays_at_0915() -> None:
    # Friday 1 March 2024 after 09:15: next is Monday the 4th
    assert firings("cron(15 9 ? * MON-FRI *)", T0, 3) == [
        utc(2024, 3, 4, 9, 15),
        utc(2024, 3, 5, 9, 15),
        utc(2024, 3, 6, 9, 15),
    ]
    assert firings("cron(15 9 ? * 2-6 *)", T0, 5) == firings("cron(15 9 ? * MON-FRI *)", T0, 5)


@pytest.mark.parametrize(("year", "last_day"), [(2023, 28), (2024, 29), (2100, 28), (2000, 29)])
def test_cron_last_day_of_february(year: int, last_day: int) -> None:
    assert firings("cron(0 0 L * ? *)", utc(year, 2, 1), 2) == [utc(year, 2, last_day), utc(year, 3, 31)]


def test_cron_last_friday_6l() -> None:
    assert firings("cron(0 12 ? * 6L *)", utc(2024, 2, 1), 3) == [
        utc(2024, 2, 23, 12),
        utc(2024, 3, 29, 12),
        utc(2024, 4, 26, 12),
    ]


def test_cron_first_monday_2_hash_1() -> None:
    assert firings("cron(0 12 ? * 2#1 *)", utc(2024, 2, 1), 3) == [
        utc(2024, 2, 5, 12),
        utc(2024, 3, 4, 12),
        utc(2024, 4, 1, 12),
    ]


def test_cron_second_tuesday_and_missing_fifth_occurrence() -> None:
    assert firings("cron(0 12 ? * 3#2 *)", utc(2024, 3, 1), 1) == [utc(2024, 3, 12, 12)]
    # Months without a fifth Monday are skipped (February and March 2024 have four)
    assert firings("cron(0 12 ? * MON#5 *)", utc(2024, 2, 1), 1) == [utc(2024, 4, 29, 12)]


@pytest.mark.parametrize(
    ("expression", "month_start", "fires_on"),
    [
        ("cron(0 12 15W * ? *)", utc(2024, 6, 1), utc(2024, 6, 14, 12)),  # 15th Saturday -> Friday 14th
        ("cron(0 12 15W * ? *)", utc(2024, 9, 1), utc(2024, 9, 16, 12)),  # 15th Sunday -> Monday 16th
        ("cron(0 12 15W * ? *)", utc(2024, 3, 1), utc(2024, 3, 15, 12)),  # 15th Friday -> itself
        ("cron(0 12 1W * ? *)", utc(2024, 6, 1), utc(2024, 6, 3, 12)),  # 1st Saturday -> Monday 3rd
        ("cron(0 12 30W * ? *)", utc(2024, 6, 1), utc(2024, 6, 28, 12)),  # 30th = last day, Sunday -> Fri
        ("cron(0 12 LW * ? *)", utc(2024, 8, 1), utc(2024, 8, 30, 12)),  # 31st Saturday -> Friday 30th
    ],
)
def test_cron_nearest_weekday_never_crosses_the_month(
    expression: str, month_start: datetime, fires_on: datetime
) -> None:
    assert firings(expression, month_start, 1) == [fires_on]


def test_cron_nearest_weekday_to_a_day_the_month_lacks_skips_it() -> None:
    assert firings("cron(0 0 31W * ? *)", utc(2024, 4, 1), 1) == [utc(2024, 5, 31)]


def test_cron_year_field_limits_and_exhausts() -> None:
    assert firings("cron(0 0 1 1 ? 2030)", T0, 2) == [utc(2030, 1, 1)]
    assert firings("cron(0 0 1 1 ? 2026-2027)", T0, 3) == [utc(2026, 1, 1), utc(2027, 1, 1)]


def test_cron_names_are_case_insensitive_and_match_numbers() -> None:
    by_name = firings("cron(0 8 ? jan,Jul MON *)", T0, 6)
    assert by_name == firings("cron(0 8 ? 1,7 2 *)", T0, 6)
    assert {(d.month, d.weekday()) for d in by_name} <= {(1, 0), (7, 0)}


def test_cron_wrapping_range_and_l_alone_in_day_of_week() -> None:
    # FRI-MON wraps around the week; L alone in Day-of-week is Saturday
    assert [d.day for d in firings("cron(0 0 ? * FRI-MON *)", utc(2024, 3, 1), 4)] == [2, 3, 4, 8]
    assert firings("cron(0 0 ? * L *)", utc(2024, 3, 1), 1) == [utc(2024, 3, 2)]


def test_cron_day_of_month_list_skips_days_a_month_lacks() -> None:
    assert firings("cron(0 0 30,31 * ? *)", utc(2024, 2, 1), 2) == [utc(2024, 3, 30), utc(2024, 3, 31)]


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("cron(0 10 * * MON *)", "exactly one of Day-of-month and Day-of-week must be '?'"),
        ("cron(0 10 ? * ? *)", "exactly one of Day-of-month and Day-of-week must be '?'"),
        ("cron(0 10 * * ?)", "6 fields"),
        ("cron(0 10 * * ? * *)", "6 fields"),
        ("cron(60 * * * ? *)", "Minutes field: 60 is out of range 0-59"),
        ("cron(0 24 * * ? *)", "Hours field: 24 is out of range 0-23"),
        ("cron(0 0 32 * ? *)", "Day-of-month field: 32 is out of range 1-31"),
        ("cron(0 0 1 13 ? *)", "Month field: 13 is out of range 1-12"),
        ("cron(0 0 ? * 8 *)", "Day-of-week field: 8 is out of range 1-7"),
        ("cron(0 0 1 1 ? 2200)", "Year field: 2200 is out of range 1970-2199"),
        ("cron(*/60 * * * ? *)", "Minutes field: increment '60'"),
        ("cron(0 0 ? * FUN *)", "Day-of-week field: 'FUN' is not a number or a name"),
        ("cron(? 0 * * ? *)", "'?' is allowed only in Day-of-month or Day-of-week"),
        ("cron(0 0 ? * 3#1,6#3 *)", "'#' takes one day"),
        ("cron(0 0 ? * 2#6 *)", "'#' takes one day and an occurrence 1-5"),
        ("cron(0 0 1,L * ? *)", "L, LW and nW must stand alone"),
        ("cron(0 0 1,,2 * ? *)", "empty item"),
        ("every(5 minutes)", "unknown schedule type 'every'"),
        ("5 minutes", "expected rate(...), cron(...) or at(...)"),
    ],
)
def test_cron_invalid_expressions_name_the_problem(expression: str, problem: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(expression)
    assert caught.value.expression == expression
    assert problem in str(caught.value)
    assert repr(expression) in str(caught.value)


# ----------------------------------------------------------------------------------------- timezones


def test_cron_in_a_timezone_fires_at_local_wall_time() -> None:
    schedule = parse_schedule("cron(0 9 ? * MON-FRI *)", kind="ScheduleV2", timezone="Asia/Kolkata")
    assert isinstance(schedule, CronSchedule)
    assert schedule.next_after(T0) == utc(2024, 3, 4, 3, 30)  # 09:00 IST = 03:30 UTC


def test_cron_skips_a_wall_time_in_the_spring_forward_gap() -> None:
    # 10 March 2024, New York: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens that day
    assert firings("cron(30 2 * * ? *)", utc(2024, 3, 9), 3, timezone="America/New_York") == [
        utc(2024, 3, 9, 7, 30),  # 02:30 EST
        utc(2024, 3, 11, 6, 30),  # 02:30 EDT
        utc(2024, 3, 12, 6, 30),
    ]


def test_cron_fires_a_repeated_wall_time_once_at_its_first_occurrence() -> None:
    # 3 November 2024, New York: 01:00-01:59 happens twice (EDT, then EST)
    assert firings("cron(*/30 1 * * ? *)", utc(2024, 11, 3), 3, timezone="America/New_York") == [
        utc(2024, 11, 3, 5, 0),  # 01:00 EDT
        utc(2024, 11, 3, 5, 30),  # 01:30 EDT; the EST repeat (06:00, 06:30 UTC) does not fire
        utc(2024, 11, 4, 6, 0),  # 01:00 EST the next day
    ]


def test_unknown_timezone_is_a_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="unknown ScheduleExpressionTimezone 'Mars/Olympus'"):
        parse_schedule("cron(0 9 * * ? *)", kind="ScheduleV2", timezone="Mars/Olympus")


def test_at_is_a_one_time_scheduler_v2_schedule_in_its_timezone() -> None:
    schedule = parse_schedule("at(2024-03-04T09:00:00)", kind="ScheduleV2", timezone="Asia/Kolkata")
    assert isinstance(schedule, AtSchedule)
    assert schedule.next_after(T0) == utc(2024, 3, 4, 3, 30)
    assert schedule.next_after(utc(2024, 3, 4, 3, 30)) is None


def test_at_is_rejected_for_eventbridge_rules_and_when_malformed() -> None:
    with pytest.raises(ScheduleError, match="only in EventBridge Scheduler"):
        parse_schedule("at(2024-03-04T09:00:00)")
    with pytest.raises(ScheduleError, match="yyyy-mm-ddThh:mm:ss"):
        parse_schedule("at(2024-03-04 09:00)", kind="ScheduleV2")
    with pytest.raises(ScheduleError, match="not a valid date"):
        parse_schedule("at(2024-02-30T09:00:00)", kind="ScheduleV2")


# ---------------------------------------------------------------------------------- scheduled_event


def test_scheduled_event_for_a_rule_without_input_is_the_scheduled_event_document() -> None:
    spec = ScheduleEventSpec(
        name="EveryMinute", kind="Schedule", expression="rate(1 minute)", rule_name="r-1"
    )
    event = scheduled_event(spec, T0 + timedelta(microseconds=123), region=REGION, account_id=ACCOUNT)
    uuid.UUID(event.pop("id"))
    assert event == {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2024-03-01T09:15:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r-1"],
        "detail": {},
    }


def test_scheduled_event_ids_are_unique_and_rule_name_defaults_to_event_name() -> None:
    spec = ScheduleEventSpec(name="Nightly", kind="Schedule", expression="cron(0 0 * * ? *)")
    first = scheduled_event(spec, T0, region=REGION, account_id=ACCOUNT)
    second = scheduled_event(spec, T0, region=REGION, account_id=ACCOUNT)
    assert first["id"] != second["id"]
    assert first["resources"] == [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/Nightly"]


@pytest.mark.parametrize("kind", ["Schedule", "ScheduleV2"])
def test_scheduled_event_with_input_is_the_input_verbatim(kind: ScheduleKind) -> None:
    spec = ScheduleEventSpec(
        name="Eod", kind=kind, expression="cron(30 10 ? * MON-FRI *)", input='{"mode": "eod", "n": [1, 2]}'
    )
    assert scheduled_event(spec, T0, region=REGION, account_id=ACCOUNT) == {"mode": "eod", "n": [1, 2]}


def test_scheduled_event_for_scheduler_v2_without_input_is_the_default_notification() -> None:
    spec = ScheduleEventSpec(name="Tick", kind="ScheduleV2", expression="rate(5 minutes)", rule_name="s-1")
    event = scheduled_event(spec, T0, region=REGION, account_id=ACCOUNT)
    assert event["source"] == "aws.scheduler"
    assert event["detail-type"] == "Scheduled Event"
    assert event["detail"] == "{}"  # a string, as Scheduler sends it
    assert event["resources"] == [f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/s-1"]
    assert event["time"] == "2024-03-01T09:15:00Z"


def test_scheduled_event_with_invalid_input_json_is_a_schedule_error() -> None:
    spec = ScheduleEventSpec(name="Bad", kind="Schedule", expression="rate(1 hour)", input="{mode: eod}")
    with pytest.raises(ScheduleError, match="Input of event 'Bad' is not valid JSON"):
        scheduled_event(spec, T0, region=REGION, account_id=ACCOUNT)


# ------------------------------------------------------------------------------------------ Scheduler


class Recorder:
    """An invoke callback that records calls and lets a test wait for them."""

    def __init__(self, behaviour: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._changed = threading.Condition()
        self._behaviour = behaviour

    def __call__(self, function_id: str, event: dict[str, Any]) -> None:
        with self._changed:
            self.calls.append((function_id, event))
            self._changed.notify_all()
        if self._behaviour is not None:
            self._behaviour(function_id, event)

    def wait_for(self, count: int, timeout: float = 2.0) -> list[tuple[str, dict[str, Any]]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.calls) >= count, timeout), self.calls
            return list(self.calls)

    def times(self, function_id: str | None = None) -> list[str]:
        with self._changed:
            return [e["time"] for f, e in self.calls if function_id in (None, f)]


def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def step(clock: ManualClock, seconds: float) -> None:
    """Advance the clock once the runner is asleep on it (else it would sleep from the new time)."""
    assert clock.wait_for_sleepers(1)
    clock.advance(seconds)


def rate(name: str, expression: str = "rate(1 minute)", **kwargs: Any) -> ScheduleEventSpec:
    return ScheduleEventSpec(name=name, kind="Schedule", expression=expression, rule_name=name, **kwargs)


@pytest.fixture
def make_scheduler() -> Iterator[Callable[..., Scheduler]]:
    made: list[Scheduler] = []

    def make(
        schedules: list[tuple[str, ScheduleEventSpec]], invoke: Recorder, clock: Clock, **kwargs: Any
    ) -> Scheduler:
        scheduler = Scheduler(schedules, invoke, region=REGION, account_id=ACCOUNT, clock=clock, **kwargs)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.stop()


def test_scheduler_fires_rate_at_start_then_every_interval(make_scheduler: Callable[..., Scheduler]) -> None:
    # GIVEN a rate(1 minute) schedule on a manual clock that only the test moves
    clock, invoke = ManualClock(T0, auto_advance=False), Recorder()
    scheduler = make_scheduler([("Snapshot", rate("EveryMinute"))], invoke, clock)
    # WHEN it starts THEN it fires at once
    scheduler.start()
    invoke.wait_for(1)
    # WHEN half an interval passes THEN nothing more fires
    step(clock, 30)
    time.sleep(0.02)
    assert len(invoke.calls) == 1
    # WHEN each further interval passes THEN it fires once more, stamped with its scheduled time
    step(clock, 30)
    invoke.wait_for(2)
    step(clock, 60)
    invoke.wait_for(3)
    assert invoke.times() == ["2024-03-01T09:15:00Z", "2024-03-01T09:16:00Z", "2024-03-01T09:17:00Z"]
    assert invoke.calls[0][0] == "Snapshot"
    assert invoke.calls[0][1]["resources"] == [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/EveryMinute"]
    (status,) = scheduler.status()
    assert (status.fired, status.next_fire_at) == (3, T0 + timedelta(minutes=3))


def test_scheduler_without_fire_at_start_waits_one_interval(make_scheduler: Callable[..., Scheduler]) -> None:
    clock, invoke = ManualClock(T0, auto_advance=False), Recorder()
    scheduler = make_scheduler(
        [("Snapshot", rate("Every5", "rate(5 minutes)"))], invoke, clock, fire_at_start=False
    )
    scheduler.start()
    assert scheduler.status()[0].next_fire_at == T0 + timedelta(minutes=5)
    step(clock, 300)
    invoke.wait_for(1)
    assert invoke.times() == ["2024-03-01T09:20:00Z"]


def test_scheduler_cron_waits_for_its_next_match(make_scheduler: Callable[..., Scheduler]) -> None:
    clock, invoke = ManualClock(T0 - timedelta(minutes=2, seconds=30), auto_advance=False), Recorder()
    cron = ScheduleEventSpec(name="Five", kind="Schedule", expression="cron(0/5 * * * ? *)")
    scheduler = make_scheduler([("Snapshot", cron)], invoke, clock)
    scheduler.start()
    assert scheduler.status()[0].next_fire_at == T0
    time.sleep(0.02)
    assert invoke.calls == []
    step(clock, 150)
    invoke.wait_for(1)
    assert invoke.times() == ["2024-03-01T09:15:00Z"]


def test_scheduler_disabled_schedule_never_fires(make_scheduler: Callable[..., Scheduler]) -> None:
    clock, invoke = ManualClock(T0, auto_advance=False), Recorder()
    schedules = [("On", rate("On")), ("Off", rate("Off", enabled=False))]
    scheduler = make_scheduler(schedules, invoke, clock)
    scheduler.start()
    for _ in range(3):
        step(clock, 60)
    invoke.wait_for(4)
    on, off = scheduler.status()
    assert {f for f, _ in invoke.calls} == {"On"}
    assert (off.enabled, off.fired, off.next_fire_at) == (False, 0, None)
    assert on.fired == 4


def test_scheduler_delivers_every_missed_firing_late_in_order(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    clock, invoke = ManualClock(T0, auto_advance=False), Recorder()
    scheduler = make_scheduler([("Snapshot", rate("EveryMinute"))], invoke, clock)
    scheduler.start()
    invoke.wait_for(1)
    step(clock, 5 * 60)  # the runner wakes once, five firings late
    invoke.wait_for(6)
    assert sorted(invoke.times()) == [f"2024-03-01T09:{m}:00Z" for m in range(15, 21)]


def test_scheduler_continues_after_the_callback_raises(make_scheduler: Callable[..., Scheduler]) -> None:
    def explode(function_id: str, event: dict[str, Any]) -> None:
        raise RuntimeError("handler failed")

    clock, invoke = ManualClock(T0, auto_advance=False), Recorder(explode)
    scheduler = make_scheduler([("Snapshot", rate("EveryMinute"))], invoke, clock)
    scheduler.start()
    step(clock, 60)
    step(clock, 60)
    invoke.wait_for(3)
    wait_until(lambda: scheduler.status()[0].completed == 3)
    status = scheduler.status()[0]
    assert (status.fired, status.failed) == (3, 3)


def test_scheduler_slow_invocation_does_not_delay_other_schedules(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    release = threading.Event()

    def block_slow(function_id: str, event: dict[str, Any]) -> None:
        if function_id == "Slow":
            release.wait(2.0)

    clock, invoke = ManualClock(T0, auto_advance=False), Recorder(block_slow)
    scheduler = make_scheduler([("Slow", rate("A")), ("Fast", rate("B"))], invoke, clock)
    scheduler.start()
    invoke.wait_for(2)
    step(clock, 60)
    invoke.wait_for(4)  # both fired again although Slow's first invocation is still running
    assert len(invoke.times("Fast")) == 2
    release.set()


def test_scheduler_on_an_accelerated_clock(make_scheduler: Callable[..., Scheduler]) -> None:
    # 6000x: one virtual minute every 10 ms
    clock, invoke = AcceleratedClock(6000.0, start=T0), Recorder()
    scheduler = make_scheduler([("Snapshot", rate("EveryMinute"))], invoke, clock)
    scheduler.start()
    invoke.wait_for(3)
    scheduler.stop()
    fired = [datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ") for t in invoke.times()[:3]]
    assert [b - a for a, b in itertools.pairwise(fired)] == [timedelta(minutes=1)] * 2


@pytest.mark.parametrize(
    "clock", [SystemClock(), ManualClock(T0, auto_advance=False)], ids=["system", "manual"]
)
def test_scheduler_stop_is_prompt_and_idempotent(
    clock: Clock, make_scheduler: Callable[..., Scheduler]
) -> None:
    scheduler = make_scheduler(
        [("Daily", rate("Daily", "rate(1 day)"))], Recorder(), clock, fire_at_start=False
    )
    scheduler.start()
    assert scheduler.running
    time.sleep(0.005)  # let the runner reach its long sleep
    started = time.monotonic()
    scheduler.stop()
    scheduler.stop()
    assert time.monotonic() - started < 0.5
    assert not scheduler.running


def test_scheduler_stop_before_start_is_safe_and_start_twice_is_an_error() -> None:
    scheduler = Scheduler([], Recorder(), region=REGION, account_id=ACCOUNT, clock=ManualClock(T0))
    scheduler.stop()
    assert not scheduler.running
    with pytest.raises(RuntimeError, match="started once"):
        scheduler.start()


def test_scheduler_rejects_an_invalid_schedule_naming_function_and_event() -> None:
    bad = rate("Broken", "rate(5 minute)")
    with pytest.raises(ScheduleError, match=r"Snapshot\.Events\.Broken: .*plural"):
        Scheduler([("Snapshot", bad)], Recorder(), region=REGION, account_id=ACCOUNT)
