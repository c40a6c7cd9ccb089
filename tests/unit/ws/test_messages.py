"""The 128 KB limit: small messages go whole, wide chains are cut around the money, then to a summary."""

from __future__ import annotations

import orjson

from deltastream.ws.messages import (
    MAX_MESSAGE_BYTES,
    SUMMARY_FIELDS,
    chain_summary,
    fit_chain_event,
    fit_event,
    window_around_atm,
)
from tests.unit.ws.enriched import enriched_records, latest_summary, wide_chain


def test_summary_fields_are_the_ones_the_enrichment_caches() -> None:
    assert set(SUMMARY_FIELDS) == set(latest_summary())


def test_a_normal_chain_is_sent_whole() -> None:
    chain = next(r for r in enriched_records() if r["type"] == "enriched_chain")
    fitted = fit_event("chain_update", chain)
    assert fitted.reduction is None
    assert not fitted.oversize
    assert orjson.loads(fitted.payload) == {"event": "chain_update", "data": chain}


def test_a_wide_chain_is_cut_to_strikes_around_the_money_until_it_fits() -> None:
    chain = wide_chain(1001)
    assert len(orjson.dumps(chain)) > MAX_MESSAGE_BYTES
    fitted = fit_event("chain_update", chain)
    data = orjson.loads(fitted.payload)["data"]
    assert len(fitted.payload) <= MAX_MESSAGE_BYTES
    assert fitted.reduction == "atm±50"
    assert data["reduced"] == {"strikes_kept": 101, "strikes_total": 1001}
    assert len(data["calls"]) == len(data["puts"]) == len(data["buildup"]) == len(data["strikes"]) == 101
    assert data["strikes"][50] == chain["atm_strike"]
    assert data["max_pain_strike"] == chain["max_pain_strike"]  # analytics of the whole chain kept


def test_a_tight_limit_falls_back_to_the_summary_with_a_note() -> None:
    chain = wide_chain(1001)
    fitted = fit_chain_event("chain_update", chain, limit=2_000)
    data = orjson.loads(fitted.payload)["data"]
    assert fitted.reduction == "summary"
    assert not fitted.oversize
    assert data == chain_summary(chain) | {"reduced": {"to": "summary", "strikes_total": 1001}}


def test_the_window_stays_inside_the_ladder_when_the_money_is_at_an_edge() -> None:
    chain = wide_chain(30) | {"atm_strike": wide_chain(30)["strikes"][1]}
    cut = window_around_atm(chain, 5)
    assert cut["strikes"] == chain["strikes"][:11]


def test_a_wrapped_chain_is_reduced_inside_its_wrapper() -> None:
    chain = wide_chain(1001)
    fitted = fit_chain_event("subscribed", chain, wrap=lambda c: {"room": "chain:NIFTY", "snapshot": c})
    data = orjson.loads(fitted.payload)["data"]
    assert data["room"] == "chain:NIFTY"
    assert data["snapshot"]["reduced"]["strikes_kept"] == 101


def test_an_oversize_message_that_is_not_a_chain_is_flagged_not_cut() -> None:
    fitted = fit_event("order_update", {"note": "x" * 200}, limit=100)
    assert fitted.oversize
    assert fitted.reduction is None
