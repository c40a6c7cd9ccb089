"""Peers for the benchmarks, with the small workaround py_vollib_vectorized needs today.

py_vollib_vectorized 0.1.1 (and py_lets_be_rational 1.1.2) JIT-compile two self-recursive functions,
``normalised_black_call`` and ``black``, which map an in-the-money option to the out-of-the-money one
by calling themselves once. Current numba cannot type that recursion ("cannot type infer runaway
recursion"; see vollib/py_vollib#35 and marcdemers/py_vollib_vectorized), so every price, Greek and
implied-volatility call fails. The recursive call only ever runs with the out-of-the-money branch,
so we compile each function a second time with its own name bound to a stub, and give the modules a
non-recursive wrapper that does the ITM→OTM mapping itself. The numerics are the peer's, untouched.
"""

from __future__ import annotations

import types
from typing import Any

_patched = False


def _rebind(func: Any, name: str, target: Any) -> Any:
    """A jitted copy of ``func`` (a numba dispatcher or, where py_lets_be_rational chose not to jit,
    a plain function) whose global ``name`` is ``target``."""
    import numba

    py_func = getattr(func, "py_func", func)
    new_globals = dict(py_func.__globals__)
    new_globals[name] = target
    clone = types.FunctionType(py_func.__code__, new_globals, py_func.__name__, py_func.__defaults__)
    return numba.njit(clone)


def load_py_vollib_vectorized() -> Any:
    """Import py_vollib_vectorized with the recursion workaround applied (idempotent)."""
    global _patched
    import numba
    import numpy as np
    import py_lets_be_rational.lets_be_rational as lbr
    import py_vollib_vectorized as pvv
    from py_vollib_vectorized import _iv_models, _model_calls, _numerical_greeks

    if _patched:
        return pvv

    @numba.njit
    def _unreachable(*args: float) -> float:
        return np.nan

    for module in (lbr, _model_calls):
        otm_only = _rebind(module.normalised_black_call, "normalised_black_call", _unreachable)
        intrinsic = module._normalised_intrinsic_call

        @numba.njit
        def normalised_black_call(x: float, s: float, _otm: Any = otm_only, _intr: Any = intrinsic) -> float:
            if x > 0:
                return _intr(x) + _otm(-x, s)
            return _otm(x, s)

        module.normalised_black_call = normalised_black_call
    _iv_models.normalised_black_call = lbr.normalised_black_call

    black_otm = _rebind(_model_calls.black, "black", _unreachable)

    @numba.njit
    def black(F: float, K: float, sigma: float, T: float, q: float) -> float:
        if q * (F - K) > 0:
            return abs(max(K - F if q < 0 else F - K, 0.0)) + black_otm(F, K, sigma, T, -q)
        return black_otm(F, K, sigma, T, q)

    _model_calls.black = black
    _numerical_greeks.black = black
    _patched = True
    return pvv
