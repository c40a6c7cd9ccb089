"""The feed service: pacing, chain cadence, record shapes, tick ids, state continuity, deadline, lease."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pytest

from deltastream.config import Settings
from deltastream.domain.expiries import SECONDS_PER_YEAR
from deltastream.domain.market import gbm_step
from deltastream.domain.products import get_product
from deltastream.records import idempotency_key
from deltastream.services.feed import FeedResult, iso_utc, run_feed, ticks_per_run
from deltastream.services.providers import ProviderTick, SyntheticProvider, round_to_tick
from tests.unit.services.feed_fakes import START, FakeClock, MemoryFeedState, MemorySink

PRODUCTS = ("NIFTY", "SPY")


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "products": PRODUCTS,
        "tick_interval_s": 1.0,
        "feed_duration_s": 10.0,
        "chain_every": 5,
        "expiries_per_product": 2,
        "seed": 7,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def synthetic(settings: Settings, state: MemoryFeedState) -> SyntheticProvider:
    return SyntheticProvider(
        [get_product(symbol) for symbol in settings.products],
        state,
        expiries_per_product=settings.expiries_per_product,
        tick_interval_s=settings.tick_interval_s,
        seed=settings.seed,
    )


class Feed:
    """A feed wired to in-memory ports, run as many times as a test needs."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or make_settings()
        self.clock = FakeClock()
        self.state = MemoryFeedState(self.clock)
        self.sink = MemorySink()

    def run(self, provider: object | None = None, **kwargs: object) -> FeedResult:
        return run_feed(
            provider or synthetic(self.settings, self.state),  # type: ignore[arg-type]
            self.sink,
            self.state,
            self.settings,
            clock=self.clock,
            **kwargs,  # type: ignore[arg-type]
        )


# --- pacing and cadence ----------------------------------------------------------------------------


def test_one_tick_per_interval_for_the_feed_duration() -> None:
    feed = Feed(make_settings(feed_duration_s=10.0, tick_interval_s=0.5))

    result = feed.run()

    assert ticks_per_run(feed.settings) == 20
    assert result.status == "completed"
    assert result.ticks == 20
    assert len(feed.sink.puts) == 20  # one PutRecords batch per tick
    assert len(feed.sink.of_type("underlying")) == 20 * len(PRODUCTS)
    assert sum(feed.clock.slept) == pytest.approx(9.5)  # ticks at 0, 0.5, ..., 9.5 s


def test_ticks_carry_the_time_they_were_emitted() -> None:
    feed = Feed(make_settings(feed_duration_s=3.0))

    feed.run()

    stamps = [put[0][1]["ts"] for put in feed.sink.puts]
    assert stamps == [iso_utc(START + timedelta(seconds=i)) for i in range(3)]
    assert stamps[0] == "2025-11-03T04:00:00.000Z"


def test_chains_every_chain_every_ticks_per_product_and_expiry() -> None:
    feed = Feed(make_settings(feed_duration_s=10.0, chain_every=3, expiries_per_product=2))

    result = feed.run()

    chain_ticks = [i for i, put in enumerate(feed.sink.puts) if any(r["type"] == "chain" for _, r in put)]
    assert chain_ticks == [0, 3, 6, 9]
    assert result.chains == 4 * len(PRODUCTS) * 2
    per_product = Counter((r["product"], r["expiry"]) for r in feed.sink.of_type("chain"))
    assert len(per_product) == len(PRODUCTS) * 2
    assert set(per_product.values()) == {4}


