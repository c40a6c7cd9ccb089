"""Option expiry calendars: which dates expire, and how long until they do.

Rules per product (exchange rules in force since September 2025):

=========  ========  ===========================  ==================================  ===========
Product    Exchange  Weekly / daily expiries      Monthly expiry                      Close (local)
=========  ========  ===========================  ==================================  ===========
NIFTY      NSE       every Tuesday                last Tuesday of the month           15:30 IST
BANKNIFTY  NSE       none since Nov 2024          last Tuesday of the month           15:30 IST
FINNIFTY   NSE       none since Nov 2024          last Tuesday of the month           15:30 IST
SENSEX     BSE       every Thursday               last Thursday of the month          15:30 IST
AAPL       Cboe/US   every Friday                 third Friday of the month           16:00 ET
TSLA       Cboe/US   every Friday                 third Friday of the month           16:00 ET
SPY        Cboe/US   every Monday–Friday (daily)  third Friday of the month           16:00 ET
QQQ        Cboe/US   every Monday–Friday (daily)  third Friday of the month           16:00 ET
=========  ========  ===========================  ==================================  ===========

IST is ``Asia/Kolkata`` and ET is ``America/New_York`` (zoneinfo names, so daylight saving time is
handled by the IANA database).

Limitations: exchange holidays are NOT modelled. The calendar is weekend-only: an expiry that falls on
an exchange holiday is not moved to the previous trading day as the exchanges would do.

Conventions: weekdays are Python's (Monday = 0 … Sunday = 6, the ``calendar`` module constants);
time to expiry is ACT/365 in years from an aware ``now`` to the expiry's close time in the exchange's
time zone, and 0 once that close time has passed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from deltastream.domain.products import Product

SECONDS_PER_YEAR = 365.0 * 24.0 * 60.0 * 60.0
"""ACT/365: the number of seconds in a year used to turn a time span into years."""


class MonthlyExpiryWeek(Enum):
    """Which occurrence of the expiry weekday in a month is the monthly expiry."""

    THIRD = "third"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class ExpiryRule:
    """When a product's options expire.

    Attributes:
        weekday: expiry weekday, Monday = 0 (``calendar.TUESDAY`` for NSE, ``calendar.FRIDAY`` for US).
        monthly_week: which ``weekday`` of the month is the monthly expiry (third or last).
        weekly: every ``weekday`` is an expiry (weekly options).
        daily: every Monday–Friday is an expiry (0DTE options, e.g. SPY and QQQ); implies ``weekly``.
    """

    weekday: int
    monthly_week: MonthlyExpiryWeek
    weekly: bool = False
    daily: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), got {self.weekday}")

    def is_expiry(self, day: date) -> bool:
        """True when ``day`` is an expiry date under this rule (weekends only never are for daily)."""
        if self.daily and day.weekday() < calendar.SATURDAY:
            return True
        if day.weekday() != self.weekday:
            return False
        return self.weekly or day == monthly_expiry(self, day.year, day.month)


NSE_WEEKLY_TUESDAY = ExpiryRule(calendar.TUESDAY, MonthlyExpiryWeek.LAST, weekly=True)
"""NSE NIFTY: weekly Tuesday expiries, monthly = last Tuesday."""
NSE_MONTHLY_TUESDAY = ExpiryRule(calendar.TUESDAY, MonthlyExpiryWeek.LAST)
"""NSE BANKNIFTY / FINNIFTY: monthly only, last Tuesday."""
BSE_WEEKLY_THURSDAY = ExpiryRule(calendar.THURSDAY, MonthlyExpiryWeek.LAST, weekly=True)
"""BSE SENSEX: weekly Thursday expiries, monthly = last Thursday."""
US_WEEKLY_FRIDAY = ExpiryRule(calendar.FRIDAY, MonthlyExpiryWeek.THIRD, weekly=True)
"""US single names: weekly Friday expiries, monthly = third Friday."""
US_DAILY = ExpiryRule(calendar.FRIDAY, MonthlyExpiryWeek.THIRD, weekly=True, daily=True)
"""US index ETFs (SPY, QQQ): an expiry every Monday–Friday, monthly = third Friday."""


def monthly_expiry(product_or_rule: Product | ExpiryRule, year: int, month: int) -> date:
    """The monthly expiry date of ``year``-``month`` (third or last expiry weekday of that month)."""
    rule = _rule_of(product_or_rule)
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1 … 12, got {month}")
    if rule.monthly_week is MonthlyExpiryWeek.THIRD:
        first = date(year, month, 1)
        first_weekday = first + timedelta(days=(rule.weekday - first.weekday()) % 7)
        return first_weekday + timedelta(weeks=2)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - rule.weekday) % 7)


def expiry_close(product: Product, expiry: date) -> datetime:
    """The aware datetime at which options of ``product`` expiring on ``expiry`` stop trading."""
    return datetime.combine(expiry, product.expiry_close_time, tzinfo=ZoneInfo(product.timezone))


def upcoming_expiries(product: Product, now: datetime, count: int) -> list[date]:
    """The next ``count`` expiry dates whose close time is after ``now``, earliest first.

    ``now`` must be timezone-aware (any zone: it is compared with the close time in the exchange's
    zone). An expiry on today's date is included until its close time, excluded from then on.
    """
    _require_aware(now)
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rule = product.expiry_rule
    day = now.astimezone(ZoneInfo(product.timezone)).date()
    expiries: list[date] = []
    while len(expiries) < count:
        if rule.is_expiry(day) and expiry_close(product, day) > now:
            expiries.append(day)
        day += timedelta(days=1)
    return expiries


def time_to_expiry(product: Product, expiry: date, now: datetime) -> float:
    """Years (ACT/365, seconds / (365·86400)) from ``now`` to the expiry close; 0 after the close."""
    _require_aware(now)
    seconds = (expiry_close(product, expiry) - now).total_seconds()
    return max(seconds, 0.0) / SECONDS_PER_YEAR


def _rule_of(product_or_rule: Product | ExpiryRule) -> ExpiryRule:
    if isinstance(product_or_rule, ExpiryRule):
        return product_or_rule
    return product_or_rule.expiry_rule


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got naive {now.isoformat()}")


__all__ = [
    "BSE_WEEKLY_THURSDAY",
    "NSE_MONTHLY_TUESDAY",
    "NSE_WEEKLY_TUESDAY",
    "SECONDS_PER_YEAR",
    "US_DAILY",
    "US_WEEKLY_FRIDAY",
    "ExpiryRule",
    "MonthlyExpiryWeek",
    "expiry_close",
    "monthly_expiry",
    "time_to_expiry",
    "upcoming_expiries",
]
