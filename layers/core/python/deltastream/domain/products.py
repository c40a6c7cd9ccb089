"""The product catalogue: the underlyings DeltaStream simulates and the contract specs of their options.

Every number is a static, realistic starting point for the market simulation (late-2025 levels), not
live market data. Units:

- prices (``base_price``, ``strike_step``, ``tick_size``) in the product's ``currency``;
- ``volatility`` annualised (0.13 = 13 %), the long-dated at-the-money level of the smile;
- ``rate`` and ``dividend_yield`` continuously compounded, per year;
- ``lot_size`` in units of the underlying per contract; open interest counts contracts;
- ``expiry_close_time`` local wall-clock time in ``timezone`` (an IANA zone name).

Expiry rules are described in :mod:`deltastream.domain.expiries`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from types import MappingProxyType

from deltastream.domain.expiries import (
    BSE_WEEKLY_THURSDAY,
    NSE_MONTHLY_TUESDAY,
    NSE_WEEKLY_TUESDAY,
    US_DAILY,
    US_WEEKLY_FRIDAY,
    ExpiryRule,
)

INDIA_TIMEZONE = "Asia/Kolkata"
US_TIMEZONE = "America/New_York"
INDIA_EXPIRY_CLOSE = time(15, 30)
US_EXPIRY_CLOSE = time(16, 0)


class UnknownProductError(KeyError):
    """Raised for a symbol that is not in the catalogue; the message names the known symbols."""

    def __init__(self, symbol: str, known: tuple[str, ...]) -> None:
        super().__init__(symbol)
        self.symbol = symbol
        self.known = known

    def __str__(self) -> str:
        return f"unknown product {self.symbol!r}; known products: {', '.join(self.known)}"


@dataclass(frozen=True, slots=True)
class SmileParams:
    """Shape of the implied-volatility smile and its term structure (see ``market.smile_vol``).

    σ(K, T) = atm(T) + skew·m + curvature·m², with m = ln(K/F)/√T clipped to ±``moneyness_clip``,
    atm(T) = volatility·(1 + term_premium·exp(−T/term_decay_years)), then clipped to
    [``vol_floor``, ``vol_cap``].

    Attributes:
        skew: vol points per unit of m; negative = put skew (lower strikes carry higher vol).
        curvature: vol per unit m² (>= 0): the smile's convexity, lifting both wings.
        term_premium: relative ATM vol premium of the shortest expiries over long ones (> -1);
            negative = upward-sloping term structure (short-dated ATM vol below the long-dated level).
        term_decay_years: how fast the premium fades with T (e-folding time in years, > 0).
        moneyness_clip: bound on |m| so wings (and expiries close to 0) stay bounded (> 0).
        vol_floor, vol_cap: final bounds on σ, annualised (0 < floor < cap).
    """

    skew: float = -0.15
    curvature: float = 0.15
    term_premium: float = -0.05
    term_decay_years: float = 0.1
    moneyness_clip: float = 2.0
    vol_floor: float = 0.02
    vol_cap: float = 3.0

    def __post_init__(self) -> None:
        if self.curvature < 0:
            raise ValueError(f"curvature must be >= 0, got {self.curvature}")
        if self.term_premium <= -1:
            raise ValueError(f"term_premium must be > -1, got {self.term_premium}")
        if self.term_decay_years <= 0:
            raise ValueError(f"term_decay_years must be > 0, got {self.term_decay_years}")
        if self.moneyness_clip <= 0:
            raise ValueError(f"moneyness_clip must be > 0, got {self.moneyness_clip}")
        if not 0 < self.vol_floor < self.vol_cap:
            raise ValueError(f"need 0 < vol_floor < vol_cap, got {self.vol_floor}, {self.vol_cap}")


@dataclass(frozen=True, slots=True)
class Product:
    """One optionable underlying and the contract specification of its options (units: module doc)."""

    symbol: str
    name: str
    base_price: float
    strike_step: float
    lot_size: int
    volatility: float
    rate: float
    dividend_yield: float
    currency: str
    tick_size: float
    timezone: str
    expiry_close_time: time
    expiry_rule: ExpiryRule
    strikes_each_side: int
    smile: SmileParams = field(default_factory=SmileParams)
    peak_open_interest: int = 100_000
    """Typical open interest (contracts) of the most active strike when a chain is seeded."""

    def __post_init__(self) -> None:
        for name in ("base_price", "strike_step", "volatility", "tick_size"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{self.symbol}: {name} must be > 0, got {value}")
        if self.lot_size <= 0 or self.strikes_each_side < 0 or self.peak_open_interest <= 0:
            raise ValueError(f"{self.symbol}: lot_size and peak_open_interest > 0, strikes_each_side >= 0")


_INDEX_SMILE = SmileParams(skew=-0.18, curvature=0.20, term_premium=-0.06, term_decay_years=0.08)
_STOCK_SMILE = SmileParams(skew=-0.10, curvature=0.15, term_premium=0.08, term_decay_years=0.1)
_HIGH_VOL_STOCK_SMILE = SmileParams(skew=-0.06, curvature=0.15, term_premium=0.10, term_decay_years=0.1)
_ETF_SMILE = SmileParams(skew=-0.20, curvature=0.20, term_premium=-0.05, term_decay_years=0.08)


# Each market's listing conventions; the catalogue below adds what differs per product.
_india = functools.partial(
    Product,
    rate=0.065,
    currency="INR",
    tick_size=0.05,
    timezone=INDIA_TIMEZONE,
    expiry_close_time=INDIA_EXPIRY_CLOSE,
    strikes_each_side=20,
    smile=_INDEX_SMILE,
)
"""An Indian index (NSE/BSE): INR, tick 0.05, rate 6.5 %, 15:30 IST close, index put skew."""

_us = functools.partial(
    Product,
    lot_size=100,
    rate=0.045,
    currency="USD",
    tick_size=0.01,
    timezone=US_TIMEZONE,
    expiry_close_time=US_EXPIRY_CLOSE,
)
"""A US-listed underlying: USD, tick 0.01, 100 shares a contract, rate 4.5 %, 16:00 ET close."""


_CATALOGUE = (
    _india(
        "NIFTY",
        "NIFTY 50",
        base_price=25_000.0,
        strike_step=50.0,
        lot_size=75,
        volatility=0.13,
        dividend_yield=0.012,
        expiry_rule=NSE_WEEKLY_TUESDAY,
        peak_open_interest=150_000,
    ),
    _india(
        "BANKNIFTY",
        "NIFTY Bank",
        base_price=56_000.0,
        strike_step=100.0,
        lot_size=35,
        volatility=0.15,
        dividend_yield=0.008,
        expiry_rule=NSE_MONTHLY_TUESDAY,
        peak_open_interest=60_000,
    ),
    _india(
        "FINNIFTY",
        "NIFTY Financial Services",
        base_price=26_500.0,
        strike_step=50.0,
        lot_size=65,
        volatility=0.14,
        dividend_yield=0.009,
        expiry_rule=NSE_MONTHLY_TUESDAY,
        peak_open_interest=20_000,
    ),
    _india(
        "SENSEX",
        "S&P BSE SENSEX",
        base_price=82_000.0,
        strike_step=100.0,
        lot_size=20,
        volatility=0.13,
        dividend_yield=0.011,
        expiry_rule=BSE_WEEKLY_THURSDAY,
        peak_open_interest=120_000,
    ),
    _us(
        "AAPL",
        "Apple Inc.",
        base_price=230.0,
        strike_step=5.0,
        volatility=0.27,
        dividend_yield=0.0045,
        expiry_rule=US_WEEKLY_FRIDAY,
        strikes_each_side=15,
        smile=_STOCK_SMILE,
        peak_open_interest=60_000,
    ),
    _us(
        "TSLA",
        "Tesla, Inc.",
        base_price=330.0,
        strike_step=5.0,
        volatility=0.55,
        dividend_yield=0.0,
        expiry_rule=US_WEEKLY_FRIDAY,
        strikes_each_side=20,
        smile=_HIGH_VOL_STOCK_SMILE,
        peak_open_interest=50_000,
    ),
    _us(
        "SPY",
        "SPDR S&P 500 ETF Trust",
        base_price=660.0,
        strike_step=1.0,
        volatility=0.16,
        dividend_yield=0.012,
        expiry_rule=US_DAILY,
        strikes_each_side=20,
        smile=_ETF_SMILE,
        peak_open_interest=80_000,
    ),
    _us(
        "QQQ",
        "Invesco QQQ Trust",
        base_price=590.0,
        strike_step=1.0,
        volatility=0.20,
        dividend_yield=0.006,
        expiry_rule=US_DAILY,
        strikes_each_side=20,
        smile=_ETF_SMILE,
        peak_open_interest=50_000,
    ),
)

PRODUCTS: Mapping[str, Product] = MappingProxyType({product.symbol: product for product in _CATALOGUE})
"""Every product in the catalogue, keyed by symbol (read-only)."""


def get_product(symbol: str) -> Product:
    """The catalogue entry for ``symbol`` (exact, case-sensitive); UnknownProductError otherwise."""
    try:
        return PRODUCTS[symbol]
    except KeyError:
        raise UnknownProductError(symbol, tuple(PRODUCTS)) from None


__all__ = [
    "INDIA_EXPIRY_CLOSE",
    "INDIA_TIMEZONE",
    "PRODUCTS",
    "US_EXPIRY_CLOSE",
    "US_TIMEZONE",
    "Product",
    "SmileParams",
    "UnknownProductError",
    "get_product",
]