def test_records_follow_the_stream_schema_and_chains_share_the_underlying_tick_id() -> None:
    feed = Feed(make_settings(feed_duration_s=5.0, chain_every=5))

    feed.run()

    first_put = feed.sink.puts[0]  # parse_record validated every record on the way in
    assert [key for key, _ in first_put] == [record["product"] for _, record in first_put]
    kinds = [(record["product"], record["type"]) for _, record in first_put]
    assert kinds == [
        ("NIFTY", "underlying"), ("NIFTY", "chain"), ("NIFTY", "chain"),
        ("SPY", "underlying"), ("SPY", "chain"), ("SPY", "chain"),
    ]  # fmt: skip
    for _, record in first_put:
        assert record["v"] == 1
        underlying = next(
            r for _, r in first_put if r["type"] == "underlying" and r["product"] == record["product"]
        )
        assert record["tick_id"] == underlying["tick_id"]
        assert record["ts"] == underlying["ts"]
    chain = next(record for _, record in first_put if record["type"] == "chain")
    assert set(chain) == {
        "v",
        "type",
        "product",
        "expiry",
        "tick_id",
        "spot",
        "ts",
        "r",
        "q",
        "strikes",
        "calls",
        "puts",
    }
    assert chain["spot"] == underlying_price(first_put, chain["product"])
    assert set(chain["calls"][0]) == {"strike", "bid", "ask", "last", "volume", "oi"}


def underlying_price(put: list[tuple[str, dict[str, object]]], product: str) -> object:
    return next(r["price"] for _, r in put if r["type"] == "underlying" and r["product"] == product)


# --- continuity across invocations ----------------------------------------------------------------


def test_tick_ids_continue_across_invocations_and_never_repeat() -> None:
    feed = Feed(make_settings(feed_duration_s=5.0))

    first = feed.run()
    second = feed.run()

    assert first.first_tick_ids == {"NIFTY": 1, "SPY": 1}
    assert first.last_tick_ids == {"NIFTY": 5, "SPY": 5}
    assert second.first_tick_ids == {"NIFTY": 6, "SPY": 6}
    keys = [idempotency_key(record) for record in feed.sink.records]
    assert len(keys) == len(set(keys))
    for product in PRODUCTS:
        ids = [r["tick_id"] for r in feed.sink.of_type("underlying") if r["product"] == product]
        assert ids == sorted(ids) == list(range(1, 11))


def test_the_walk_continues_from_the_last_spot_of_the_previous_invocation() -> None:
    feed = Feed(make_settings(feed_duration_s=5.0, products=("NIFTY",)))
    feed.run()
    saved = feed.state.load("NIFTY")
    assert saved is not None
    last_published = feed.sink.of_type("underlying")[-1]["price"]
    assert round_to_tick(saved["spot"], 0.05) == last_published
    # What the next step must be: one GBM step from the saved spot with the saved generator.
    rng = np.random.default_rng()
    rng.bit_generator.state = saved["rng"]
    nifty = get_product("NIFTY")
    expected = gbm_step(
        saved["spot"], nifty.rate, nifty.volatility, 1 / SECONDS_PER_YEAR, rng, nifty.dividend_yield
    )
    feed.clock.sleep(1.0)  # the next scheduled invocation starts one interval after the last tick

    feed.run(synthetic(feed.settings, feed.state))  # a new provider: nothing carried in memory

    first_of_second = feed.sink.of_type("underlying")[5]
    assert first_of_second["tick_id"] == 6
    assert first_of_second["price"] == round_to_tick(float(expected), 0.05)


def test_a_warm_provider_reloads_state_another_process_saved() -> None:
    feed = Feed(make_settings(feed_duration_s=2.0, products=("SPY",)))
    provider = synthetic(feed.settings, feed.state)
    feed.run(provider)
    feed.state.save("SPY", {**(feed.state.load("SPY") or {}), "spot": 123.0})  # another container moved it

    feed.run(provider)

    assert abs(feed.sink.of_type("underlying")[2]["price"] - 123.0) < 1.0


# --- early stop, errors, lease --------------------------------------------------------------------


def test_stops_before_the_deadline_and_saves_state_first() -> None:
    feed = Feed(make_settings(feed_duration_s=60.0, products=("SPY",)))
    invocation_ends = START + timedelta(seconds=6.5)

    result = feed.run(
        deadline=lambda: (invocation_ends - feed.clock.now()).total_seconds(), min_remaining_s=1.0
    )

    assert result.status == "stopped_early"
    assert result.ticks == 6  # tick 6 is due at 6 s, leaving 0.5 s < 1 s
    assert feed.clock.now() < invocation_ends
    saved = feed.state.load("SPY")
    assert saved is not None
    assert datetime.fromisoformat(saved["ts"]) == START + timedelta(seconds=5)
    assert feed.state.lease_owner is None  # released


