"""Market data providers: the synthetic market (GBM, evolving chains, persisted state) and replays."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from deltastream.config import ConfigError, Settings
from deltastream.domain.expiries import SECONDS_PER_YEAR
from deltastream.domain.products import get_product
from deltastream.services.providers import (
    ReplayFormatError,
    ReplayProvider,
    SyntheticProvider,
    build_provider,
    round_to_tick,
)
from tests.unit.services.feed_fakes import START, FakeClock, MemoryFeedState

SAMPLE = Path(__file__).parents[3] / "data" / "replay" / "sample.jsonl"


def provider_for(
    *symbols: str, seed: int | None = 1, **kwargs: float
) -> tuple[SyntheticProvider, MemoryFeedState]:
    state = MemoryFeedState(FakeClock())
    provider = SyntheticProvider([get_product(s) for s in symbols], state, seed=seed, **kwargs)  # type: ignore[arg-type]
    return provider, state


# --- synthetic -------------------------------------------------------------------------------------


def test_log_returns_are_those_of_the_products_gbm() -> None:
    tsla = get_product("TSLA")
    day_s = 86_400.0
    provider, _ = provider_for("TSLA", tick_interval_s=day_s, max_step_s=day_s)
    provider.start(START)
    spots = [provider.spot("TSLA")]
    for i in range(1, 4001):
        provider.step(START + timedelta(days=i), chains_due=False)
        spots.append(provider.spot("TSLA"))

    log_returns = np.diff(np.log(spots))

    dt = day_s / SECONDS_PER_YEAR
    sigma = tsla.volatility
    assert np.std(log_returns) == pytest.approx(sigma * np.sqrt(dt), rel=0.05)
    drift = (tsla.rate - tsla.dividend_yield - 0.5 * sigma**2) * dt
    assert abs(np.mean(log_returns) - drift) < 4 * sigma * np.sqrt(dt / len(log_returns))


def test_dt_is_the_time_since_the_previous_tick_capped() -> None:
    provider, _ = provider_for("SPY", tick_interval_s=1.0, max_step_s=10.0)
    provider.start(START)
    provider.step(START, chains_due=False)
    rng_before = provider._walks["SPY"].rng.bit_generator.state
    spot_before = provider.spot("SPY")

    provider.step(START + timedelta(days=30), chains_due=False)  # a long pause: one capped step

    rng = np.random.default_rng()
    rng.bit_generator.state = rng_before
    spy = get_product("SPY")
    z = rng.standard_normal()
    dt = 10.0 / SECONDS_PER_YEAR
    expected = spot_before * np.exp((spy.rate - spy.dividend_yield - 0.5 * spy.volatility**2) * dt
                                    + spy.volatility * np.sqrt(dt) * z)  # fmt: skip
    assert provider.spot("SPY") == pytest.approx(expected)


def test_prices_are_published_on_the_tick_grid() -> None:
    provider, _ = provider_for("NIFTY", "AAPL")
    tick = provider.step(START, chains_due=False)

    assert tick.prices["NIFTY"] == round_to_tick(provider.spot("NIFTY"), 0.05)
    assert round(tick.prices["NIFTY"] / 0.05, 6).is_integer()
    assert round(tick.prices["AAPL"] / 0.01, 6).is_integer()
    assert tick.chains == {}


def test_open_interest_and_volume_evolve_between_chain_snapshots() -> None:
    provider, _ = provider_for("NIFTY", expiries_per_product=2)
    first = provider.step(START, chains_due=True)
    second = provider.step(START + timedelta(seconds=5), chains_due=True)

    assert [c["expiry"] for c in first.chains["NIFTY"]] == ["2025-11-04", "2025-11-11"]
    before, after = first.chains["NIFTY"][0], second.chains["NIFTY"][0]
    oi_before = {q["strike"]: q["oi"] for q in before["calls"]}
    oi_after = {q["strike"]: q["oi"] for q in after["calls"]}
    common = oi_before.keys() & oi_after.keys()
    assert any(oi_before[k] != oi_after[k] for k in common)
    volume_before = {q["strike"]: q["volume"] for q in before["calls"]}
    volume_after = {q["strike"]: q["volume"] for q in after["calls"]}
    assert all(volume_after[k] >= volume_before[k] for k in common)  # cumulative within the session
    assert after["spot"] == second.prices["NIFTY"]


def test_chain_states_and_the_generator_continue_through_feed_state() -> None:
    provider, state = provider_for("SPY", expiries_per_product=1)
    provider.step(START, chains_due=True)
    provider.save()
    saved = state.load("SPY")
    assert saved is not None
    assert list(saved["chains"]) == ["2025-11-03"]

    continuing = SyntheticProvider([get_product("SPY")], state, expiries_per_product=1, seed=999)
    continuing.start(START)
    provider.start(START)  # reloads the same saved state
    later = START + timedelta(seconds=5)

    assert continuing.step(later, chains_due=True) == provider.step(later, chains_due=True)


def test_a_closed_expiry_rolls_to_the_next_one() -> None:
    provider, state = provider_for("NIFTY", expiries_per_product=2)
    before_close = datetime.fromisoformat("2025-11-04T09:55:00+00:00")  # 15:25 IST on expiry day
    after_close = datetime.fromisoformat("2025-11-04T10:05:00+00:00")

    before = provider.step(before_close, chains_due=True)
    after = provider.step(after_close, chains_due=True)
    provider.save()

    assert [c["expiry"] for c in before.chains["NIFTY"]] == ["2025-11-04", "2025-11-11"]
    assert [c["expiry"] for c in after.chains["NIFTY"]] == ["2025-11-11", "2025-11-18"]
    assert sorted((state.load("NIFTY") or {})["chains"]) == ["2025-11-11", "2025-11-18"]


def test_the_same_seed_gives_the_same_market() -> None:
    a, _ = provider_for("NIFTY", "SPY", seed=42)
    b, _ = provider_for("NIFTY", "SPY", seed=42)
    c, _ = provider_for("SPY", seed=42)  # per-product generators: independent of the product set

    ticks_a = [a.step(START + timedelta(seconds=i), chains_due=i == 0) for i in range(5)]
    ticks_b = [b.step(START + timedelta(seconds=i), chains_due=i == 0) for i in range(5)]
    spy_alone = [c.step(START + timedelta(seconds=i), chains_due=i == 0).prices["SPY"] for i in range(5)]

    assert ticks_a == ticks_b
    assert [t.prices["SPY"] for t in ticks_a] == spy_alone


def test_unusable_saved_state_starts_afresh(caplog: pytest.LogCaptureFixture) -> None:
    provider, state = provider_for("AAPL")
    state.states["AAPL"] = {"spot": -5, "chains": {}}

    with caplog.at_level(logging.WARNING):
        provider.start(START)

    assert provider.spot("AAPL") == get_product("AAPL").base_price
    assert "unusable feed state for AAPL" in caplog.text


# --- replay ----------------------------------------------------------------------------------------


def sample_lines() -> list[dict[str, object]]:
    return [json.loads(line) for line in SAMPLE.read_text().splitlines()]


def test_the_sample_replays_as_recorded() -> None:
    replay = ReplayProvider(SAMPLE, loop=False, restamp=False)
    lines = sample_lines()

    ticks = []
    while (tick := replay.step(START, chains_due=False)) is not None:
        ticks.append(tick)

    assert len(ticks) == 30
    assert all(tick.products == ("NIFTY", "SPY") for tick in ticks)
    underlyings = [line for line in lines if line["type"] == "underlying"]
    assert [(p, price) for t in ticks for p, price in t.prices.items()] == [
        (line["product"], line["price"]) for line in underlyings
    ]
    assert [i for i, t in enumerate(ticks) if t.chains] == [0, 10, 20]
    recorded_chain = next(line for line in lines if line["type"] == "chain")
    replayed_chain = dict(ticks[0].chains["NIFTY"][0])
    assert replayed_chain == {k: v for k, v in recorded_chain.items() if k not in ("type", "ts")}
    assert ticks[1].recorded_at == datetime.fromisoformat("2025-11-03T04:00:01+00:00")


def test_restamped_replays_move_expiries_forward_by_whole_weeks() -> None:
    replay = ReplayProvider(SAMPLE)
    now = datetime.fromisoformat("2026-02-18T12:00:00+00:00")  # a Wednesday, 107 days after the recording

    tick = replay.step(now, chains_due=False)

    assert tick is not None
    assert tick.recorded_at is None  # the feed stamps "now"
    expiry = date.fromisoformat(str(tick.chains["NIFTY"][0]["expiry"]))
    assert expiry == date(2025, 11, 4) + timedelta(weeks=16)
    assert expiry.weekday() == date(2025, 11, 4).weekday()
    assert expiry >= now.date()


def test_a_looping_replay_starts_over() -> None:
    replay = ReplayProvider(SAMPLE, loop=True, restamp=False)
    first = replay.step(START, chains_due=False)
    for _ in range(29):
        replay.step(START, chains_due=False)

    assert replay.step(START, chains_due=False) == first


def test_a_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = '{"type":"underlying","product":"SPY","price":500.0,"ts":"2025-11-03T14:30:00Z"}'
    path.write_text(f"{good}\n\n{good.replace('500.0', '-1')}\n")
    replay = ReplayProvider(path, loop=False)

    with pytest.raises(ReplayFormatError, match=r"bad\.jsonl:3: field 'price' must be a finite positive"):
        replay.step(START, chains_due=False)  # reading ahead to line 3 to find where the tick ends


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"type":"trade","product":"SPY","ts":"2025-11-03T14:30:00Z"}', "unknown record type"),
        ('{"type":"underlying","product":"SPY","price":1,"ts":"2025-11-03T14:30:00"}', "timezone|ISO-8601"),
        ('{"type":"chain","product":"SPY","expiry":"soon","spot":1,"r":0,"q":0,"ts":"2025-11-03T14:30:00Z",'
         '"strikes":[1],"calls":[{"strike":1,"bid":0,"ask":1,"last":1,"volume":0,"oi":0}],'
         '"puts":[{"strike":1,"bid":0,"ask":1,"last":1,"volume":0,"oi":0}]}', "YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_invalid_json_lines_are_rejected(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")

    with pytest.raises(ReplayFormatError, match=rf"bad\.jsonl:1: .*({reason})"):
        ReplayProvider(path).step(START, chains_due=False)


def test_csv_underlying_ticks(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(
        "product,ts,price,venue\n"
        "NIFTY,2025-11-03T04:00:00Z,25000.5,NSE\n"
        "SPY,2025-11-03T04:00:00Z,660.1,ARCA\n"
        "NIFTY,2025-11-03T04:00:01+00:00,25001.0,NSE\n"
    )
    replay = ReplayProvider(path, loop=False, restamp=False)

    first, second = replay.step(START, chains_due=True), replay.step(START, chains_due=True)

    assert first is not None
    assert second is not None
    assert dict(first.prices) == {"NIFTY": 25000.5, "SPY": 660.1}
    assert dict(second.prices) == {"NIFTY": 25001.0}
    assert replay.step(START, chains_due=True) is None


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("ts,product,price\n2025-11-03T04:00:00Z,NIFTY,25000\n2025-11-03T04:00:01Z,NIFTY,abc\n")
    replay = ReplayProvider(path)

    with pytest.raises(ReplayFormatError, match=r"ticks\.csv:3: price must be a number"):
        replay.step(START, chains_due=False)  # reading ahead to line 3 to find where the tick ends


def test_csv_needs_its_header(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("time,symbol,last\n2025-11-03T04:00:00Z,NIFTY,25000\n")

    with pytest.raises(
        ReplayFormatError, match=r"ticks\.csv:1: the header must name the columns ts,product,price"
    ):
        ReplayProvider(path).step(START, chains_due=False)


def test_an_empty_looping_replay_fails_instead_of_spinning(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")

    with pytest.raises(ReplayFormatError, match="no records"):
        ReplayProvider(path).step(START, chains_due=False)


def test_unknown_files_are_rejected_up_front(tmp_path: Path) -> None:
    with pytest.raises(ReplayFormatError, match="unknown replay format"):
        ReplayProvider(tmp_path / "ticks.parquet")
    with pytest.raises(ReplayFormatError, match="no such replay file"):
        ReplayProvider(tmp_path / "missing.jsonl")


def test_build_provider_follows_the_settings() -> None:
    state = MemoryFeedState(FakeClock())

    assert isinstance(build_provider(Settings(products=("SPY",)), state), SyntheticProvider)
    assert isinstance(
        build_provider(Settings(feed_provider="replay", replay_path=str(SAMPLE)), state), ReplayProvider
    )
    with pytest.raises(ConfigError, match="REPLAY_PATH"):
        build_provider(Settings(feed_provider="replay"), state)
