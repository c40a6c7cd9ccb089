"""The live board of one product, drawn as text: pure, so tests compare strings.

:class:`Board` folds server events into the latest state; :func:`render` turns it into lines;
:func:`frame` wraps them in the ANSI sequences that redraw the terminal in place (cursor home, clear
each line's tail, clear below) — no curses needed.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

HOME: Final = "\x1b[H"
CLEAR_LINE: Final = "\x1b[K"
CLEAR_BELOW: Final = "\x1b[J"
HIDE_CURSOR: Final = "\x1b[?25l"
SHOW_CURSOR: Final = "\x1b[?25h"
STRIKES_EACH_SIDE: Final = 5


@dataclass
class Board:
    """What the screen shows for ``symbol``: the newest underlying, chain (nearest expiry) and summary."""

    symbol: str
    underlying: dict[str, Any] | None = None
    chains: dict[str, dict[str, Any]] = field(default_factory=dict)  # expiry → newest chain
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # expiry → newest summary
    status: str = "connecting"
    errors: list[str] = field(default_factory=list)

    def apply(self, event: str, data: Any) -> bool:
        """Fold one server event in; True when the screen changed."""
        if event == "subscribed" and isinstance(data, Mapping):
            snapshot = data.get("snapshot")
            if isinstance(snapshot, Mapping):
                room = str(data.get("room", ""))
                return self.apply(
                    "chain_update" if room.startswith("chain:") else "underlying_update", snapshot
                )
            return False
        if event == "error" and isinstance(data, Mapping):
            self.errors = [*self.errors[-2:], f"{data.get('code')}: {data.get('message')}"]
            return True
        if not isinstance(data, Mapping) or data.get("product") != self.symbol:
            return False
        if event == "underlying_update":
            return self._newer("underlying", data)
        if event in ("chain_update", "chain_summary"):
            expiry = data.get("expiry")
            if not isinstance(expiry, str):
                return False
            store = self.chains if event == "chain_update" and "calls" in data else self.summaries
            current = store.get(expiry)
            if current is not None and current.get("tick_id", -1) > data.get("tick_id", -1):
                return False
            store[expiry] = dict(data)
            return True
        return False

    def _newer(self, name: str, data: Mapping[str, Any]) -> bool:
        current = getattr(self, name)
        if current is not None and current.get("tick_id", -1) > data.get("tick_id", -1):
            return False
        setattr(self, name, dict(data))
        return True

    @property
    def nearest_expiry(self) -> str | None:
        expiries = sorted({*self.chains, *self.summaries})
        return expiries[0] if expiries else None


def _number(value: Any, digits: int = 2) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "-"
    return f"{value:,.{digits}f}"


def _percent(value: Any) -> str:
    return "-" if not isinstance(value, int | float) else f"{100 * value:.1f}%"


def _underlying_lines(board: Board) -> list[str]:
    tick = board.underlying
    if tick is None:
        return [f"{board.symbol}  waiting for the first price…"]
    price = float(tick["price"])
    bars = tick.get("ohlc") or {}
    session_open = (bars.get("15m") or {}).get("open")
    line = f"{board.symbol}  {_number(price)}"
    if isinstance(session_open, int | float) and session_open:
        change = price - session_open
        arrow = "▲" if change > 0 else "▼" if change < 0 else "·"
        line += f"  {arrow} {change:+,.2f} ({100 * change / session_open:+.2f}%) over 15m"
    line += f"   tick {tick.get('tick_id')}  {tick.get('ts', '')}"
    lines = [line]
    bar = bars.get("1m")
    if isinstance(bar, Mapping):
        lines.append(
            f"1m   O {_number(bar.get('open'))}  H {_number(bar.get('high'))}  "
            f"L {_number(bar.get('low'))}  C {_number(bar.get('close'))}"
        )
    return lines


def _chain_lines(board: Board) -> list[str]:
    expiry = board.nearest_expiry
    if expiry is None:
        return ["chain: waiting for the first snapshot…"]
    chain = board.chains.get(expiry)
    summary = board.summaries.get(expiry) or chain or {}
    lines = [
        f"expiry {expiry}   PCR(OI) {_number(summary.get('pcr_oi'))}   max pain "
        f"{_number(summary.get('max_pain_strike'), 0)}   ATM {_number(summary.get('atm_strike'), 0)}   "
        f"ATM IV {_percent(summary.get('atm_iv'))}"
    ]
    if chain is None:
        return lines
    strikes = [float(q["strike"]) for q in chain["calls"]]
    if not strikes:
        return lines
    atm = float(chain.get("atm_strike") or strikes[len(strikes) // 2])
    centre = min(bisect_left(strikes, atm), len(strikes) - 1)
    rows = range(max(0, centre - STRIKES_EACH_SIDE), min(len(strikes), centre + STRIKES_EACH_SIDE + 1))
    side = f"{'bid':>9} {'ask':>9} {'IV':>6} {'OI':>9}"
    header = f"{side} │ {'STRIKE':^9} │ {side}"
    lines += [f"{'CALLS':^36}   {'':9}   {'PUTS':^36}", header, "─" * len(header)]
    for i in rows:
        call, put = chain["calls"][i], chain["puts"][i]
        marker = "*" if strikes[i] == atm else " "
        lines.append(
            f"{_number(call.get('bid')):>9} {_number(call.get('ask')):>9} {_percent(call.get('iv')):>6} "
            f"{_number(call.get('oi'), 0):>9} │{marker}{_number(strikes[i], 0):^8}{marker}│ "
            f"{_number(put.get('bid')):>9} {_number(put.get('ask')):>9} {_percent(put.get('iv')):>6} "
            f"{_number(put.get('oi'), 0):>9}"
        )
    reduced = chain.get("reduced")
    if isinstance(reduced, Mapping):
        lines.append(
            f"(server sent {reduced.get('strikes_kept', 'a summary of')} "
            f"of {reduced.get('strikes_total')} strikes)"
        )
    return lines


def render(board: Board, *, chain: bool) -> list[str]:
    """The board's lines (no ANSI)."""
    lines = _underlying_lines(board)
    if chain:
        lines += ["", *_chain_lines(board)]
    lines += ["", f"[{board.status}]  Ctrl-C to quit", *board.errors]
    return lines


def frame(lines: list[str]) -> str:
    """``lines`` as one write that redraws the terminal in place."""
    return HOME + "".join(f"{line}{CLEAR_LINE}\n" for line in lines) + CLEAR_BELOW
