"""Market simulation: GBM statistics, strike ladders, the smile, and evolving option chains."""

from __future__ import annotations

import dataclasses
import itertools
import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltastream.domain.market import (
    ChainSnapshot,
    ChainState,
    evolve_chain,
    gbm_step,
    quote_bid_ask,
    simulate_gbm_path,
    smile_vol,
    strike_ladder,
)
from deltastream.domain.pricing import price
from deltastream.domain.products import PRODUCTS, Product, get_product

IST = ZoneInfo("Asia/Kolkata")
NIFTY_EXPIRY = date(2025, 11, 25)  # a Tuesday
NIFTY_NOW = datetime(2025, 11, 20, 10, 0, tzinfo=IST)  # five and a quarter days before the close
ONE_MINUTE_LATER = NIFTY_NOW + timedelta(minutes=1)


def _next_expiry_now(product: Product) -> tuple[date, datetime]:
    """An expiry about a week away and a moment during the session, for any catalogue product."""
    from deltastream.domain.expiries import upcoming_expiries

    now = datetime(2025, 11, 17, 11, 0, tzinfo=ZoneInfo(product.timezone))  # a Monday
    expiries = upcoming_expiries(product, now, 8)
    expiry = next(e for e in expiries if e - now.date() >= timedelta(days=4))
    return expiry, now


def _on_tick(prices: np.ndarray, tick: float) -> bool:
    ticks = prices / tick
    return bool(np.all(np.abs(ticks - np.round(ticks)) < 1e-6))


# --- GBM ----------------------------------------------------------------------------------------


def test_gbm_log_returns_have_the_exact_mean_and_variance() -> None:
    # GIVEN 200k one-day steps with drift, dividend yield and vol
    n, mu, q, sigma, dt = 200_000, 0.08, 0.02, 0.3, 1 / 252
    rng = np.random.default_rng(20251120)

    # WHEN stepped once from S = 100
    log_returns = np.log(gbm_step(np.full(n, 100.0), mu, sigma, dt, rng, q=q) / 100.0)

    # THEN ln(S1/S0) ~ N((μ − q − σ²/2)dt, σ²dt): 5-sigma bounds from the sampling distributions
    expected_mean = (mu - q - 0.5 * sigma**2) * dt
    expected_var = sigma**2 * dt
    mean_se = math.sqrt(expected_var / n)
    var_se = expected_var * math.sqrt(2 / (n - 1))
    assert abs(log_returns.mean() - expected_mean) < 5 * mean_se
    assert abs(log_returns.var(ddof=1) - expected_var) < 5 * var_se


def test_gbm_risk_neutral_step_is_a_martingale_after_carry() -> None:
    # E[S1] = S0·e^{(μ−q)dt}: the −σ²/2 makes this a true GBM, not arithmetic noise
    n, mu, q, sigma, dt = 200_000, 0.05, 0.01, 0.4, 0.25
    s1 = gbm_step(np.full(n, 100.0), mu, sigma, dt, np.random.default_rng(7), q=q)
    expected = 100.0 * math.exp((mu - q) * dt)
    se = expected * math.sqrt(math.expm1(sigma**2 * dt) / n)
    assert abs(s1.mean() - expected) < 5 * se


def test_gbm_is_reproducible_with_a_seed_and_vectorised_over_products() -> None:
    spots = np.array([25_000.0, 56_000.0, 230.0])
    vols = np.array([0.13, 0.15, 0.27])
    first = gbm_step(spots, 0.05, vols, 1 / (252 * 375), np.random.default_rng(42))
    second = gbm_step(spots, 0.05, vols, 1 / (252 * 375), np.random.default_rng(42))
    assert first.shape == (3,)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, gbm_step(spots, 0.05, vols, 1 / (252 * 375), np.random.default_rng(43)))


def test_gbm_with_zero_vol_is_the_deterministic_carry() -> None:
    s1 = gbm_step(100.0, 0.05, 0.0, 0.5, np.random.default_rng(0), q=0.01)
    assert float(s1) == pytest.approx(100.0 * math.exp(0.04 * 0.5), rel=1e-14)


