"""API Gateway's 128 KB WebSocket message limit, and how a chain is reduced to fit it.

A message over the limit is refused by ``PostToConnection`` (413), so it must be cut before it is
sent. A full enriched chain (41 strikes ≈ 18 KB) fits with room to spare; a wide ladder may not. The
reduction keeps what a screen shows first: the strikes around the money. Steps, each tried until the
message fits: the chain restricted to ATM ± N strikes for N in :data:`STRIKE_WINDOWS` (quotes and
build-up alike, all analytics fields kept), then the chain's summary alone. The data says what was
done (``"reduced": {"strikes_kept", "strikes_total"}`` or ``{"to": "summary", ...}``), so a client
never mistakes a cut chain for the full one; the caller logs it and counts it (``MessagesReduced``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from deltastream.ws.protocol import encode_event

MAX_MESSAGE_BYTES: Final = 128 * 1024  # API Gateway WebSocket: 128 KB per message
STRIKE_WINDOWS: Final = (50, 25, 10, 5)  # ATM ± N strikes, widest first

# The summary of an enriched chain: what the enrichment caches as ds:latest:summary (a test checks
# these are the same fields) — small enough to go to every connection in "general".
SUMMARY_FIELDS: Final = (
    "product", "expiry", "tick_id", "ts", "spot", "pcr_oi", "pcr_volume", "total_call_oi",
    "total_put_oi", "atm_strike", "atm_iv", "atm_straddle", "expected_move", "max_pain_strike",
    "support", "resistance", "iv_rank", "iv_percentile",
)  # fmt: skip
_PER_STRIKE: Final = ("strikes", "calls", "puts", "buildup")


def chain_summary(chain: Mapping[str, Any]) -> dict[str, Any]:
    """The summary fields of an enriched chain (absent ones are left out)."""
    return {name: chain[name] for name in SUMMARY_FIELDS if name in chain}


@dataclass(frozen=True, slots=True)
class Fitted:
    payload: bytes  # the encoded message, ≤ the limit unless ``oversize``
    reduction: str | None = None  # None: sent whole; "atm±N" or "summary"
    oversize: bool = False  # not even the smallest form fits (never for a chain; logged by callers)


def window_around_atm(chain: Mapping[str, Any], half_width: int) -> dict[str, Any]:
    """The chain restricted to the ``2·half_width + 1`` strikes centred on its ATM strike."""
    strikes = chain.get("strikes") or [q["strike"] for q in chain.get("calls", [])]
    total = len(strikes)
    atm = chain.get("atm_strike")
    centre = min(bisect_left(strikes, atm), total - 1) if atm is not None and total else total // 2
    start = max(0, min(centre - half_width, total - (2 * half_width + 1)))
    rows = slice(start, start + 2 * half_width + 1)
    cut = dict(chain)
    for name in _PER_STRIKE:
        if isinstance(chain.get(name), list):
            cut[name] = chain[name][rows]
    cut["reduced"] = {"strikes_kept": len(strikes[rows]), "strikes_total": total}
    return cut


def _same(chain: Mapping[str, Any]) -> Any:
    return chain


def fit_chain_event(
    event: str,
    chain: Mapping[str, Any],
    limit: int = MAX_MESSAGE_BYTES,
    wrap: Callable[[Mapping[str, Any]], Any] = _same,
) -> Fitted:
    """``{"event": event, "data": wrap(chain)}`` encoded, the chain reduced step by step until the
    message fits ``limit`` (``wrap`` places the chain in the data, e.g. as a subscribe snapshot)."""
    payload = encode_event(event, wrap(chain))
    if len(payload) <= limit:
        return Fitted(payload)
    total = len(chain.get("strikes") or chain.get("calls") or [])
    for half_width in STRIKE_WINDOWS:
        if 2 * half_width + 1 >= total:
            continue
        payload = encode_event(event, wrap(window_around_atm(chain, half_width)))
        if len(payload) <= limit:
            return Fitted(payload, f"atm±{half_width}")
    summary = chain_summary(chain) | {"reduced": {"to": "summary", "strikes_total": total}}
    payload = encode_event(event, wrap(summary))
    return Fitted(payload, "summary", oversize=len(payload) > limit)


def is_chain(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("calls"), list)


def fit_event(event: str, data: Any, limit: int = MAX_MESSAGE_BYTES) -> Fitted:
    """Any event, encoded; a chain is reduced to fit, anything else over the limit comes back
    ``oversize`` for the caller to log and count."""
    if is_chain(data):
        return fit_chain_event(event, data, limit)
    payload = encode_event(event, data)
    return Fitted(payload, oversize=len(payload) > limit)
