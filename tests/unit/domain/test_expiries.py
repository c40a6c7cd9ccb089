"""Expiry calendars against dates read off a printed calendar (weekend-only, no holidays)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deltastream.domain.expiries import (
    NSE_WEEKLY_TUESDAY,
    US_WEEKLY_FRIDAY,
    monthly_expiry,
    time_to_expiry,
    upcoming_expiries,
)
from deltastream.domain.products import PRODUCTS, get_product

IST = ZoneInfo("Asia/Kolkata")
ET = ZoneInfo("America/New_York")
YEAR_SECONDS = 365 * 86400


# --- monthly expiries: hand-checked dates -------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "year", "month", "expected"),
    [
        # last Tuesday (NSE)
        ("NIFTY", 2025, 9, date(2025, 9, 30)),
        ("NIFTY", 2025, 12, date(2025, 12, 30)),
        ("BANKNIFTY", 2026, 2, date(2026, 2, 24)),
        ("FINNIFTY", 2026, 3, date(2026, 3, 31)),
        # last Thursday (BSE)
        ("SENSEX", 2025, 10, date(2025, 10, 30)),
        ("SENSEX", 2026, 1, date(2026, 1, 29)),
        # third Friday (US)
        ("AAPL", 2027, 1, date(2027, 1, 15)),
        ("SPY", 2025, 12, date(2025, 12, 19)),
        ("TSLA", 2026, 5, date(2026, 5, 15)),  # May 2026 starts on a Friday
        ("QQQ", 2025, 8, date(2025, 8, 15)),  # Aug 2025 starts on a Friday
    ],
)
def test_monthly_expiry_matches_calendar(symbol: str, year: int, month: int, expected: date) -> None:
    assert monthly_expiry(get_product(symbol), year, month) == expected


def test_monthly_expiry_accepts_a_rule_directly() -> None:
    assert monthly_expiry(NSE_WEEKLY_TUESDAY, 2025, 11) == date(2025, 11, 25)
    assert monthly_expiry(US_WEEKLY_FRIDAY, 2027, 1) == date(2027, 1, 15)


def test_monthly_expiry_rejects_bad_month() -> None:
    with pytest.raises(ValueError, match="month"):
        monthly_expiry(NSE_WEEKLY_TUESDAY, 2025, 13)


@given(st.integers(1990, 2100), st.integers(1, 12))
def test_last_and_third_weekday_properties(year: int, month: int) -> None:
    # THEN the last Tuesday is a Tuesday with no Tuesday after it in the month
    last_tuesday = monthly_expiry(NSE_WEEKLY_TUESDAY, year, month)
    assert last_tuesday.weekday() == calendar.TUESDAY
    assert (last_tuesday.month, (last_tuesday + timedelta(days=7)).month) == (month, month % 12 + 1)
    # AND the third Friday is a Friday on day 15…21
    third_friday = monthly_expiry(US_WEEKLY_FRIDAY, year, month)
    assert third_friday.weekday() == calendar.FRIDAY
    assert 15 <= third_friday.day <= 21
    assert third_friday.month == month


# --- upcoming expiries --------------------------------------------------------------------------


def test_nifty_weekly_expiry_day_before_close_includes_today() -> None:
    # GIVEN Tuesday 2025-11-18, 15:29 IST (one minute before close)
    now = datetime(2025, 11, 18, 15, 29, tzinfo=IST)
    # WHEN / THEN today's expiry is still the next one
    assert upcoming_expiries(get_product("NIFTY"), now, 3) == [
        date(2025, 11, 18),
        date(2025, 11, 25),
        date(2025, 12, 2),
    ]


def test_nifty_weekly_expiry_day_at_close_moves_to_next_week() -> None:
    # GIVEN the close itself, 15:30 IST, given in UTC (10:00 UTC)
    now = datetime(2025, 11, 18, 10, 0, tzinfo=UTC)
    assert upcoming_expiries(get_product("NIFTY"), now, 2) == [date(2025, 11, 25), date(2025, 12, 2)]


def test_banknifty_has_only_monthly_last_tuesdays() -> None:
    now = datetime(2025, 11, 26, 9, 15, tzinfo=IST)
    assert upcoming_expiries(get_product("BANKNIFTY"), now, 3) == [
        date(2025, 12, 30),
        date(2026, 1, 27),
        date(2026, 2, 24),
    ]


def test_sensex_weekly_thursdays() -> None:
    now = datetime(2025, 11, 22, 12, 0, tzinfo=IST)  # a Saturday
    assert upcoming_expiries(get_product("SENSEX"), now, 2) == [date(2025, 11, 27), date(2025, 12, 4)]


def test_aapl_friday_expiry_in_new_york_time_not_utc() -> None:
    # GIVEN Friday 2025-11-21 20:59 UTC = 15:59 EST: before the 16:00 ET close
    product = get_product("AAPL")
    before = datetime(2025, 11, 21, 20, 59, tzinfo=UTC)
    after = datetime(2025, 11, 21, 21, 0, tzinfo=UTC)
    # THEN the Friday counts until 21:00 UTC (winter, UTC-5), not until 16:00 UTC
    assert upcoming_expiries(product, before, 1) == [date(2025, 11, 21)]
    assert upcoming_expiries(product, after, 1) == [date(2025, 11, 28)]


def test_us_close_follows_daylight_saving_time() -> None:
    # GIVEN a summer Friday (EDT, UTC-4): the close is 20:00 UTC
    product = get_product("TSLA")
    assert upcoming_expiries(product, datetime(2025, 7, 18, 19, 59, tzinfo=UTC), 1) == [date(2025, 7, 18)]
    assert upcoming_expiries(product, datetime(2025, 7, 18, 20, 0, tzinfo=UTC), 1) == [date(2025, 7, 25)]


def test_spy_has_daily_expiries_skipping_weekends() -> None:
    # GIVEN Friday 2025-11-21 after the close
    now = datetime(2025, 11, 21, 16, 30, tzinfo=ET)
    assert upcoming_expiries(get_product("SPY"), now, 6) == [
        date(2025, 11, 24),
        date(2025, 11, 25),
        date(2025, 11, 26),
        date(2025, 11, 27),  # Thanksgiving: holidays are not modelled
        date(2025, 11, 28),
        date(2025, 12, 1),
    ]


def test_late_evening_new_york_is_next_day_in_india() -> None:
    # GIVEN Monday 2025-11-17 23:00 ET = Tuesday 09:30 IST: NIFTY's Tuesday expiry is still open
    now = datetime(2025, 11, 17, 23, 0, tzinfo=ET)
    assert upcoming_expiries(get_product("NIFTY"), now, 1) == [date(2025, 11, 18)]


def test_upcoming_expiries_with_zero_count_is_empty() -> None:
    assert upcoming_expiries(get_product("NIFTY"), datetime(2025, 1, 1, tzinfo=UTC), 0) == []


def test_upcoming_expiries_rejects_naive_now_and_negative_count() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        upcoming_expiries(get_product("NIFTY"), datetime(2025, 1, 1), 1)
    with pytest.raises(ValueError, match="count"):
        upcoming_expiries(get_product("NIFTY"), datetime(2025, 1, 1, tzinfo=UTC), -1)


@pytest.mark.parametrize("symbol", list(PRODUCTS))
@given(
    moment=st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
)
def test_upcoming_expiries_are_sorted_future_weekdays(symbol: str, moment: datetime) -> None:
    product = get_product(symbol)
    expiries = upcoming_expiries(product, moment, 5)
    assert len(expiries) == 5
    assert expiries == sorted(set(expiries))
    assert all(expiry.weekday() < calendar.SATURDAY for expiry in expiries)
    assert all(time_to_expiry(product, expiry, moment) > 0 for expiry in expiries)


# --- time to expiry -----------------------------------------------------------------------------


def test_time_to_expiry_is_act365_to_the_local_close() -> None:
    # GIVEN 09:15 IST on expiry day: 6h15m to the 15:30 close
    now = datetime(2025, 11, 25, 9, 15, tzinfo=IST)
    expected = (6 * 3600 + 15 * 60) / YEAR_SECONDS
    assert time_to_expiry(get_product("NIFTY"), date(2025, 11, 25), now) == pytest.approx(expected, rel=1e-12)


def test_time_to_expiry_over_a_week_from_another_timezone() -> None:
    # GIVEN Friday 16:00 ET (= 21:00 UTC in winter) and a Friday expiry one week later
    now = datetime(2025, 11, 14, 21, 0, tzinfo=UTC)
    assert time_to_expiry(get_product("AAPL"), date(2025, 11, 21), now) == pytest.approx(7 / 365, rel=1e-12)


def test_time_to_expiry_is_zero_after_the_close() -> None:
    now = datetime(2025, 11, 25, 15, 31, tzinfo=IST)
    assert time_to_expiry(get_product("NIFTY"), date(2025, 11, 25), now) == 0.0


def test_time_to_expiry_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        time_to_expiry(get_product("NIFTY"), date(2025, 11, 25), datetime(2025, 11, 25, 9, 15))
