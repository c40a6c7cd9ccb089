"""Redis key names are a contract between separately deployed functions: they must not drift."""

from __future__ import annotations

import pytest

from deltastream.adapters import redis_keys as keys


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (keys.feed_tick_id("NIFTY"), "ds:feed:tick_id:NIFTY"),
        (keys.feed_state("NIFTY"), "ds:feed:state:NIFTY"),
        (keys.FEED_LEASE, "ds:feed:lease"),
        (keys.latest_underlying("NIFTY"), "ds:latest:underlying:NIFTY"),
        (keys.latest_chain("NIFTY", "2024-07-04"), "ds:latest:chain:NIFTY:2024-07-04"),
        (keys.latest_summary("NIFTY"), "ds:latest:summary:NIFTY"),
        (keys.expiries("NIFTY"), "ds:expiries:NIFTY"),
        (keys.bars("NIFTY", 5), "ds:bars:NIFTY:5"),
        (keys.iv_history("NIFTY"), "ds:iv_history:NIFTY"),
        (keys.surface("NIFTY"), "ds:surface:NIFTY"),
        (keys.seen("NIFTY", "chain", "2024-07-04"), "ds:seen:NIFTY:chain:2024-07-04"),
        (keys.seen("NIFTY", "underlying"), "ds:seen:NIFTY:underlying:-"),
        (keys.seen("NIFTY", "underlying", None), "ds:seen:NIFTY:underlying:-"),
    ],
)
def test_key_names_are_stable(key: str, expected: str) -> None:
    assert key == expected


def test_ttls_are_the_documented_ones() -> None:
    assert keys.FEED_STATE_TTL_S == 7 * 86400
    assert keys.LATEST_TTL_S == 86400
    assert keys.IV_HISTORY_TTL_S == 30 * 86400
    assert keys.IV_HISTORY_MAX == 10_000


@pytest.mark.parametrize("window", [0, 2, 60])
def test_bars_refuse_an_unknown_window(window: int) -> None:
    with pytest.raises(ValueError, match="window"):
        keys.bars("NIFTY", window)
