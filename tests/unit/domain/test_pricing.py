"""Black-Scholes-Merton prices and Greeks against independent references.

References, not the code under test: J. C. Hull, *Options, Futures, and Other Derivatives*, 9th ed.
(Pearson, 2015) — Example 15.6 (§15.8), Example 17.1 (§17.4), the 20-week call of ch. 19 (§19.1,
Examples 19.1, 19.4, 19.6, 19.7 and §19.5 for theta); put-call parity; finite differences of
``price``; a scalar textbook implementation using ``math.erfc`` (tests/unit/domain/reference.py).
Hull prints values rounded to 2-4 significant digits, so those cases compare at half a unit of the
last printed digit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltastream.domain import pricing
from deltastream.domain.pricing import greeks, option_sign, price, price_and_greeks

from .reference import bsm_greeks, bsm_price

# --- Hull's published examples -----------------------------------------------------------------


def test_hull_example_15_6_call_and_put_on_a_non_dividend_stock() -> None:
    # GIVEN S0=42, K=40, r=10%, σ=20%, T=6 months (Hull 9th ed., Example 15.6: c = 4.76, p = 0.81)
    # WHEN priced
    call = price("c", 42.0, 40.0, 0.5, 0.10, 0.20)
    put = price("p", 42.0, 40.0, 0.5, 0.10, 0.20)
    # THEN they match the book to the cent
    assert call == pytest.approx(4.76, abs=0.005)
    assert put == pytest.approx(0.81, abs=0.005)


def test_hull_example_17_1_index_call_with_dividend_yield() -> None:
    # GIVEN an index at 930, K=900, r=8%, q=3%, σ=20%, T=2 months (Hull 9th ed., Example 17.1: c = 51.83)
    call = price("c", 930.0, 900.0, 2.0 / 12.0, 0.08, 0.20, q=0.03)
    assert call == pytest.approx(51.83, abs=0.005)


HULL_CH19: dict[str, Any] = {"flag": "c", "S": 49.0, "K": 50.0, "t": 20.0 / 52.0, "r": 0.05, "sigma": 0.20}


def test_hull_chapter_19_call_price_and_greeks_in_py_vollib_units() -> None:
    # GIVEN Hull's 20-week call: S0=49, K=50, r=5%, σ=20% (9th ed., ch. 19)
    g = greeks(**HULL_CH19)
    # THEN price $2.40 (§19.1); delta 0.522 (Ex. 19.1); gamma 0.066 (Ex. 19.4);
    # vega 12.1 per unit σ → 0.121 per vol point (Ex. 19.6); rho 8.91 per unit r → 0.0891 per 1 %
    # (Ex. 19.7); theta -4.31 per year → -4.31/365 per calendar day (§19.5)
    assert price(**HULL_CH19) == pytest.approx(2.40, abs=0.005)
    assert g["delta"] == pytest.approx(0.522, abs=0.0005)
    assert g["gamma"] == pytest.approx(0.066, abs=0.0005)
    assert g["vega"] == pytest.approx(0.121, abs=0.0005)
    assert g["rho"] == pytest.approx(0.0891, abs=0.00005)
    assert g["theta"] == pytest.approx(-4.31 / 365.0, abs=0.005 / 365.0)


def test_hull_section_15_11_implied_volatility() -> None:
    # GIVEN a call worth 1.875 with S0=21, K=20, r=10%, T=3 months (Hull 9th ed., §15.11: σ_imp = 23.5 %)
    sigma = pricing.implied_volatility(1.875, "c", 21.0, 20.0, 0.25, 0.10)
    assert sigma == pytest.approx(0.235, abs=0.0005)


# --- independent scalar reference --------------------------------------------------------------

CASES = [
    (flag, S, K, t, r, sigma, q)
    for flag in ("c", "p")
    for S in (80.0, 100.0, 125.0)
    for K in (70.0, 100.0, 140.0)
    for t in (7 / 365, 0.5, 3.0)
    for r in (-0.005, 0.065)
    for sigma in (0.08, 0.35, 1.2)
    for q in (0.0, 0.04)
]


def test_vectorised_price_and_greeks_match_the_scalar_textbook_reference() -> None:
    # GIVEN 648 options across moneyness, expiry, rates, vols and dividend yields, evaluated at once
    flags, S, K, t, r, sigma, q = (np.array(column) for column in zip(*CASES, strict=True))
    values = price_and_greeks(flags, S, K, t, r, sigma, q)
    # THEN every one equals the one-at-a-time math.erfc implementation
    for i, case in enumerate(CASES):
        assert values["price"][i] == pytest.approx(bsm_price(*case), rel=1e-12, abs=1e-12)
        for name, expected in bsm_greeks(*case).items():
            assert values[name][i] == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, case)


def test_put_call_parity_with_a_dividend_yield() -> None:
    # GIVEN calls and puts on the same grid, c - p = S e^{-qt} - K e^{-rt}
    S, K, t, r, sigma, q = np.meshgrid(
        [50.0, 100.0], [40.0, 100.0, 180.0], [0.01, 1.0, 4.0], [0.0, 0.07], [0.1, 0.9], [0.0, 0.05]
    )
    parity = S * np.exp(-q * t) - K * np.exp(-r * t)
    difference = price("c", S, K, t, r, sigma, q) - price("p", S, K, t, r, sigma, q)
    np.testing.assert_allclose(difference, parity, rtol=0, atol=1e-11)
    # and the Greeks obey the differentiated parity: Δc - Δp = e^{-qt}, Γc = Γp, vega_c = vega_p
    gc, gp = greeks("c", S, K, t, r, sigma, q), greeks("p", S, K, t, r, sigma, q)
    np.testing.assert_allclose(gc["delta"] - gp["delta"], np.exp(-q * t), atol=1e-14)
    np.testing.assert_allclose(gc["gamma"], gp["gamma"], rtol=1e-12)
    np.testing.assert_allclose(gc["vega"], gp["vega"], rtol=1e-12)


# --- Greeks against finite differences of price ------------------------------------------------


@pytest.mark.parametrize("flag", ["c", "p"])
@pytest.mark.parametrize(
    ("S", "K", "t", "r", "sigma", "q"),
    [
        (100, 90, 0.25, 0.05, 0.25, 0.02),
        (100, 120, 2.0, 0.01, 0.5, 0.0),
        (21500, 21600, 6 / 365, 0.065, 0.13, 0.0),
    ],
)
def test_greeks_equal_central_finite_differences_of_price(
    flag: str, S: float, K: float, t: float, r: float, sigma: float, q: float
) -> None:
    g = greeks(flag, S, K, t, r, sigma, q)

    def p(**bump: float) -> float:
        args = {"S": S, "K": K, "t": t, "r": r, "sigma": sigma, "q": q} | bump
        return float(price(flag, **args))

    hS, hv, ht, hr = S * 1e-5, 1e-5, min(t * 1e-4, 1e-5), 1e-6
    delta = (p(S=S + hS) - p(S=S - hS)) / (2 * hS)
    gamma = (p(S=S + hS) - 2 * p() + p(S=S - hS)) / hS**2
    vega = (p(sigma=sigma + hv) - p(sigma=sigma - hv)) / (2 * hv) * 0.01
    theta = -(p(t=t + ht) - p(t=t - ht)) / (2 * ht) / 365.0  # per calendar day, time passing
    rho = (p(r=r + hr) - p(r=r - hr)) / (2 * hr) * 0.01
    assert g["delta"] == pytest.approx(delta, rel=1e-6, abs=1e-9)
    assert g["gamma"] == pytest.approx(gamma, rel=1e-4, abs=1e-9)
    assert g["vega"] == pytest.approx(vega, rel=1e-6, abs=1e-9)
    assert g["theta"] == pytest.approx(theta, rel=1e-5, abs=1e-9)
    assert g["rho"] == pytest.approx(rho, rel=1e-6, abs=1e-9)


# --- flags, broadcasting, degenerate and invalid inputs ---------------------------------------


def test_flags_as_letters_either_case_arrays_or_signs_agree() -> None:
    args = (100.0, [90.0, 110.0], 0.5, 0.03, 0.2)
    expected = np.array([price("c", 100.0, 90.0, 0.5, 0.03, 0.2), price("p", 100.0, 110.0, 0.5, 0.03, 0.2)])
    for flag in (["c", "p"], ["C", "P"], np.array(["c", "p"]), [1, -1], np.array([1.0, -1.0])):
        np.testing.assert_array_equal(price(flag, *args), expected)


@pytest.mark.parametrize("bad", ["x", "call?", ["c", "q"], [1, 0], [2.0]])
def test_unknown_flags_are_rejected_with_a_message_naming_them(bad: object) -> None:
    with pytest.raises(ValueError, match="flag"):
        option_sign(bad)  # type: ignore[arg-type]


def test_every_argument_broadcasts() -> None:
    # GIVEN strikes down one axis and expiries across the other
    K = np.array([[90.0], [100.0], [110.0]])
    t = np.array([[0.1, 0.5, 1.0, 2.0]])
    values = price_and_greeks("c", 100.0, K, t, 0.05, 0.2)
    assert all(v.shape == (3, 4) for v in values.values())
    assert values["price"][1, 2] == pytest.approx(bsm_price("c", 100.0, 100.0, 1.0, 0.05, 0.2), rel=1e-12)


def test_large_inputs_spread_over_blocks_equal_small_ones() -> None:
    # GIVEN 50,000 options: evaluated in blocks (and threads); each equals its own one-option evaluation
    rng = np.random.default_rng(7)
    n = 50_000
    K = rng.uniform(60, 140, n)
    t = rng.uniform(0.01, 2.0, n)
    sigma = rng.uniform(0.1, 0.6, n)
    flags = np.where(rng.random(n) < 0.5, "c", "p")
    values = price_and_greeks(flags, 100.0, K, t, 0.05, sigma, 0.01)
    for i in rng.choice(n, 200, replace=False):
        one = price_and_greeks(flags[i], 100.0, K[i], t[i], 0.05, sigma[i], 0.01)
        for name, value in one.items():
            assert values[name][i] == value, name


def test_zero_volatility_or_expiry_gives_the_discounted_intrinsic_value_of_the_forward() -> None:
    S, K, t, r, q = 100.0, np.array([90.0, 100.0 * np.exp(0.04), 110.0]), 1.0, 0.05, 0.01
    forward_intrinsic = np.maximum(S * np.exp(-q * t) - K * np.exp(-r * t), 0.0)
    np.testing.assert_allclose(price("c", S, K, t, r, 0.0, q), forward_intrinsic, atol=1e-12)
    g = greeks("c", S, K, t, r, 0.0, q)
    np.testing.assert_array_equal(g["gamma"], 0.0)
    assert g["delta"][0] == pytest.approx(np.exp(-q * t))
    assert g["delta"][2] == 0.0
    # at expiry, an option is its intrinsic value
    np.testing.assert_allclose(price("p", 100.0, [90.0, 110.0], 0.0, 0.05, 0.3), [0.0, 10.0], atol=1e-12)


@pytest.mark.parametrize(
    ("S", "K", "t", "sigma"), [(100, 100, 1, -0.2), (100, 100, -1, 0.2), (-5, 100, 1, 0.2)]
)
def test_meaningless_inputs_give_nan_without_raising_or_warning(
    S: float, K: float, t: float, sigma: float
) -> None:
    values = price_and_greeks("c", S, K, t, 0.05, sigma)
    assert all(np.isnan(v) for v in values.values())


def test_small_batches_are_fast_enough_to_call_per_chain() -> None:
    # Not a timing test: checks the small-input path returns arrays of the input's shape.
    values = price_and_greeks("p", 100.0, np.linspace(80, 120, 100), 0.1, 0.05, 0.25)
    assert values["price"].shape == (100,)


# --- properties (hypothesis) -------------------------------------------------------------------

# (bounded floats: hypothesis never draws NaN or infinities for them)
spots = st.floats(1.0, 1e4)
moneyness = st.floats(0.2, 5.0)
expiries = st.floats(1 / 365, 5.0)
rates = st.floats(-0.01, 0.15)
vols = st.floats(0.01, 2.0)
yields = st.floats(0.0, 0.08)


@settings(max_examples=300, deadline=None)
@given(flag=st.sampled_from("cp"), S=spots, m=moneyness, t=expiries, r=rates, sigma=vols, q=yields)
def test_price_lies_within_no_arbitrage_bounds(
    flag: str, S: float, m: float, t: float, r: float, sigma: float, q: float
) -> None:
    K = S * m
    value = float(price(flag, S, K, t, r, sigma, q))
    S_disc, K_disc = S * np.exp(-q * t), K * np.exp(-r * t)
    lower = max(S_disc - K_disc, 0.0) if flag == "c" else max(K_disc - S_disc, 0.0)
    upper = S_disc if flag == "c" else K_disc
    tolerance = 1e-12 * max(S, K)
    assert lower - tolerance <= value <= upper + tolerance


@settings(max_examples=200, deadline=None)
@given(S=spots, m=moneyness, t=expiries, r=rates, sigma=vols, q=yields, bump=st.floats(1.001, 1.5))
def test_prices_move_the_right_way_in_spot_strike_and_volatility(
    S: float, m: float, t: float, r: float, sigma: float, q: float, bump: float
) -> None:
    K = S * m
    call, put = (float(price(f, S, K, t, r, sigma, q)) for f in "cp")
    slack = 1e-9 * max(S, K)
    assert float(price("c", S * bump, K, t, r, sigma, q)) >= call - slack
    assert float(price("p", S * bump, K, t, r, sigma, q)) <= put + slack
    assert float(price("c", S, K * bump, t, r, sigma, q)) <= call + slack
    assert float(price("p", S, K * bump, t, r, sigma, q)) >= put - slack
    assert float(price("c", S, K, t, r, sigma * bump, q)) >= call - slack
    assert float(price("p", S, K, t, r, sigma * bump, q)) >= put - slack


@settings(max_examples=200, deadline=None)
@given(flag=st.sampled_from("cp"), S=spots, m=moneyness, t=expiries, r=rates, sigma=vols, q=yields)
def test_greeks_have_their_textbook_signs_and_ranges(
    flag: str, S: float, m: float, t: float, r: float, sigma: float, q: float
) -> None:
    g = greeks(flag, S, S * m, t, r, sigma, q)
    eq = np.exp(-q * t)
    if flag == "c":
        assert -1e-15 <= g["delta"] <= eq + 1e-15
        assert g["rho"] >= 0.0
    else:
        assert -eq - 1e-15 <= g["delta"] <= 1e-15
        assert g["rho"] <= 0.0
    assert g["gamma"] >= 0.0
    assert g["vega"] >= 0.0
