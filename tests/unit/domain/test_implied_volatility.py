"""Implied volatility: round trips through ``price`` over a wide grid, bounds, and robustness.

The round trip is an independent check: ``price`` is verified against Hull and a scalar reference
in test_pricing.py, and the solver must recover the σ that produced each price.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltastream.domain.pricing import greeks, implied_volatility, price


def _grid() -> tuple[np.ndarray, ...]:
    flags, m, t, r, sigma, q = np.meshgrid(
        [1.0, -1.0],
        np.exp(np.linspace(np.log(0.3), np.log(3.0), 25)),  # K / S from deep ITM to deep OTM
        [1 / 365, 3 / 365, 2 / 52, 0.25, 1.0, 3.0, 5.0],
        [-0.01, 0.03, 0.10],
        [0.03, 0.08, 0.2, 0.5, 1.0, 2.0],
        [0.0, 0.05],
        indexing="ij",
    )
    S = 100.0
    return tuple(a.ravel() for a in (flags, np.full(m.size, S), S * m, t, r, sigma, q))


def test_round_trip_recovers_sigma_to_1e_10_wherever_vega_exceeds_1e_3() -> None:
    # GIVEN 12,600 options from deep ITM to deep OTM, 1 day to 5 years, σ from 3 % to 200 %
    flags, S, K, t, r, sigma, q = _grid()
    prices = price(flags, S, K, t, r, sigma, q)
    vega = greeks(flags, S, K, t, r, sigma, q)["vega"]
    # WHEN the prices are inverted
    recovered = implied_volatility(prices, flags, S, K, t, r, q)
    # THEN σ comes back to 1e-10 wherever the price carries information about it
    informative = vega > 1e-3
    assert informative.sum() > 5_000
    error = np.abs(recovered[informative] - sigma[informative])
    assert not np.isnan(error).any()
    assert error.max() <= 1e-10
    # and nowhere does the solver return a σ whose price differs from the input by more than rounding
    solved = ~np.isnan(recovered)
    repriced = price(flags[solved], S[solved], K[solved], t[solved], r[solved], recovered[solved], q[solved])
    np.testing.assert_allclose(repriced, prices[solved], rtol=1e-9, atol=1e-9)


def test_deep_itm_and_otm_short_expiry_options_solve_on_the_otm_side() -> None:
    # GIVEN a 2-day option 15 % in and out of the money at 40 % vol (ITM price is ~all intrinsic)
    K = np.array([85.0, 115.0])
    for flag in ("c", "p"):
        prices = price(flag, 100.0, K, 2 / 365, 0.05, 0.40)
        np.testing.assert_allclose(
            implied_volatility(prices, flag, 100.0, K, 2 / 365, 0.05), 0.40, atol=1e-10
        )


def test_prices_outside_no_arbitrage_bounds_give_nan_without_an_exception_or_warning() -> None:
    S, K, t, r, q = 100.0, 90.0, 0.5, 0.05, 0.02
    intrinsic = S * np.exp(-q * t) - K * np.exp(-r * t)
    bad_prices = [intrinsic - 0.01, -1.0, S * np.exp(-q * t), S * 2, np.nan, np.inf]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = implied_volatility(bad_prices, "c", S, K, t, r, q)
        # a put priced above its bound K e^{-rt}, and an expired option
        assert np.isnan(implied_volatility(K, "p", S, K, t, r, q))
        assert np.isnan(implied_volatility(5.0, "c", S, K, 0.0, r, q))
    assert np.isnan(result).all()


def test_a_price_equal_to_intrinsic_value_has_zero_volatility() -> None:
    assert implied_volatility(0.0, "c", 100.0, 110.0, 0.5, 0.0) == 0.0


def test_results_keep_the_broadcast_shape() -> None:
    K = np.array([[90.0], [100.0], [110.0]])
    t = np.array([[0.1, 1.0]])
    prices = price("p", 100.0, K, t, 0.03, 0.3)
    result = implied_volatility(prices, "p", 100.0, K, t, 0.03)
    assert result.shape == (3, 2)
    np.testing.assert_allclose(result, 0.3, atol=1e-12)


def test_large_inputs_solve_in_blocks_like_small_ones() -> None:
    rng = np.random.default_rng(11)
    n = 60_000
    K = rng.uniform(50, 150, n)
    t = rng.uniform(0.02, 2.0, n)
    sigma = rng.uniform(0.05, 1.0, n)
    flags = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    prices = price(flags, 100.0, K, t, 0.04, sigma, 0.01)
    recovered = implied_volatility(prices, flags, 100.0, K, t, 0.04, 0.01)
    informative = greeks(flags, 100.0, K, t, 0.04, sigma, 0.01)["vega"] > 1e-3
    assert np.abs(recovered - sigma)[informative].max() <= 1e-10


@settings(max_examples=300, deadline=None)
@given(
    flag=st.sampled_from("cp"),
    m=st.floats(0.5, 2.0),
    t=st.floats(1 / 365, 4.0),
    r=st.floats(-0.01, 0.12),
    sigma=st.floats(0.02, 1.5),
    q=st.floats(0.0, 0.06),
)
def test_round_trip_property(flag: str, m: float, t: float, r: float, sigma: float, q: float) -> None:
    value = price(flag, 100.0, 100.0 * m, t, r, sigma, q)
    recovered = implied_volatility(value, flag, 100.0, 100.0 * m, t, r, q)
    if greeks(flag, 100.0, 100.0 * m, t, r, sigma, q)["vega"] > 1e-3:
        assert recovered == pytest.approx(sigma, abs=1e-10)
    elif not np.isnan(recovered):
        # where vega is tiny the price pins σ down only loosely: it must still reproduce the price
        assert price(flag, 100.0, 100.0 * m, t, r, recovered, q) == pytest.approx(value, rel=1e-8, abs=1e-10)