def test_state_is_saved_and_the_lease_released_when_the_sink_fails() -> None:
    feed = Feed(make_settings(feed_duration_s=5.0))

    class FailingSink:
        def put(self, records: object) -> None:
            raise RuntimeError("stream unavailable")

    with pytest.raises(RuntimeError, match="stream unavailable"):
        run_feed(
            synthetic(feed.settings, feed.state), FailingSink(), feed.state, feed.settings, clock=feed.clock
        )

    assert feed.state.saves == len(PRODUCTS)
    assert feed.state.lease_owner is None


def test_skipped_when_another_invocation_holds_the_lease() -> None:
    feed = Feed()
    feed.state.hold_lease("other", seconds=60)

    result = feed.run(lease_wait_s=3.0)

    assert result.status == "skipped"
    assert (result.ticks, result.records) == (0, 0)
    assert feed.sink.puts == []
    assert feed.state.saves == 0
    assert feed.state.counters == {}  # no tick ids consumed
    assert feed.clock.elapsed_s() == pytest.approx(3.0)  # waited, then gave up
    assert feed.state.lease_owner == "other"


def test_waits_for_a_lease_released_within_the_wait() -> None:
    feed = Feed(make_settings(feed_duration_s=3.0, tick_interval_s=1.0))
    feed.state.hold_lease("previous", seconds=1.2)  # the previous invocation's last tick

    result = feed.run()  # default wait: max(2 s, 2 intervals)

    assert result.status == "completed"
    assert feed.sink.puts[0][0][1]["ts"] >= iso_utc(START + timedelta(seconds=1.2))


def test_stops_without_saving_when_the_lease_is_lost() -> None:
    feed = Feed(make_settings(feed_duration_s=10.0))

    class Thief(MemoryFeedState):
        def renew_lease(self, owner: str, ttl_s: float) -> bool:
            self.hold_lease("thief", 60)
            return False

    feed.state = Thief(feed.clock)

    result = feed.run()

    assert result.status == "lease_lost"
    # the lease (15 s) is renewed every 3 s: the loss shows at the first renewal, after 3 ticks of 1 s
    assert result.ticks == 3
    assert feed.state.saves == 0
    assert feed.state.lease_owner == "thief"


def test_an_exhausted_provider_ends_the_run() -> None:
    feed = Feed(make_settings(feed_duration_s=10.0))

    class TwoTicks:
        def __init__(self) -> None:
            self.left = 2
            self.saved = False

        def start(self, now: datetime) -> None: ...

        def step(self, now: datetime, *, chains_due: bool) -> ProviderTick | None:
            self.left -= 1
            return ProviderTick(prices={"NIFTY": 25_000.0}) if self.left >= 0 else None

        def save(self) -> None:
            self.saved = True

    provider = TwoTicks()
    result = feed.run(provider)

    assert result.status == "exhausted"
    assert result.ticks == 2
    assert result.products == ("NIFTY",)
    assert provider.saved


def test_recorded_timestamps_are_kept_when_the_provider_gives_them() -> None:
    feed = Feed(make_settings(feed_duration_s=1.0))
    recorded = datetime.fromisoformat("2024-03-01T10:00:00+00:00")

    class Recorded:
        def start(self, now: datetime) -> None: ...

        def step(self, now: datetime, *, chains_due: bool) -> ProviderTick:
            return ProviderTick(prices={"SPY": 500.0}, recorded_at=recorded)

        def save(self) -> None: ...

    feed.run(Recorded())

    assert feed.sink.records[0]["ts"] == "2024-03-01T10:00:00.000Z"


def test_the_summary_is_json_ready() -> None:
    feed = Feed(make_settings(feed_duration_s=2.0))

    summary = feed.run().as_dict()

    assert summary["status"] == "completed"
    assert summary["products"] == list(PRODUCTS)
    assert summary["records"] == summary["ticks"] * 2 + summary["chains"]
    assert summary["duration_s"] == pytest.approx(1.0)
