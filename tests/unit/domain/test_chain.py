"""Chain analytics against hand-computed values and the O(n²) max-pain definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltastream.domain.chain import (
    Buildup,
    align_snapshots,
    atm_straddle,
    atm_strike,
    expected_move,
    max_pain,
    max_pain_curve,
    max_pain_naive,
    oi_buildup,
    one_sigma_move,
    pcr,
    support_resistance,
)

# ------------------------------------------------------------------------------------------------ PCR


def test_pcr_divides_total_puts_by_total_calls() -> None:
    # GIVEN put OI 100 + 300 = 400 and call OI 150 + 50 = 200
    # THEN PCR = 400 / 200
    assert pcr([100, 300], [150, 50]) == 2.0


def test_pcr_accepts_scalar_totals() -> None:
    assert pcr(75.0, 100.0) == 0.75


def test_pcr_with_zero_calls_is_inf_and_zero_over_zero_is_nan() -> None:
    assert pcr([5, 0], [0, 0]) == math.inf
    assert math.isnan(pcr([0, 0], [0, 0]))


@pytest.mark.parametrize(
    ("puts", "calls", "message"),
    [
        ([1, 2], [1], "length mismatch"),
        ([], [], "empty"),
        ([1, -2], [1, 1], "negative"),
        ([1, float("nan")], [1, 1], "NaN"),
    ],
)
def test_pcr_rejects_bad_input(puts: list[float], calls: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pcr(puts, calls)


# ------------------------------------------------------------------------------------------------ ATM


def test_atm_strike_is_the_nearest_strike_whatever_the_order() -> None:
    assert atm_strike([21600, 21400, 21500], 21543.25) == 21500.0
    assert atm_strike([21600, 21400, 21500], 21551.0) == 21600.0


def test_atm_strike_tie_goes_to_the_lower_strike() -> None:
    assert atm_strike([110, 100, 120], 105.0) == 100.0


def test_atm_strike_outside_the_listed_range_is_the_end_strike() -> None:
    assert atm_strike([100, 110, 120], 500.0) == 120.0
    assert atm_strike([100, 110, 120], 1.0) == 100.0


def test_atm_strike_rejects_duplicates_and_bad_spot() -> None:
    with pytest.raises(ValueError, match="duplicates"):
        atm_strike([100, 100, 110], 105.0)
    with pytest.raises(ValueError, match="spot"):
        atm_strike([100, 110], float("nan"))


def test_atm_straddle_adds_call_and_put_at_the_atm_strike() -> None:
    strikes = [120, 100, 110]
    calls = [1.0, 12.0, 5.5]
    puts = [11.0, 1.5, 4.25]
    # spot 108 → ATM strike 110 → 5.5 + 4.25
    assert atm_straddle(strikes, calls, puts, 108.0) == 9.75


def test_atm_straddle_is_nan_when_the_atm_quote_is_missing() -> None:
    assert math.isnan(atm_straddle([100, 110], [float("nan"), 1.0], [2.0, 3.0], 101.0))
    # a missing quote away from the ATM strike does not matter
    assert atm_straddle([100, 110], [float("nan"), 1.0], [2.0, 3.0], 109.0) == 4.0


def test_atm_straddle_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="length mismatch"):
        atm_straddle([100, 110], [1.0], [2.0, 3.0], 105.0)


# ------------------------------------------------------------------------------------ expected move


def test_expected_move_is_the_straddle_price_by_default() -> None:
    move = expected_move(spot=20000.0, straddle_price=400.0)
    assert (move.move, move.lower, move.upper) == (400.0, 19600.0, 20400.0)


def test_expected_move_factor_scales_the_straddle() -> None:
    assert expected_move(20000.0, 400.0, factor=0.85).move == pytest.approx(340.0)


def test_one_sigma_move_is_spot_times_vol_times_root_t() -> None:
    # 20000 × 0.20 × √0.25 = 2000
    move = one_sigma_move(spot=20000.0, atm_iv=0.20, t=0.25)
    assert move.move == pytest.approx(2000.0)
    assert (move.lower, move.upper) == pytest.approx((18000.0, 22000.0))


def test_straddle_under_black_scholes_is_about_080_of_the_one_sigma_move() -> None:
    # GIVEN a zero-rate ATM-forward straddle priced by Black-Scholes: 2·S·(2N(σ√t/2) − 1)
    spot, sigma, t = 100.0, 0.2, 1.0
    half = sigma * math.sqrt(t) / 2
    straddle = 2 * spot * math.erf(half / math.sqrt(2))
    # THEN straddle / (S σ √t) ≈ √(2/π)
    ratio = expected_move(spot, straddle).move / one_sigma_move(spot, sigma, t).move
    assert ratio == pytest.approx(math.sqrt(2 / math.pi), rel=5e-3)


def test_expected_move_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="spot"):
        expected_move(-1.0, 10.0)
    with pytest.raises(ValueError, match="straddle_price"):
        expected_move(100.0, float("nan"))
    with pytest.raises(ValueError, match="years"):
        one_sigma_move(100.0, 0.2, -1.0)


# -------------------------------------------------------------------------------------------- max pain


def test_max_pain_small_chain_by_hand() -> None:
    # GIVEN strikes 100/110/120, call OI 10/20/30, put OI 30/20/10
    # pain(100) = puts: 20·10 + 10·20 = 400                         → 400
    # pain(110) = calls: 10·10 = 100;  puts: 10·10 = 100             → 200
    # pain(120) = calls: 10·20 + 20·10 = 400                         → 400
    strikes, calls, puts = [100, 110, 120], [10, 20, 30], [30, 20, 10]
    curve = max_pain_curve(strikes, calls, puts)
    np.testing.assert_array_equal(curve.pain, [400.0, 200.0, 400.0])
    assert curve.max_pain_strike == 110.0
    assert max_pain(strikes, calls, puts) == 110.0
    assert max_pain_naive(strikes, calls, puts) == 110.0


def test_max_pain_accepts_unsorted_strikes() -> None:
    assert max_pain([120, 100, 110], [30, 10, 20], [10, 30, 20]) == 110.0
    curve = max_pain_curve([120, 100, 110], [30, 10, 20], [10, 30, 20])
    np.testing.assert_array_equal(curve.strikes, [100.0, 110.0, 120.0])


def test_max_pain_tie_goes_to_the_lowest_strike() -> None:
    # no open interest at all → every strike has pain 0
    assert max_pain([130, 110, 120], [0, 0, 0], [0, 0, 0]) == 110.0
    # symmetric chain: pain(100) = pain(110) = 10·10 = 100 (only OI: 10 puts at 110, 10 calls at 100)
    assert max_pain([100, 110], [10, 0], [0, 10]) == 100.0
    assert max_pain_naive([100, 110], [10, 0], [0, 10]) == 100.0


def test_max_pain_single_strike() -> None:
    assert max_pain([100], [5], [7]) == 100.0


@pytest.mark.parametrize(
    ("strikes", "calls", "puts", "message"),
    [
        ([100, 110], [1, 2, 3], [1, 2], "length mismatch"),
        ([], [], [], "empty"),
        ([100, 110], [1, -2], [1, 2], "negative"),
        ([100, 110], [1, 2], [float("nan"), 2], "NaN"),
        ([100, 100], [1, 2], [1, 2], "duplicates"),
        ([0, 100], [1, 2], [1, 2], "positive"),
    ],
)
def test_max_pain_rejects_bad_chains(
    strikes: list[float], calls: list[float], puts: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        max_pain(strikes, calls, puts)
    with pytest.raises(ValueError, match=message):
        max_pain_naive(strikes, calls, puts)


@st.composite
def integer_chains(draw: st.DrawFn) -> tuple[list[int], list[int], list[int]]:
    """Chains of integers small enough that every pain value is exact in float64 (ties exact)."""
    strikes = draw(st.lists(st.integers(1, 100_000), min_size=1, max_size=60, unique=True))
    size = len(strikes)
    calls = draw(st.lists(st.integers(0, 1_000_000), min_size=size, max_size=size))
    puts = draw(st.lists(st.integers(0, 1_000_000), min_size=size, max_size=size))
    return strikes, calls, puts


def _pain_by_definition(strikes: np.ndarray, calls: np.ndarray, puts: np.ndarray) -> np.ndarray:
    """pain(P) for P over the sorted strikes, straight from the definition (an n × n matrix)."""
    settle = np.sort(strikes)[:, None]
    pain: np.ndarray = (calls * np.maximum(settle - strikes, 0) + puts * np.maximum(strikes - settle, 0)).sum(
        axis=1
    )
    return pain


@settings(max_examples=300, deadline=None)
@given(integer_chains())
def test_max_pain_equals_the_naive_definition_on_integer_chains(
    chain: tuple[list[int], list[int], list[int]],
) -> None:
    strikes, calls, puts = chain
    assert max_pain(strikes, calls, puts) == max_pain_naive(strikes, calls, puts)
    expected = _pain_by_definition(np.array(strikes), np.array(calls), np.array(puts))
    np.testing.assert_array_equal(max_pain_curve(strikes, calls, puts).pain, expected)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(1.0, 50_000.0),
            st.floats(0.0, 1e7, allow_subnormal=False),
            st.floats(0.0, 1e7, allow_subnormal=False),
        ),
        min_size=1,
        max_size=60,
        unique_by=lambda row: row[0],
    )
)
def test_max_pain_curve_matches_the_definition_on_float_chains(
    rows: list[tuple[float, float, float]],
) -> None:
    strikes, calls, puts = (np.array(column) for column in zip(*rows, strict=True))
    curve = max_pain_curve(strikes, calls, puts)
    expected = _pain_by_definition(strikes, calls, puts)
    # rounding error is of order ε·Σoi·(K_max − K_min) per step, not relative to the pain itself
    tolerance = 1e-12 * (float(calls.sum() + puts.sum()) * float(np.ptp(strikes)) + 1.0)
    np.testing.assert_allclose(curve.pain, expected, rtol=0, atol=tolerance)
    # the chosen strike is a minimiser of the exact pain, up to rounding
    chosen = expected[np.searchsorted(np.sort(strikes), curve.max_pain_strike)]
    assert chosen <= expected.min() + 2 * tolerance


def test_max_pain_on_ten_thousand_strikes_matches_naive() -> None:
    rng = np.random.default_rng(7)
    strikes = rng.permutation(np.arange(10_000) * 50.0 + 5_000.0)
    calls = rng.integers(0, 5_000_000, strikes.size).astype(float)
    puts = rng.integers(0, 5_000_000, strikes.size).astype(float)
    assert max_pain(strikes, calls, puts) == max_pain_naive(strikes, calls, puts)


# ------------------------------------------------------------------------------------------- build-up


@pytest.mark.parametrize(
    ("price_change", "oi_change", "label"),
    [
        (+1.0, +100, Buildup.LONG_BUILDUP),
        (-1.0, +100, Buildup.SHORT_BUILDUP),
        (+1.0, -100, Buildup.SHORT_COVERING),
        (-1.0, -100, Buildup.LONG_UNWINDING),
        (0.0, +100, Buildup.NEUTRAL),
        (+1.0, 0, Buildup.NEUTRAL),
        (0.0, 0, Buildup.NEUTRAL),
    ],
)
def test_oi_buildup_classification_table(price_change: float, oi_change: int, label: Buildup) -> None:
    result = oi_buildup([10.0], [10.0 + price_change], [1000], [1000 + oi_change])
    assert result.labels.tolist() == [label.value]
    assert result.price_change.tolist() == [price_change]
    assert result.oi_change.tolist() == [oi_change]


def test_oi_buildup_is_vectorised_over_strikes() -> None:
    result = oi_buildup(
        prev_price=[10.0, 10.0, 10.0, 10.0, 10.0],
        curr_price=[11.0, 9.0, 11.0, 9.0, 10.0],
        prev_oi=[100, 100, 100, 100, 100],
        curr_oi=[150, 150, 50, 50, 120],
    )
    assert result.labels.tolist() == [
        "LONG_BUILDUP",
        "SHORT_BUILDUP",
        "SHORT_COVERING",
        "LONG_UNWINDING",
        "NEUTRAL",
    ]
    np.testing.assert_array_equal(result.oi_change, [50, 50, -50, -50, 20])


def test_oi_buildup_tolerances_make_small_changes_neutral() -> None:
    result = oi_buildup([10.0, 10.0], [10.04, 10.5], [100, 100], [105, 105], price_tolerance=0.05)
    assert result.labels.tolist() == ["NEUTRAL", "LONG_BUILDUP"]


def test_oi_buildup_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="length mismatch"):
        oi_buildup([1.0], [1.0, 2.0], [1], [1])
    with pytest.raises(ValueError, match="negative"):
        oi_buildup([1.0], [1.0], [-1], [1])
    with pytest.raises(ValueError, match="NaN"):
        oi_buildup([float("nan")], [1.0], [1], [1])


def test_align_snapshots_matches_strikes_and_marks_new_ones_neutral() -> None:
    # GIVEN a previous snapshot with 100, 110 and 90 (90 then delisted) and a current one that adds 120
    aligned = align_snapshots(
        prev_strikes=[110, 90, 100],
        prev_price=[2.0, 9.0, 1.0],
        prev_oi=[10, 5, 10],
        curr_strikes=[120, 110, 100],
        curr_price=[5.0, 3.0, 0.5],
        curr_oi=[7, 8, 12],
    )
    # THEN rows follow the current strikes, ascending; 120 copies its current values
    np.testing.assert_array_equal(aligned.strikes, [100, 110, 120])
    np.testing.assert_array_equal(aligned.prev_price, [1.0, 2.0, 5.0])
    np.testing.assert_array_equal(aligned.curr_price, [0.5, 3.0, 5.0])
    np.testing.assert_array_equal(aligned.prev_oi, [10, 10, 7])
    np.testing.assert_array_equal(aligned.curr_oi, [12, 8, 7])
    assert aligned.is_new.tolist() == [False, False, True]
    labels = oi_buildup(aligned.prev_price, aligned.curr_price, aligned.prev_oi, aligned.curr_oi).labels
    assert labels.tolist() == ["SHORT_BUILDUP", "SHORT_COVERING", "NEUTRAL"]


def test_align_snapshots_with_disjoint_strikes_marks_everything_new() -> None:
    aligned = align_snapshots([200], [1.0], [1], [100, 110], [2.0, 3.0], [4, 5])
    assert aligned.is_new.tolist() == [True, True]
    np.testing.assert_array_equal(aligned.prev_oi, aligned.curr_oi)


# --------------------------------------------------------------------------------- support/resistance


def test_support_and_resistance_by_hand() -> None:
    strikes = [21400, 21300, 21500, 21600]
    call_oi = [500, 100, 900, 1200]  # resistance: 21600 (1200)
    put_oi = [800, 1100, 300, 50]  # support: 21300 (1100)
    levels = support_resistance(strikes, call_oi, put_oi, top_n=2)
    assert (levels.support, levels.resistance) == (21300.0, 21600.0)
    assert levels.supports.tolist() == [21300.0, 21400.0]
    assert levels.resistances.tolist() == [21600.0, 21500.0]


def test_support_resistance_ties_go_to_the_lower_strike() -> None:
    levels = support_resistance([120, 110, 100], [7, 7, 1], [3, 3, 3], top_n=3)
    assert levels.resistance == 110.0
    assert levels.resistances.tolist() == [110.0, 120.0, 100.0]
    assert levels.supports.tolist() == [100.0, 110.0, 120.0]


def test_support_is_nan_when_there_is_no_put_open_interest() -> None:
    levels = support_resistance([100, 110], [0, 5], [0, 0], top_n=5)
    assert math.isnan(levels.support)
    assert levels.supports.size == 0
    assert levels.resistances.tolist() == [110.0]


def test_support_resistance_rejects_bad_top_n() -> None:
    with pytest.raises(ValueError, match="top_n"):
        support_resistance([100], [1], [1], top_n=0)
