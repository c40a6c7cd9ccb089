"""IV rank, IV percentile and the volatility surface against hand-computed values and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from deltastream.domain.volatility import (
    DEFAULT_MONEYNESS_GRID,
    iv_percentile,
    iv_rank,
    volatility_surface,
)

ivs = st.floats(0.0, 3.0, allow_nan=False, allow_subnormal=False)
histories = st.lists(ivs, min_size=1, max_size=50)


# ---------------------------------------------------------------------------------------------- rank


def test_iv_rank_by_hand() -> None:
    # range 0.10 .. 0.30; 0.25 sits three quarters of the way up
    assert iv_rank(0.25, [0.10, 0.20, 0.30, 0.15]) == pytest.approx(75.0)


def test_iv_rank_outside_the_history_is_clipped() -> None:
    assert iv_rank(0.50, [0.10, 0.30]) == 100.0
    assert iv_rank(0.05, [0.10, 0.30]) == 0.0


def test_iv_rank_of_a_flat_history_is_fifty_at_the_level_and_clipped_elsewhere() -> None:
    assert iv_rank(0.20, [0.20, 0.20, 0.20]) == 50.0
    assert iv_rank(0.25, [0.20, 0.20]) == 100.0
    assert iv_rank(0.15, [0.20, 0.20]) == 0.0


def test_iv_rank_ignores_nan_in_history() -> None:
    assert iv_rank(0.25, [0.10, float("nan"), 0.30]) == pytest.approx(75.0)


def test_iv_rank_and_percentile_of_an_empty_history_are_nan() -> None:
    assert math.isnan(iv_rank(0.2, []))
    assert math.isnan(iv_rank(0.2, [float("nan")]))
    assert math.isnan(iv_percentile(0.2, []))


@pytest.mark.parametrize("current", [float("nan"), -0.1, float("inf")])
def test_iv_rank_and_percentile_reject_a_bad_current_iv(current: float) -> None:
    with pytest.raises(ValueError, match="current_iv"):
        iv_rank(current, [0.1, 0.2])
    with pytest.raises(ValueError, match="current_iv"):
        iv_percentile(current, [0.1, 0.2])


def test_iv_history_with_negative_values_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        iv_rank(0.2, [0.1, -0.2])


@given(ivs, ivs, histories)
@example(low=1.0, high=1.5081772870127632, history=[0.0])  # 100·x/x rounding below 100
@example(low=0.0, high=0.09236353727468008, history=[0.0])  # 100·x/x rounding above 100
def test_iv_rank_is_between_0_and_100_and_monotone_in_current(
    low: float, high: float, history: list[float]
) -> None:
    low, high = sorted((low, high))
    rank_low, rank_high = iv_rank(low, history), iv_rank(high, history)
    assert 0.0 <= rank_low <= 100.0
    assert 0.0 <= rank_high <= 100.0
    # a flat history at exactly `low` ranks it 50 and anything above 100, so the order still holds
    assert rank_low <= rank_high


# ----------------------------------------------------------------------------------------- percentile


def test_iv_percentile_counts_observations_strictly_below() -> None:
    history = [0.10, 0.20, 0.20, 0.30, float("nan")]
    assert iv_percentile(0.20, history) == 25.0  # only 0.10 is below; NaN not counted
    assert iv_percentile(0.25, history) == 75.0
    assert iv_percentile(0.05, history) == 0.0
    assert iv_percentile(0.40, history) == 100.0


@given(ivs, ivs, histories)
def test_iv_percentile_is_between_0_and_100_and_monotone_in_current(
    low: float, high: float, history: list[float]
) -> None:
    low, high = sorted((low, high))
    assert 0.0 <= iv_percentile(low, history) <= iv_percentile(high, history) <= 100.0


# -------------------------------------------------------------------------------------------- surface


def test_flat_vol_input_gives_a_flat_grid_inside_the_observed_range() -> None:
    # GIVEN two expiries quoted from 70 % to 130 % of the forward at 20 % vol
    strikes = np.arange(70.0, 131.0, 5.0)
    expiries = np.repeat([0.1, 0.5], strikes.size)
    surface = volatility_surface(expiries, np.tile(strikes, 2), 100.0, np.full(2 * strikes.size, 0.2))
    # THEN the default 0.8..1.2 grid is 0.2 everywhere
    np.testing.assert_array_equal(surface.expiries, [0.1, 0.5])
    np.testing.assert_array_equal(surface.moneyness, DEFAULT_MONEYNESS_GRID)
    assert surface.iv.shape == (2, DEFAULT_MONEYNESS_GRID.size)
    np.testing.assert_allclose(surface.iv, 0.2)


def test_surface_interpolates_linearly_in_log_moneyness() -> None:
    # GIVEN one expiry with quotes at K/F = e^{-0.1} and e^{+0.1}
    forward = 100.0
    strikes = forward * np.exp([-0.1, 0.1])
    grid = np.exp([-0.1, -0.05, 0.0, 0.05, 0.1])
    surface = volatility_surface([0.25, 0.25], strikes, forward, [0.30, 0.20], moneyness_grid=grid)
    # THEN the midpoint in log-moneyness is the mean, quarter points are 3:1 blends
    np.testing.assert_allclose(surface.iv[0], [0.30, 0.275, 0.25, 0.225, 0.20])
    np.testing.assert_allclose(surface.log_moneyness, [-0.1, -0.05, 0.0, 0.05, 0.1])


def test_surface_is_nan_outside_each_expirys_observed_range() -> None:
    # expiry 0.1 quoted on 90..110, expiry 0.2 on 100..120 (forward 100)
    surface = volatility_surface(
        expiries=[0.1, 0.1, 0.2, 0.2],
        strikes=[90.0, 110.0, 100.0, 120.0],
        forwards=100.0,
        ivs=[0.2, 0.2, 0.3, 0.3],
        moneyness_grid=[0.85, 0.9, 1.0, 1.1, 1.2, 1.25],
    )
    nan = np.nan
    np.testing.assert_array_equal(surface.iv[0], [nan, 0.2, 0.2, 0.2, nan, nan])
    np.testing.assert_array_equal(surface.iv[1], [nan, nan, 0.3, 0.3, 0.3, nan])


def test_surface_uses_per_quote_forwards_sorts_expiries_and_skips_nan_ivs() -> None:
    surface = volatility_surface(
        expiries=[0.5, 0.5, 0.5, 0.1, 0.1],
        strikes=[110.0, 90.0, 100.0, 100.0, 80.0],
        forwards=[110.0, 110.0, 110.0, 100.0, 100.0],
        ivs=[0.25, 0.35, float("nan"), 0.2, 0.3],
        moneyness_grid=[0.8, 1.0],
    )
    np.testing.assert_array_equal(surface.expiries, [0.1, 0.5])
    # expiry 0.1: K/F 0.8 → 0.3, 1.0 → 0.2; expiry 0.5: K/F 90/110 .. 1.0, so 0.8 is outside
    np.testing.assert_allclose(surface.iv[0], [0.3, 0.2])
    assert math.isnan(surface.iv[1, 0])
    assert surface.iv[1, 1] == pytest.approx(0.25)


def test_surface_averages_duplicate_quotes_and_ignores_input_order() -> None:
    expiries = [0.2, 0.2, 0.2, 0.2]
    strikes = [100.0, 100.0, 90.0, 110.0]
    quoted_ivs = [0.2, 0.4, 0.3, 0.3]
    grid = [0.9, 1.0, 1.1]
    surface = volatility_surface(expiries, strikes, 100.0, quoted_ivs, moneyness_grid=grid)
    np.testing.assert_allclose(surface.iv[0], [0.3, 0.3, 0.3])
    reordered = volatility_surface(
        expiries[::-1], strikes[::-1], 100.0, quoted_ivs[::-1], moneyness_grid=grid
    )
    np.testing.assert_array_equal(reordered.iv, surface.iv)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expiries": [], "strikes": [], "forwards": [], "ivs": []}, "no quotes"),
        ({"expiries": [0.1], "strikes": [100.0], "forwards": 100.0, "ivs": [float("nan")]}, "NaN"),
        ({"expiries": [0.0], "strikes": [100.0], "forwards": 100.0, "ivs": [0.2]}, "expiries"),
        ({"expiries": [0.1], "strikes": [-1.0], "forwards": 100.0, "ivs": [0.2]}, "strikes"),
        ({"expiries": [0.1], "strikes": [100.0], "forwards": 100.0, "ivs": [-0.2]}, "ivs"),
        (
            {
                "expiries": [0.1],
                "strikes": [100.0],
                "forwards": 100.0,
                "ivs": [0.2],
                "moneyness_grid": [1.1, 1.0],
            },
            "moneyness_grid",
        ),
    ],
)
def test_surface_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        volatility_surface(**kwargs)  # type: ignore[arg-type]


def test_surface_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="shape"):
        volatility_surface([0.1, 0.2], [100.0, 110.0, 120.0], 100.0, [0.2, 0.2, 0.2])
