"""OHLC bars: boundaries, hand-built bars, and fold/merge equivalence over random tick sequences."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltastream.domain import bars
from deltastream.domain.bars import WINDOWS, Bar, bar_from_tick, bar_start, merge, update

T0 = datetime(2024, 1, 15, 9, 15, tzinfo=UTC)  # on a 1, 5 and 15 minute boundary


# ------------------------------------------------------------------------------------------ bar_start


@pytest.mark.parametrize(
    ("ts", "window", "start"),
    [
        (datetime(2024, 1, 15, 9, 17, 42, 123456, tzinfo=UTC), 1, datetime(2024, 1, 15, 9, 17, tzinfo=UTC)),
        (datetime(2024, 1, 15, 9, 17, 42, tzinfo=UTC), 5, datetime(2024, 1, 15, 9, 15, tzinfo=UTC)),
        (datetime(2024, 1, 15, 9, 29, 59, 999999, tzinfo=UTC), 15, datetime(2024, 1, 15, 9, 15, tzinfo=UTC)),
        (datetime(2024, 1, 15, 9, 30, tzinfo=UTC), 15, datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        (datetime(2024, 1, 15, 0, 4, 59, tzinfo=UTC), 5, datetime(2024, 1, 15, 0, 0, tzinfo=UTC)),
        (datetime(2024, 1, 14, 23, 59, 59, tzinfo=UTC), 15, datetime(2024, 1, 14, 23, 45, tzinfo=UTC)),
    ],
)
def test_bar_start_floors_to_the_window_boundary(ts: datetime, window: int, start: datetime) -> None:
    assert bar_start(ts, window) == start
    assert bar_start(ts, window).tzinfo is UTC


def test_bar_start_converts_other_timezones_to_utc() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    # 14:52:10 IST = 09:22:10 UTC
    start = bar_start(datetime(2024, 1, 15, 14, 52, 10, tzinfo=ist), 15)
    assert start == datetime(2024, 1, 15, 9, 15, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)


def test_bar_start_rejects_naive_datetimes_and_bad_windows() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        bar_start(datetime(2024, 1, 15, 9, 15), 1)
    with pytest.raises(ValueError, match="window_minutes"):
        bar_start(T0, 0)


def test_windows_are_1_5_15() -> None:
    assert WINDOWS == (1, 5, 15)


# -------------------------------------------------------------------------------------------- update


def test_update_builds_ohlc_by_hand() -> None:
    # GIVEN ticks 100, 103, 98, 101 within one 5-minute bar
    ticks = [(100.0, 0), (103.0, 30), (98.0, 95), (101.0, 240)]
    bar = None
    for price, seconds in ticks:
        bar = update(bar, price, T0 + timedelta(seconds=seconds), 5)
    assert bar is not None
    # THEN
    assert (bar.open, bar.high, bar.low, bar.close) == (100.0, 103.0, 98.0, 101.0)
    assert bar.ticks == 4
    assert bar.start == T0
    assert (bar.first_ts, bar.last_ts) == (T0, T0 + timedelta(seconds=240))
    assert bar.end == T0 + timedelta(minutes=5)


def test_update_with_a_tick_in_a_later_window_starts_a_new_bar() -> None:
    first = update(None, 100.0, T0 + timedelta(seconds=10), 1)
    second = update(first, 105.0, T0 + timedelta(minutes=1), 1)
    assert second.start == T0 + timedelta(minutes=1)
    assert (second.open, second.close, second.ticks) == (105.0, 105.0, 1)
    # the caller sees the finished bar unchanged
    assert first.close == 100.0


def test_update_with_an_out_of_order_tick_inside_the_window_moves_the_open() -> None:
    bar = update(None, 100.0, T0 + timedelta(seconds=30), 1)
    bar = update(bar, 95.0, T0 + timedelta(seconds=5), 1)
    assert (bar.open, bar.close, bar.low) == (95.0, 100.0, 95.0)


def test_update_rejects_a_tick_from_an_earlier_window() -> None:
    bar = update(None, 100.0, T0, 1)
    with pytest.raises(ValueError, match="older"):
        update(bar, 100.0, T0 - timedelta(seconds=1), 1)


def test_update_rejects_a_window_mismatch() -> None:
    bar = update(None, 100.0, T0, 1)
    with pytest.raises(ValueError, match="5m"):
        update(bar, 100.0, T0, 5)


@pytest.mark.parametrize("price", [0.0, -1.0, float("nan"), float("inf")])
def test_update_rejects_bad_prices(price: float) -> None:
    with pytest.raises(ValueError, match="price"):
        update(None, price, T0, 1)


def test_bar_rejects_inconsistent_fields() -> None:
    with pytest.raises(ValueError, match="boundary"):
        Bar(
            5,
            T0 + timedelta(minutes=1),
            1.0,
            1.0,
            1.0,
            1.0,
            1,
            T0 + timedelta(minutes=1),
            T0 + timedelta(minutes=1),
        )
    with pytest.raises(ValueError, match="low"):
        Bar(5, T0, 1.0, 0.5, 0.5, 1.0, 1, T0, T0)
    with pytest.raises(ValueError, match="first_ts"):
        Bar(5, T0, 1.0, 1.0, 1.0, 1.0, 1, T0 + timedelta(minutes=5), T0 + timedelta(minutes=5))


def test_bar_as_dict_is_json_ready() -> None:
    bar = bar_from_tick(101.5, T0 + timedelta(seconds=3), 15)
    assert bar.as_dict() == {
        "window": 15,
        "start": "2024-01-15T09:15:00+00:00",
        "open": 101.5,
        "high": 101.5,
        "low": 101.5,
        "close": 101.5,
        "ticks": 1,
        "first_ts": "2024-01-15T09:15:03+00:00",
        "last_ts": "2024-01-15T09:15:03+00:00",
    }


# --------------------------------------------------------------------------------------------- merge


def test_merge_takes_open_from_the_earliest_and_close_from_the_latest_tick() -> None:
    late = update(update(None, 110.0, T0 + timedelta(seconds=50), 1), 90.0, T0 + timedelta(seconds=55), 1)
    early = update(update(None, 100.0, T0 + timedelta(seconds=1), 1), 120.0, T0 + timedelta(seconds=2), 1)
    merged = merge(late, early)
    assert (merged.open, merged.high, merged.low, merged.close, merged.ticks) == (100.0, 120.0, 90.0, 90.0, 4)
    assert merge(early, late) == merged


def test_merge_rejects_bars_of_different_windows_or_starts() -> None:
    with pytest.raises(ValueError, match="cannot merge"):
        merge(bar_from_tick(1.0, T0, 1), bar_from_tick(1.0, T0 + timedelta(minutes=1), 1))
    with pytest.raises(ValueError, match="cannot merge"):
        merge(bar_from_tick(1.0, T0, 1), bar_from_tick(1.0, T0, 5))


# ------------------------------------------------------------------------------ fold/merge properties

# Ticks inside one 15-minute window; coarse offsets so equal timestamps occur often.
ticks_strategy = st.lists(
    st.tuples(
        st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False),
        st.integers(0, 15 * 60 - 1).map(lambda seconds: T0 + timedelta(seconds=seconds)),
    ),
    min_size=1,
    max_size=40,
)


def _reference_bar(ticks: list[tuple[float, datetime]], window: int) -> Bar:
    """OHLC straight from the definition: open/close at the (timestamp, price)-smallest/largest tick."""
    earliest = min(ticks, key=lambda tick: (tick[1], tick[0]))
    latest = max(ticks, key=lambda tick: (tick[1], tick[0]))
    return Bar(
        window_minutes=window,
        start=bar_start(earliest[1], window),
        open=earliest[0],
        high=max(price for price, _ in ticks),
        low=min(price for price, _ in ticks),
        close=latest[0],
        ticks=len(ticks),
        first_ts=earliest[1],
        last_ts=latest[1],
    )


def _fold(ticks: list[tuple[float, datetime]], window: int) -> Bar:
    bar: Bar | None = None
    for price, ts in ticks:
        bar = update(bar, price, ts, window)
    assert bar is not None
    return bar


@settings(max_examples=200, deadline=None)
@given(ticks_strategy)
def test_folding_ticks_one_by_one_matches_the_definition(ticks: list[tuple[float, datetime]]) -> None:
    assert _fold(ticks, 15) == _reference_bar(ticks, 15)


@settings(max_examples=200, deadline=None)
@given(ticks_strategy, st.data())
def test_merging_partial_bars_in_any_grouping_and_order_equals_folding(
    ticks: list[tuple[float, datetime]], data: st.DataObject
) -> None:
    # GIVEN the ticks split at random points into consecutive partial bars
    cuts = sorted(data.draw(st.sets(st.integers(1, len(ticks) - 1), max_size=6)) if len(ticks) > 1 else [])
    bounds = [0, *cuts, len(ticks)]
    parts = [_fold(ticks[lo:hi], 15) for lo, hi in itertools.pairwise(bounds)]
    # WHEN they are merged in a random order, combining random adjacent pairs (any bracketing)
    parts = data.draw(st.permutations(parts))
    while len(parts) > 1:
        i = data.draw(st.integers(0, len(parts) - 2))
        parts[i : i + 2] = [merge(parts[i], parts[i + 1])]
    # THEN the result is the bar folded tick by tick
    assert parts[0] == _fold(ticks, 15)


@settings(max_examples=100, deadline=None)
@given(ticks_strategy, ticks_strategy, ticks_strategy)
def test_merge_is_associative_and_commutative(
    a: list[tuple[float, datetime]], b: list[tuple[float, datetime]], c: list[tuple[float, datetime]]
) -> None:
    bar_a, bar_b, bar_c = (_fold(ticks, 15) for ticks in (a, b, c))
    assert merge(merge(bar_a, bar_b), bar_c) == merge(bar_a, merge(bar_b, bar_c))
    assert merge(bar_a, bar_b) == merge(bar_b, bar_a)
    assert reduce(merge, [bar_c, bar_a, bar_b]) == _reference_bar(a + b + c, 15)


# --- fold: a run of ticks at once, checked against update() tick by tick --------------------------

_BASE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(
    window=st.sampled_from(WINDOWS),
    steps=st.lists(
        st.tuples(st.integers(-30, 400), st.floats(1.0, 1e5, allow_nan=False, allow_infinity=False)),
        min_size=1,
        max_size=60,
    ),
    seeded=st.booleans(),
)
def test_fold_makes_the_same_bars_as_updating_tick_by_tick(
    window: int, steps: list[tuple[int, float]], seeded: bool
) -> None:
    # GIVEN ticks moving mostly forward in time (some repeated or a little out of order)
    times, t = [], 0
    for delta, _ in steps:
        t = max(0, t + delta)
        times.append(_BASE + timedelta(seconds=t))
    prices = [p for _, p in steps]
    start_bar = bars.bar_from_tick(100.0, _BASE, window) if seeded else None
    # WHEN folded at once, and updated one by one (skipping late ticks, as the service does)
    result = bars.fold(start_bar, prices, times, window)
    bar, finished, states = start_bar, [], []
    for price, ts in zip(prices, times, strict=True):
        if bar is not None and bars.bar_start(ts, window) < bar.start:
            states.append(bar.as_dict())
            continue
        updated = bars.update(bar, price, ts, window)
        if bar is not None and updated.start != bar.start:
            finished.append(bar)
        bar = updated
        states.append(bar.as_dict())
    # THEN the bars, and the state after each tick, are the same
    assert result.finished == finished
    assert result.current == bar
    assert result.states == states
