"""The product catalogue: contract specs as published by the exchanges, and lookups."""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

import pytest

from deltastream.domain.products import PRODUCTS, Product, SmileParams, UnknownProductError, get_product

# (symbol, currency, tick, lot size, strike step, timezone, close): NSE/BSE circulars and OCC specs.
PUBLISHED_SPECS = [
    ("NIFTY", "INR", 0.05, 75, 50.0, "Asia/Kolkata", time(15, 30)),
    ("BANKNIFTY", "INR", 0.05, 35, 100.0, "Asia/Kolkata", time(15, 30)),
    ("FINNIFTY", "INR", 0.05, 65, 50.0, "Asia/Kolkata", time(15, 30)),
    ("SENSEX", "INR", 0.05, 20, 100.0, "Asia/Kolkata", time(15, 30)),
    ("AAPL", "USD", 0.01, 100, 5.0, "America/New_York", time(16, 0)),
    ("TSLA", "USD", 0.01, 100, 5.0, "America/New_York", time(16, 0)),
    ("SPY", "USD", 0.01, 100, 1.0, "America/New_York", time(16, 0)),
    ("QQQ", "USD", 0.01, 100, 1.0, "America/New_York", time(16, 0)),
]


@pytest.mark.parametrize(("symbol", "currency", "tick", "lot", "step", "zone", "close"), PUBLISHED_SPECS)
def test_catalogue_entry_matches_published_contract_spec(
    symbol: str, currency: str, tick: float, lot: int, step: float, zone: str, close: time
) -> None:
    # WHEN the product is looked up
    product = get_product(symbol)

    # THEN its contract spec is the exchange's
    assert (product.symbol, product.currency, product.tick_size, product.lot_size) == (
        symbol,
        currency,
        tick,
        lot,
    )
    assert (product.strike_step, product.timezone, product.expiry_close_time) == (step, zone, close)


@pytest.mark.parametrize("product", list(PRODUCTS.values()), ids=list(PRODUCTS))
def test_market_parameters_are_realistic(product: Product) -> None:
    # THEN rates match the currency's money market, and prices and vols are plausible levels
    expected_rate = {"INR": 0.065, "USD": 0.045}[product.currency]
    assert product.rate == pytest.approx(expected_rate, abs=0.01)
    assert 0.05 < product.volatility < 1.0
    assert 0.0 <= product.dividend_yield < 0.03
    assert product.base_price > 20 * product.strike_step
    assert product.strikes_each_side >= 10
    assert product.smile.skew < 0  # put skew


def test_catalogue_holds_the_eight_launch_products() -> None:
    assert set(PRODUCTS) >= {"NIFTY", "BANKNIFTY", "FINNIFTY", "SENSEX", "AAPL", "TSLA", "SPY", "QQQ"}
    assert all(symbol == product.symbol for symbol, product in PRODUCTS.items())


def test_unknown_symbol_raises_error_naming_it_and_the_known_ones() -> None:
    # WHEN an unknown symbol is looked up
    with pytest.raises(UnknownProductError) as caught:
        get_product("DOGE")

    # THEN the error is a KeyError naming the symbol and the catalogue
    assert isinstance(caught.value, KeyError)
    message = str(caught.value)
    assert "'DOGE'" in message
    assert "NIFTY" in message
    assert "SPY" in message
    assert caught.value.symbol == "DOGE"


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        PRODUCTS["FAKE"] = get_product("NIFTY")  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_product("NIFTY").base_price = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "change",
    [{"base_price": 0.0}, {"strike_step": -50.0}, {"volatility": 0.0}, {"tick_size": 0.0}, {"lot_size": 0}],
)
def test_product_rejects_non_positive_spec(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must be > 0|lot_size"):
        dataclasses.replace(get_product("NIFTY"), **change)


@pytest.mark.parametrize(
    "change",
    [{"curvature": -0.1}, {"term_premium": -1.0}, {"term_decay_years": 0.0}, {"vol_floor": 0.0}],
)
def test_smile_params_reject_shapes_that_could_go_non_positive(change: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must be|need"):
        SmileParams(**change)
