"""Fan-out: records become room events, only the newest per key is sent, each connection gets a
message once, and a 410 removes exactly the connection that answered it."""

from __future__ import annotations

import orjson
import pytest

from deltastream.ws.fanout import (
    Fanout,
    InvalidEnrichedRecord,
    parse_enriched,
    updates_in_order,
    updates_of,
)
from deltastream.ws.messages import MAX_MESSAGE_BYTES, chain_summary
from tests.unit.ws.enriched import enriched_records, wide_chain
from tests.unit.ws.fakes import MemoryRegistry, RecordingPoster


def registry_with(**rooms: list[str]) -> MemoryRegistry:
    """Connections named by kwargs: ``c1=["general", "product:NIFTY"]``."""
    registry = MemoryRegistry()
    for connection_id, joined in rooms.items():
        registry.register(connection_id, user_id="u", email="", connected_at=0.0, rooms=joined)
    return registry


def test_an_underlying_goes_to_general_and_its_product_room() -> None:
    tick = enriched_records()[0]
    [update] = updates_of(tick)
    assert (update.event, update.rooms, update.data) == (
        "underlying_update",
        ("general", "product:NIFTY"),
        tick,
    )


def test_a_chain_sends_its_summary_to_general_and_itself_to_its_chain_room() -> None:
    chain = enriched_records()[-1]
    summary, full = updates_of(chain)
    assert (summary.event, summary.rooms, summary.data) == (
        "chain_summary",
        ("general",),
        chain_summary(chain),
    )
    assert (full.event, full.rooms, full.data) == ("chain_update", ("chain:NIFTY",), chain)


def test_every_update_of_the_batch_is_kept_in_stream_order() -> None:
    records = enriched_records()  # 3 underlyings, 2 chains of one expiry
    updates = updates_in_order(records)
    underlying_ticks = [u.tick_id for u in updates if u.event == "underlying_update"]
    assert underlying_ticks == [100, 101, 102]
    assert [u.event for u in updates].count("chain_update") == 2


def test_each_connection_gets_its_messages_in_order_and_redeliveries_are_dropped() -> None:
    registry = registry_with(c1=["product:NIFTY"])
    poster = RecordingPoster()
    fanout = Fanout(registry=registry, poster=poster)
    records = enriched_records()
    first = fanout.publish(records)
    assert [data["tick_id"] for e, data in poster.events_of("c1") if e == "underlying_update"] == [
        100,
        101,
        102,
    ]
    assert first.waves == 3
    again = fanout.publish(records)  # a retried batch: everything at or below what was sent is dropped
    assert again.posts == 0
    assert again.stale == len(updates_in_order(records))


def test_a_connection_in_two_rooms_of_one_message_gets_it_once() -> None:
    registry = registry_with(c1=["general", "product:NIFTY"], c2=["general"], c3=["chain:NIFTY"])
    poster = RecordingPoster()
    result = Fanout(registry=registry, poster=poster).publish(enriched_records())
    every = ["chain_summary"] * 2 + ["underlying_update"] * 3
    assert sorted(e for e, _ in poster.events_of("c1")) == every  # once each, though in two rooms
    assert sorted(e for e, _ in poster.events_of("c2")) == every
    assert [e for e, _ in poster.events_of("c3")] == ["chain_update", "chain_update"]
    assert result.report.sent == result.posts == 12


def test_redelivered_records_are_not_sent_twice() -> None:
    registry = registry_with(c1=["general"])
    poster = RecordingPoster()
    fanout = Fanout(registry=registry, poster=poster)
    fanout.publish(enriched_records())
    again = fanout.publish(enriched_records())
    assert again.stale == 7  # 3 underlying_update, 2 chain_summary, 2 chain_update
    assert again.posts == 0
    assert len(poster.posts) == 5  # the first delivery: 3 underlyings and 2 summaries to "general"


def test_a_gone_connection_is_removed_and_no_other() -> None:
    registry = registry_with(alive=["general"], dead=["general", "product:NIFTY"])
    result = Fanout(registry=registry, poster=RecordingPoster(gone={"dead"})).publish(enriched_records()[:1])
    assert result.report.gone == ["dead"]
    assert result.removed == 1
    assert set(registry.connections) == {"alive"}
    assert registry.rooms["general"] == {"alive"}
    assert registry.rooms["product:NIFTY"] == set()


def test_a_gone_connection_whose_hash_expired_still_leaves_the_rooms_it_was_found_in() -> None:
    registry = registry_with(alive=["general"])
    registry.rooms["general"].add("orphan")  # a member whose connection record has expired
    Fanout(registry=registry, poster=RecordingPoster(gone={"orphan"})).publish(enriched_records()[:1])
    assert registry.rooms["general"] == {"alive"}


def test_a_chain_over_the_limit_is_reduced_and_counted() -> None:
    registry = registry_with(c1=["chain:NIFTY"])
    poster = RecordingPoster()
    chain = wide_chain(1001)
    result = Fanout(registry=registry, poster=poster).publish([chain])
    [(_, payload)] = poster.posts
    assert len(payload) <= MAX_MESSAGE_BYTES
    assert orjson.loads(payload)["data"]["reduced"]["strikes_kept"] == 101
    assert result.reduced == {"atm±50": 1}


def test_rooms_without_members_cost_no_encoding_and_no_posts() -> None:
    result = Fanout(registry=MemoryRegistry(), poster=RecordingPoster()).publish(enriched_records())
    assert result.messages == 7
    assert result.posts == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"v":2,"type":"enriched_underlying","product":"NIFTY","tick_id":1}', "schema version"),
        (b'{"v":1,"type":"underlying","product":"NIFTY","tick_id":1}', "enriched record type"),
        (b'{"v":1,"type":"enriched_underlying","tick_id":1}', "product"),
        (b'{"v":1,"type":"enriched_underlying","product":"NIFTY","tick_id":"1"}', "tick_id"),
        (b'{"v":1,"type":"enriched_chain","product":"NIFTY","tick_id":1}', "expiry"),
    ],
)
def test_invalid_enriched_records_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidEnrichedRecord, match=reason):
        parse_enriched(data)
