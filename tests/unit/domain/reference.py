"""A slow, scalar Black-Scholes-Merton written straight from the textbook formulas.

It uses ``math.erfc`` rather than scipy, one option at a time, so that the vectorised code in
``deltastream.domain.pricing`` is checked against an independent implementation (the py_vollib way:
a reference beside the fast one). Formulas: Hull, *Options, Futures, and Other Derivatives*, 9th ed.,
eq. 17.4-17.5 (BSM with a dividend yield) and Table 19.6 / ch. 19 (Greeks).
"""

from __future__ import annotations

import math


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def d1_d2(S: float, K: float, t: float, r: float, sigma: float, q: float) -> tuple[float, float]:
    d1 = (math.log(S / K) + (r - q + 0.5 * sigma**2) * t) / (sigma * math.sqrt(t))
    return d1, d1 - sigma * math.sqrt(t)


def bsm_price(flag: str, S: float, K: float, t: float, r: float, sigma: float, q: float = 0.0) -> float:
    d1, d2 = d1_d2(S, K, t, r, sigma, q)
    if flag == "c":
        return S * math.exp(-q * t) * norm_cdf(d1) - K * math.exp(-r * t) * norm_cdf(d2)
    return K * math.exp(-r * t) * norm_cdf(-d2) - S * math.exp(-q * t) * norm_cdf(-d1)


def bsm_greeks(
    flag: str, S: float, K: float, t: float, r: float, sigma: float, q: float = 0.0
) -> dict[str, float]:
    """py_vollib's analytical conventions: vega per vol point, theta per calendar day, rho per 1 %."""
    d1, d2 = d1_d2(S, K, t, r, sigma, q)
    eq, er = math.exp(-q * t), math.exp(-r * t)
    gamma = eq * norm_pdf(d1) / (S * sigma * math.sqrt(t))
    vega = S * eq * norm_pdf(d1) * math.sqrt(t) / 100.0
    decay = S * eq * norm_pdf(d1) * sigma / (2.0 * math.sqrt(t))
    if flag == "c":
        delta = eq * norm_cdf(d1)
        theta = (-decay - r * K * er * norm_cdf(d2) + q * S * eq * norm_cdf(d1)) / 365.0
        rho = K * t * er * norm_cdf(d2) / 100.0
    else:
        delta = -eq * norm_cdf(-d1)
        theta = (-decay + r * K * er * norm_cdf(-d2) - q * S * eq * norm_cdf(-d1)) / 365.0
        rho = -K * t * er * norm_cdf(-d2) / 100.0
    return {"delta": delta, "gamma": gamma, "vega": vega, "theta": theta, "rho": rho}