def test_simulated_path_matches_successive_steps() -> None:
    # GIVEN a path and the same generator seed stepped manually
    path = simulate_gbm_path([100.0, 50.0], 0.03, [0.2, 0.5], 0.01, 50, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    spots = np.array([100.0, 50.0])
    manual = [spots]
    for _ in range(50):
        spots = gbm_step(spots, 0.03, np.array([0.2, 0.5]), 0.01, rng)
        manual.append(spots)
    # THEN they agree (up to the rounding of a cumulative sum vs products)
    assert path.shape == (51, 2)
    np.testing.assert_allclose(path, np.array(manual), rtol=1e-12)
    assert np.all(path > 0)


@pytest.mark.parametrize(
    ("S", "sigma", "dt"), [(0.0, 0.2, 0.1), (-1.0, 0.2, 0.1), (100.0, -0.2, 0.1), (100.0, 0.2, -0.1)]
)
def test_gbm_rejects_bad_inputs(S: float, sigma: float, dt: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        gbm_step(S, 0.05, sigma, dt, np.random.default_rng(0))


# --- strike ladder ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spot", "step", "expected_atm"),
    [(25_012.3, 50.0, 25_000.0), (25_025.0, 50.0, 25_050.0), (25_074.9, 50.0, 25_050.0), (229.4, 5.0, 230.0)],
)
def test_strike_ladder_is_centred_on_the_nearest_strike(
    spot: float, step: float, expected_atm: float
) -> None:
    strikes = strike_ladder(spot, step, 3)
    assert strikes.tolist() == [expected_atm + k * step for k in range(-3, 4)]


def test_strike_ladder_drops_non_positive_strikes() -> None:
    assert strike_ladder(12.0, 5.0, 4).tolist() == [5.0, 10.0, 15.0, 20.0, 25.0, 30.0]


def test_strike_ladder_fractional_steps_are_exact_decimals() -> None:
    assert strike_ladder(10.04, 0.1, 2).tolist() == [9.8, 9.9, 10.0, 10.1, 10.2]


@given(
    spot=st.floats(1.0, 1e6),
    step=st.sampled_from([0.5, 1.0, 2.5, 5.0, 50.0, 100.0]),
    n=st.integers(0, 30),
)
def test_strike_ladder_properties(spot: float, step: float, n: int) -> None:
    strikes = strike_ladder(spot, step, n)
    assert np.all(strikes > 0)
    assert np.all(np.diff(strikes) == pytest.approx(step))
    # the ATM strike is the nearest multiple of the step (halves round up), never below one step
    atm = max(math.floor(spot / step + 0.5), 1) * step
    assert abs(atm - spot) <= step / 2 + 1e-9 or atm == step
    assert atm in strikes
    # a full ladder wherever its lowest strike would be positive
    if atm - n * step > 0:
        assert strikes.size == 2 * n + 1
        assert strikes[n] == atm


@pytest.mark.parametrize(("spot", "step", "n"), [(0.0, 50.0, 5), (100.0, 0.0, 5), (100.0, 5.0, -1)])
def test_strike_ladder_rejects_bad_input(spot: float, step: float, n: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        strike_ladder(spot, step, n)


# --- smile --------------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["NIFTY", "BANKNIFTY", "SENSEX", "SPY", "QQQ"])
def test_index_smile_has_put_skew(symbol: str) -> None:
    # GIVEN strikes 5 % either side of spot, one month out
    product = get_product(symbol)
    spot = product.base_price
    low, atm, high = smile_vol(product, spot, [0.95 * spot, spot, 1.05 * spot], 1 / 12)
    # THEN the downside put wing carries more vol than the upside call wing
    assert low > atm
    assert low > high


def test_smile_atm_vol_is_near_the_product_base_vol() -> None:
    product = get_product("NIFTY")
    forward = product.base_price * math.exp((product.rate - product.dividend_yield) * 1.0)
    assert float(smile_vol(product, product.base_price, forward, 1.0)) == pytest.approx(
        product.volatility, rel=0.05
    )


def test_smile_term_structure_fades_to_the_base_level() -> None:
    # GIVEN NIFTY (negative short-dated premium: upward-sloping ATM term structure)
    product = get_product("NIFTY")
    ts = np.array([1 / 365, 7 / 365, 30 / 365, 1.0, 3.0])
    forwards = product.base_price * np.exp((product.rate - product.dividend_yield) * ts)
    atm = smile_vol(product, product.base_price, forwards, ts)
    assert np.all(np.diff(atm) > 0)
    assert atm[-1] == pytest.approx(product.volatility, rel=1e-3)
    # AND a stock with a positive premium slopes the other way
    aapl = get_product("AAPL")
    aapl_forwards = aapl.base_price * np.exp((aapl.rate - aapl.dividend_yield) * ts)
    assert np.all(np.diff(smile_vol(aapl, aapl.base_price, aapl_forwards, ts)) < 0)


@settings(max_examples=200)
@given(
    symbol=st.sampled_from(sorted(PRODUCTS)),
    log_moneyness=st.floats(-3.0, 3.0),
    t=st.floats(0.0, 5.0),
)
def test_smile_is_positive_and_bounded_everywhere(symbol: str, log_moneyness: float, t: float) -> None:
    product = get_product(symbol)
    vol = float(smile_vol(product, product.base_price, product.base_price * math.exp(log_moneyness), t))
    assert product.smile.vol_floor <= vol <= product.smile.vol_cap
    assert math.isfinite(vol)


def test_smile_broadcasts_strikes_against_expiries() -> None:
    product = get_product("SPY")
    strikes = strike_ladder(product.base_price, product.strike_step, 10)
    vols = smile_vol(product, product.base_price, strikes[None, :], np.array([[0.01], [0.1], [1.0]]))
    assert vols.shape == (3, strikes.size)


def test_smile_rejects_bad_input() -> None:
    product = get_product("NIFTY")
    with pytest.raises(ValueError, match="must be > 0"):
        smile_vol(product, 0.0, [25_000.0], 0.1)
    with pytest.raises(ValueError, match="must be > 0"):
        smile_vol(product, 25_000.0, [25_000.0], 0.1, atm_vol=0.0)
    with pytest.raises(ValueError, match="must be >= 0"):
        smile_vol(product, 25_000.0, [25_000.0], -0.1)


# --- quotes -------------------------------------------------------------------------------------


@given(
    theoretical=st.lists(st.floats(0.0, 5_000.0), min_size=1, max_size=50),
    tick=st.sampled_from([0.05, 0.01]),
    distance=st.floats(0.0, 6.0),
)
def test_bid_ask_bracket_the_price_on_ticks(theoretical: list[float], tick: float, distance: float) -> None:
    mid = np.array(theoretical)
    bid, ask = quote_bid_ask(mid, tick, distance)
    assert np.all(bid >= 0)
    assert np.all(ask - bid >= tick - 1e-9)
    assert np.all(bid <= mid + 1e-9)
    assert np.all(mid <= ask + 1e-9)
    assert _on_tick(bid, tick)
    assert _on_tick(ask, tick)


def test_spread_is_relatively_wider_for_cheap_and_far_options() -> None:
    bid, ask = quote_bid_ask([200.0, 2.0], 0.05)
    relative = (ask - bid) / np.array([200.0, 2.0])
    assert relative[1] > relative[0]
    near_bid, near_ask = quote_bid_ask(50.0, 0.05, 0.0)
    far_bid, far_ask = quote_bid_ask(50.0, 0.05, 3.0)
    assert far_ask - far_bid > near_ask - near_bid


# --- chains -------------------------------------------------------------------------------------


def _first_chain(seed: int = 11, spot: float = 25_012.3) -> tuple[ChainSnapshot, ChainState]:
    return evolve_chain(
        None, get_product("NIFTY"), spot, NIFTY_EXPIRY, NIFTY_NOW, np.random.default_rng(seed)
    )


@pytest.mark.parametrize("symbol", list(PRODUCTS))
def test_chain_quotes_bracket_the_theoretical_price_on_ticks(symbol: str) -> None:
    # GIVEN a freshly seeded chain for each product
    product = get_product(symbol)
    expiry, now = _next_expiry_now(product)
    snapshot, _ = evolve_chain(None, product, product.base_price, expiry, now, np.random.default_rng(5))

    # THEN the ladder is centred, and quotes bracket an independent BSM price at the smile vol
    n = product.strikes_each_side
    assert snapshot.strikes.size == 2 * n + 1
    assert snapshot.strikes[n] == strike_ladder(product.base_price, product.strike_step, 0)[0]
    vols = smile_vol(product, snapshot.spot, snapshot.strikes, snapshot.t)
    tick = product.tick_size
    for flag, side in (("c", snapshot.calls), ("p", snapshot.puts)):
        theo = price(flag, snapshot.spot, snapshot.strikes, snapshot.t, snapshot.r, vols, snapshot.q)
        assert np.all(side.bid <= theo + 1e-9)
        assert np.all(theo <= side.ask + 1e-9)
        assert np.all(side.bid >= 0)
        assert np.all(side.ask - side.bid >= tick - 1e-9)
        assert np.all((side.bid <= side.last) & (side.last <= side.ask))
        assert np.all(side.last >= tick - 1e-9)
        for quotes in (side.bid, side.ask, side.last):
            assert _on_tick(quotes, tick)
        assert np.all(side.oi >= 0)
        assert np.all(side.volume >= 0)
        assert side.oi.dtype == np.int64


def test_chain_snapshot_carries_market_inputs() -> None:
    snapshot, _ = _first_chain()
    product = get_product("NIFTY")
    assert (snapshot.product, snapshot.expiry, snapshot.spot) == ("NIFTY", NIFTY_EXPIRY, 25_012.3)
    assert (snapshot.r, snapshot.q) == (product.rate, product.dividend_yield)
    expected_t = (datetime(2025, 11, 25, 15, 30, tzinfo=IST) - NIFTY_NOW).total_seconds() / (365 * 86400)
    assert snapshot.t == pytest.approx(expected_t, rel=1e-12)


def test_seeded_open_interest_peaks_near_the_money_calls_above_puts_below() -> None:
    # Average many seeds to look through the lognormal noise
    call_oi = np.zeros(41)
    put_oi = np.zeros(41)
    for seed in range(40):
        snapshot, _ = _first_chain(seed=seed, spot=25_000.0)
        call_oi += snapshot.calls.oi
        put_oi += snapshot.puts.oi
    strikes = snapshot.strikes
    call_peak, put_peak = strikes[np.argmax(call_oi)], strikes[np.argmax(put_oi)]
    assert 25_000.0 < call_peak <= 25_600.0
    assert 24_400.0 <= put_peak < 25_000.0
    assert call_oi[20] > 5 * call_oi[0]  # ATM vs 1000 points in the money
    assert put_oi[20] > 5 * put_oi[-1]


def test_chain_is_reproducible_with_the_same_seed() -> None:
    first, first_state = _first_chain(seed=99)
    again, again_state = _first_chain(seed=99)
    later = NIFTY_NOW + timedelta(minutes=1)
    product = get_product("NIFTY")
    step_a, _ = evolve_chain(first_state, product, 25_040.0, NIFTY_EXPIRY, later, np.random.default_rng(1))
    step_b, _ = evolve_chain(again_state, product, 25_040.0, NIFTY_EXPIRY, later, np.random.default_rng(1))
    for a, b in ((first, again), (step_a, step_b)):
        for side_a, side_b in ((a.calls, b.calls), (a.puts, b.puts)):
            for field in dataclasses.fields(side_a):
                np.testing.assert_array_equal(getattr(side_a, field.name), getattr(side_b, field.name))


def _walk(n_steps: int, seed: int = 2024) -> list[ChainSnapshot]:
    """Snapshots one minute apart along a seeded GBM path of NIFTY."""
    product = get_product("NIFTY")
    rng = np.random.default_rng(seed)
    path = simulate_gbm_path(25_000.0, product.rate, product.volatility, 60 / (365 * 86400), n_steps, rng)
    snapshots = []
    state: ChainState | None = None
    for minute, spot in enumerate(path):
        now = NIFTY_NOW + timedelta(minutes=minute)
        snapshot, state = evolve_chain(state, product, float(spot), NIFTY_EXPIRY, now, rng)
        snapshots.append(snapshot)
    return snapshots


def test_volume_only_grows_and_oi_stays_non_negative_along_a_walk() -> None:
    snapshots = _walk(120)
    for before, after in itertools.pairwise(snapshots):
        common, i_before, i_after = np.intersect1d(before.strikes, after.strikes, return_indices=True)
        assert common.size > 0
        for side_before, side_after in ((before.calls, after.calls), (before.puts, after.puts)):
            assert np.all(side_after.volume[i_after] >= side_before.volume[i_before])
            assert np.all(side_after.oi >= 0)


def test_oi_changes_between_snapshots_near_the_money() -> None:
    first, state = _first_chain(spot=25_000.0)
    second, _ = evolve_chain(
        state,
        get_product("NIFTY"),
        25_010.0,
        NIFTY_EXPIRY,
        NIFTY_NOW + timedelta(minutes=1),
        np.random.default_rng(4),
    )
    near = slice(15, 26)
    assert np.any(second.calls.oi[near] != first.calls.oi[near])
    assert np.any(second.puts.oi[near] != first.puts.oi[near])
    assert np.sum(second.calls.volume[near]) > np.sum(first.calls.volume[near])


def test_recentred_ladder_keeps_oi_of_strikes_it_still_has_and_seeds_new_ones() -> None:
    # GIVEN a chain at 25,000 and a 300-point rally (the ladder shifts by six strikes)
    first, state = _first_chain(spot=25_000.0)
    second, next_state = evolve_chain(
        state,
        get_product("NIFTY"),
        25_300.0,
        NIFTY_EXPIRY,
        NIFTY_NOW + timedelta(minutes=1),
        np.random.default_rng(8),
    )
    # THEN the common strikes' OI moved by at most their new volume (a share of it opens/closes)
    assert second.strikes[0] == 24_300.0
    _, i_first, i_second = np.intersect1d(first.strikes, second.strikes, return_indices=True)
    assert i_first.size == 41 - 6
    for side_first, side_second in ((first.calls, second.calls), (first.puts, second.puts)):
        new_volume = side_second.volume[i_second] - side_first.volume[i_first]
        oi_change = np.abs(side_second.oi[i_second] - side_first.oi[i_first])
        assert np.all(oi_change <= new_volume)
    # AND the six new upside strikes got OI of their own, remembered in the state
    assert np.all(second.calls.oi[-6:] > 0)
    np.testing.assert_array_equal(next_state.strikes, second.strikes)
    np.testing.assert_array_equal(next_state.call_oi, second.calls.oi)


def test_rising_option_prices_favour_oi_build_up() -> None:
    # GIVEN many one-minute rallies of 0.5 %: call prices rise, put prices fall
    product = get_product("NIFTY")
    call_up = put_up = call_total = put_total = 0
    for seed in range(30):
        first, state = _first_chain(seed=seed, spot=25_000.0)
        second, _ = evolve_chain(
            state,
            product,
            25_125.0,
            NIFTY_EXPIRY,
            NIFTY_NOW + timedelta(minutes=1),
            np.random.default_rng(seed),
        )
        _, i_first, i_second = np.intersect1d(first.strikes, second.strikes, return_indices=True)
        call_change = second.calls.oi[i_second] - first.calls.oi[i_first]
        put_change = second.puts.oi[i_second] - first.puts.oi[i_first]
        call_up += int(np.sum(call_change > 0))
        put_up += int(np.sum(put_change > 0))
        call_total += int(np.sum(call_change != 0))
        put_total += int(np.sum(put_change != 0))
    # THEN calls mostly build up (long build-up) and puts mostly unwind (long unwinding)
    assert call_up / call_total > 0.7
    assert put_up / put_total < 0.4


def test_volume_resets_on_a_new_session() -> None:
    _, state = _first_chain(spot=25_000.0)
    next_day = NIFTY_NOW + timedelta(days=1)
    snapshot, _ = evolve_chain(
        state, get_product("NIFTY"), 25_000.0, NIFTY_EXPIRY, next_day, np.random.default_rng(1)
    )
    assert np.sum(snapshot.calls.volume) < np.sum(state.call_volume)


def test_chain_state_round_trips_through_a_record() -> None:
    _, state = _first_chain()
    restored = ChainState.from_record(state.as_record())
    for field in dataclasses.fields(state):
        np.testing.assert_array_equal(getattr(restored, field.name), getattr(state, field.name))


def test_snapshot_record_fields_follow_the_stream_schema() -> None:
    snapshot, _ = _first_chain()
    record = snapshot.as_record_fields()
    assert record["expiry"] == "2025-11-25"
    calls = record["calls"]
    assert isinstance(calls, list)
    assert len(calls) == snapshot.strikes.size
    assert set(calls[0]) == {"strike", "bid", "ask", "last", "volume", "oi"}
    assert isinstance(calls[0]["oi"], int)


def test_snapshot_arrays_are_read_only() -> None:
    snapshot, _ = _first_chain()
    with pytest.raises(ValueError, match="read-only"):
        snapshot.calls.oi[0] = -1


def test_chain_rejects_bad_input() -> None:
    product = get_product("NIFTY")
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="spot"):
        evolve_chain(None, product, 0.0, NIFTY_EXPIRY, NIFTY_NOW, rng)
    with pytest.raises(ValueError, match="timezone-aware"):
        evolve_chain(None, product, 25_000.0, NIFTY_EXPIRY, datetime(2025, 11, 20, 10, 0), rng)
    with pytest.raises(ValueError, match="closed"):
        evolve_chain(None, product, 25_000.0, NIFTY_EXPIRY, datetime(2025, 11, 25, 10, 0, tzinfo=UTC), rng)


def test_chain_prices_in_the_last_minute_before_expiry() -> None:
    # GIVEN 10 seconds before the close: t is floored to one minute, quotes stay finite
    now = datetime(2025, 11, 25, 15, 29, 50, tzinfo=IST)
    snapshot, _ = evolve_chain(
        None, get_product("NIFTY"), 25_000.0, NIFTY_EXPIRY, now, np.random.default_rng(0)
    )
    assert np.all(np.isfinite(snapshot.calls.ask))
    assert snapshot.t > 0
