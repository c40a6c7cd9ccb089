"""The feed function's real handler module against a moto server (Kinesis) and a real Redis."""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import redis

from deltastream.adapters import redis_keys
from deltastream.records import idempotency_key, parse_record

APP = Path(__file__).parents[3] / "functions" / "feed" / "app.py"
REGION = "us-east-1"
PRODUCTS = ("NIFTY", "SPY")


class LambdaContext:
    """The parts of the Lambda context the handler and Powertools read."""

    function_name = "FeedFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:FeedFunction"

    def __init__(self, timeout_s: float = 90.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._ends = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._ends - time.monotonic()) * 1000)


@pytest.fixture
def kinesis(aws_env: str) -> Any:
    return boto3.client("kinesis")


@pytest.fixture
def stream(kinesis: Any) -> str:
    name = f"ticks-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
    return name


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The handler module points the deltastream loggers at its JSON handler; undo that afterwards."""
    package = logging.getLogger("deltastream")
    saved = (package.handlers[:], package.propagate, package.level)
    yield
    package.handlers[:], package.propagate = saved[0], saved[1]
    package.setLevel(saved[2])


def load_handler(
    monkeypatch: pytest.MonkeyPatch, stream: str, redis_url: str, *, duration_s: float, interval_s: float
) -> ModuleType:
    """Import functions/feed/app.py afresh with the environment the template would give it."""
    for name, value in {
        "TICKS_STREAM": stream,
        "REDIS_URL": redis_url,
        "PRODUCTS": ",".join(PRODUCTS),
        "FEED_DURATION": str(duration_s),
        "TICK_INTERVAL": str(interval_s),
        "CHAIN_EVERY": "2",
        "EXPIRIES_PER_PRODUCT": "1",
        "FEED_SEED": "11",
        "POWERTOOLS_METRICS_NAMESPACE": "DeltaStreamTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(f"feed_app_{uuid.uuid4().hex}", APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_stream(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    position = iterator["ShardIterator"]
    records: list[dict[str, Any]] = []
    while True:
        page = kinesis.get_records(ShardIterator=position, Limit=1000)
        records.extend(parse_record(r["Data"]) | {"_key": r["PartitionKey"]} for r in page["Records"])
        if not page["Records"]:
            return records
        position = page["NextShardIterator"]


@pytest.mark.usefixtures("restore_logging")
def test_an_invocation_emits_paced_ticks_and_chains(
    kinesis: Any, stream: str, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the handler configured for 2 s of ticks every 0.5 s, chains every 2 ticks
    app = load_handler(monkeypatch, stream, redis_url, duration_s=2.0, interval_s=0.5)
    event = json.loads((APP.parents[2] / "events" / "FeedFunction.json").read_text())

    # WHEN it is invoked twice, one after the other
    started = time.monotonic()
    first = app.handler(event, LambdaContext())
    elapsed = time.monotonic() - started
    second = app.handler(event, LambdaContext())

    # THEN each emitted 4 ticks per product at the pace asked, with chains on ticks 0 and 2
    assert first["status"] == second["status"] == "completed"
    assert 1.4 <= elapsed < 3.0
    records = read_stream(kinesis, stream)
    for product in PRODUCTS:
        underlying = [r for r in records if r["type"] == "underlying" and r["product"] == product]
        chains = [r for r in records if r["type"] == "chain" and r["product"] == product]
        assert [r["tick_id"] for r in underlying] == list(range(1, 9))  # continued, in stream order
        assert [r["tick_id"] for r in chains] == [1, 3, 5, 7]
    assert all(r["_key"] == r["product"] for r in records)
    keys = [idempotency_key(r) for r in records]
    assert len(keys) == len(set(keys))
    assert first["records"] == second["records"] == 4 * 2 + 2 * 2
    assert redis_client.get(redis_keys.FEED_LEASE) is None  # released
    assert json.loads(redis_client.get(redis_keys.feed_state("SPY")) or b"{}")["spot"] > 0


@pytest.mark.usefixtures("restore_logging")
def test_an_overlapping_invocation_is_skipped(
    kinesis: Any, stream: str, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN one invocation emitting 4 s of ticks (the lease wait is max(2 s, 2 intervals) = 2 s)
    app = load_handler(monkeypatch, stream, redis_url, duration_s=4.0, interval_s=0.5)
    results: dict[str, dict[str, Any]] = {}
    first = threading.Thread(target=lambda: results.update(first=app.handler({}, LambdaContext())))
    first.start()
    deadline = time.monotonic() + 5
    while redis_client.get(redis_keys.FEED_LEASE) is None:
        assert time.monotonic() < deadline, "the first invocation never took the lease"
        time.sleep(0.01)

    # WHEN a second one starts while it runs
    second = threading.Thread(target=lambda: results.update(second=app.handler({}, LambdaContext())))
    second.start()
    second.join(timeout=10)
    first.join(timeout=10)

    # THEN the second gave up on the lease and emitted nothing; the stream holds unique tick ids
    assert results["first"]["status"] == "completed"
    assert results["second"]["status"] == "skipped"
    assert results["second"]["records"] == 0
    records = read_stream(kinesis, stream)
    assert len(records) == results["first"]["records"] == 8 * 2 + 4 * 2
    keys = [idempotency_key(r) for r in records]
    assert len(keys) == len(set(keys))
