"""The payloads in events/ (for `sam local invoke`) are what the functions accept."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from deltastream.records import parse_record

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return document


def test_the_enrich_event_carries_valid_feed_records_in_lambdas_kinesis_shape() -> None:
    event = load_event("EnrichFunction")
    kinds = []
    for record in event["Records"]:
        assert record["eventSource"] == "aws:kinesis"
        assert record["eventID"].endswith(record["kinesis"]["sequenceNumber"])
        kinds.append(parse_record(base64.b64decode(record["kinesis"]["data"]))["type"])
    assert set(kinds) == {"underlying", "chain"}


def test_the_feed_event_is_an_eventbridge_scheduled_event() -> None:
    event = load_event("FeedFunction")
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
