"""Reproducible synthetic inputs shared by the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

SEED = 20_240_501
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, slots=True)
class Options:
    """A book of European options in py_vollib's argument order (flag, S, K, t, r, sigma, q)."""

    flag: NDArray[np.str_]
    S: FloatArray
    K: FloatArray
    t: FloatArray
    r: FloatArray
    sigma: FloatArray
    q: FloatArray

    def __len__(self) -> int:
        return int(self.K.size)

    def pricing_args(
        self,
    ) -> tuple[NDArray[np.str_], FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """(flag, S, K, t, r, sigma): pass ``q`` separately (its position differs between APIs)."""
        return self.flag, self.S, self.K, self.t, self.r, self.sigma


DESCRIPTION = "S=100, K~U(60,140), t~U(7d,2y), sigma~U(0.10,0.60), r~U(0,6%), q~U(0,3%), calls/puts 50/50"


def make_options(n: int, seed: int = SEED) -> Options:
    """``n`` realistic equity options around spot 100 (see :data:`DESCRIPTION`)."""
    rng = np.random.default_rng(seed)
    return Options(
        flag=rng.choice(np.array(["c", "p"]), n),
        S=np.full(n, 100.0),
        K=rng.uniform(60.0, 140.0, n),
        t=rng.uniform(7.0 / DAYS_PER_YEAR, 2.0, n),
        r=rng.uniform(0.0, 0.06, n),
        sigma=rng.uniform(0.10, 0.60, n),
        q=rng.uniform(0.0, 0.03, n),
    )


@dataclass(frozen=True, slots=True)
class Chain:
    """One expiry's open interest per strike (strikes ascending, as a feed delivers them)."""

    strikes: FloatArray
    call_oi: FloatArray
    put_oi: FloatArray


def make_chain(n: int, seed: int = SEED) -> Chain:
    """``n`` strikes spread evenly over 50-150 with random whole-contract OI, calls heavier above
    spot 100 and puts heavier below, so the max-pain strike is an interior one."""
    rng = np.random.default_rng(seed)
    strikes = np.linspace(50.0, 150.0, n)
    call_oi = np.floor(rng.uniform(0.0, 5_000.0, n) * (1.0 + (strikes > 100.0)))
    put_oi = np.floor(rng.uniform(0.0, 5_000.0, n) * (1.0 + (strikes < 100.0)))
    return Chain(strikes=strikes, call_oi=call_oi, put_oi=put_oi)
