"""The market-data pipeline through the local cloud on the project's template.yaml: real Redis, the
embedded MongoDB stand-in, moto Kinesis/SQS. Records are put on the ticks stream by the test (the
feed's schedule is off here, so counts are exact); tests/e2e covers the scheduled feed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest

from deltastream.adapters.mongo import MongoHistory
from deltastream.domain import chain
from localcloud.cloud import LocalCloud
from tests.market_records import market_records

from ..localcloud.conftest import wait_for

ROOT = Path(__file__).resolve().parents[3]
TICKS, ENRICHED = "deltastream-ticks-dev", "deltastream-enriched-dev"


class Pipeline:
    def __init__(
        self, cloud: LocalCloud, mongo: MongoHistory, redis_process: subprocess.Popen[bytes]
    ) -> None:
        self.cloud = cloud
        self.mongo = mongo
        self.redis_process = redis_process
        self.kinesis = boto3.client(
            "kinesis",
            endpoint_url=cloud.endpoint.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=cloud.endpoint.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.next_tick = 1

    def put(self, payloads: list[bytes], key: str = "NIFTY") -> list[str]:
        response = self.kinesis.put_records(
            StreamName=TICKS, Records=[{"Data": p, "PartitionKey": key} for p in payloads]
        )
        assert response["FailedRecordCount"] == 0
        return [r["SequenceNumber"] for r in response["Records"]]

    def delivered(self) -> int:
        return int(self.cloud.status()["mappings"]["EnrichFunction.Ticks"]["records"])

    def stored_ids(self, collection: str) -> set[str]:
        return {d["_id"] for d in self.mongo.find(collection, {})}

    def read_stream(self, stream: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard in self.kinesis.list_shards(StreamName=stream)["Shards"]:
            iterator = self.kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                records.extend(json.loads(r["Data"]) for r in page["Records"])
                if not page["Records"]:
                    break
                iterator = page["NextShardIterator"]
        return records

    def dead_letters(self) -> list[dict[str, Any]]:
        url = self.sqs.get_queue_url(QueueName="deltastream-enrich-dlq-dev")["QueueUrl"]
        received = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in received.get("Messages", [])]

    def market(self, product: str, ticks: int, *, seed: int, chains_every: int = 2) -> list[dict[str, Any]]:
        """Records the way the feed writes them: underlyings every tick, a chain every few ticks."""
        records = market_records(
            product, ticks, first_tick=self.next_tick, seed=seed, chains_every=chains_every
        )
        self.next_tick += ticks
        return records


def _key(record: dict[str, Any]) -> str:
    kind = record["type"].removeprefix("enriched_")
    return f"{record['product']}:{kind}:{record.get('expiry') or '-'}:{record['tick_id']}"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, embedded_mongo_url: str) -> Iterator[Pipeline]:
    from tests.conftest import redis_server

    database = f"pipeline{os.getpid()}"
    with redis_server(tmp_path_factory.mktemp("pipeline-redis")) as (redis_url, redis_process):
        cloud = LocalCloud(
            ROOT / "template.yaml",
            port=0,
            state_dir=tmp_path_factory.mktemp("pipeline"),
            stack_name="ds-pipeline",
            endpoint_url=None,
            parameter_overrides={
                "RedisUrl": redis_url,
                "MongoUrl": embedded_mongo_url,
                "MongoDb": database,
                "FeedEnabled": "false",
            },
        )
        try:
            cloud.start()
            yield Pipeline(cloud, MongoHistory.from_url(embedded_mongo_url, database), redis_process)
        finally:
            cloud.stop()


def test_every_record_is_stored_and_enriched_exactly_once(pipeline: Pipeline) -> None:
    # GIVEN 40 ticks of NIFTY and SPY with chains every other tick (120 records)
    records = pipeline.market("NIFTY", 40, seed=1) + pipeline.market("SPY", 40, seed=2)
    before = pipeline.delivered()
    for product in ("NIFTY", "SPY"):
        of_product = [r for r in records if r["product"] == product]
        for start in range(0, len(of_product), 50):
            pipeline.put([json.dumps(r).encode() for r in of_product[start : start + 50]], key=product)
    # WHEN the enrichment has consumed them
    wait_for(lambda: pipeline.delivered() >= before + len(records), timeout=60)
    # THEN every record is in MongoDB under its idempotency key, and enriched exactly once
    keys = {_key(r) for r in records}
    stored = pipeline.stored_ids("ticks") | pipeline.stored_ids("chains")
    assert keys <= stored
    enriched = [_key(r) for r in pipeline.read_stream(ENRICHED)]
    mine = [k for k in enriched if k in keys]
    assert sorted(mine) == sorted(keys)  # each once
    assert pipeline.cloud.status()["functions"]["EnrichFunction"]["errors"] == 0


def test_enriched_values_equal_what_the_domain_computes(pipeline: Pipeline) -> None:
    records = pipeline.market("BANKNIFTY", 2, seed=3, chains_every=1)
    before = pipeline.delivered()
    pipeline.put([json.dumps(r).encode() for r in records], key="BANKNIFTY")
    wait_for(lambda: pipeline.delivered() >= before + len(records), timeout=60)
    raw = next(r for r in records if r["type"] == "chain")
    (stored,) = pipeline.mongo.find("chains", {"_id": _key(raw)})
    strikes = np.array(raw["strikes"])
    call_oi = np.array([q["oi"] for q in raw["calls"]], dtype=float)
    put_oi = np.array([q["oi"] for q in raw["puts"]], dtype=float)
    assert stored["max_pain_strike"] == chain.max_pain(strikes, call_oi, put_oi)
    assert stored["pcr_oi"] == pytest.approx(chain.pcr(put_oi, call_oi))
    assert stored["support"] == chain.support_resistance(strikes, call_oi, put_oi).support
    assert all(q["iv"] is None or 0 < q["iv"] < 5 for q in stored["calls"])


def test_the_same_records_delivered_again_change_nothing(pipeline: Pipeline) -> None:
    records = pipeline.market("FINNIFTY", 10, seed=4)
    payloads = [json.dumps(r).encode() for r in records]
    before = pipeline.delivered()
    pipeline.put(payloads, key="FINNIFTY")
    wait_for(lambda: pipeline.delivered() >= before + len(records), timeout=60)
    snapshot = {c: pipeline.mongo.find(c, {"product": "FINNIFTY"}) for c in ("ticks", "chains", "bars")}
    enriched_before = len(pipeline.read_stream(ENRICHED))
    # WHEN the same records arrive again (a producer retry, a replay)
    pipeline.put(payloads, key="FINNIFTY")
    wait_for(lambda: pipeline.delivered() >= before + 2 * len(records), timeout=60)
    # THEN the stores hold exactly what they held, and nothing is published twice
    assert {c: pipeline.mongo.find(c, {"product": "FINNIFTY"}) for c in snapshot} == snapshot
    assert len(pipeline.read_stream(ENRICHED)) == enriched_before


def test_a_poison_record_goes_to_the_dlq_and_the_rest_is_stored(pipeline: Pipeline) -> None:
    good = pipeline.market("SENSEX", 4, seed=5, chains_every=10)
    payloads = [json.dumps(good[0]).encode(), b"{not json", json.dumps({**good[1], "v": 2}).encode()]
    payloads += [json.dumps(r).encode() for r in good[2:]]
    sequence_numbers = pipeline.put(payloads, key="SENSEX")
    letters = wait_for(
        lambda: [
            d
            for d in pipeline.dead_letters()
            if d["KinesisBatchInfo"]["startSequenceNumber"] == sequence_numbers[1]
        ],
        timeout=60,
    )
    assert letters[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    stored = pipeline.stored_ids("ticks")
    assert {_key(good[0]), *(_key(r) for r in good[2:])} <= stored
    assert _key(good[1]) not in stored  # its copy with "v": 2 was rejected


def test_a_redis_outage_delays_the_records_but_loses_none(pipeline: Pipeline) -> None:
    records = pipeline.market("QQQ", 12, seed=6, chains_every=4)
    before = pipeline.delivered()
    pipeline.redis_process.send_signal(signal.SIGSTOP)  # unreachable: connections hang, then time out
    try:
        pipeline.put([json.dumps(r).encode() for r in records[:8]], key="QQQ")
        time.sleep(4)
        pipeline.put([json.dumps(r).encode() for r in records[8:]], key="QQQ")
    finally:
        pipeline.redis_process.send_signal(signal.SIGCONT)
    wait_for(lambda: pipeline.delivered() >= before + len(records), timeout=90)
    assert {_key(r) for r in records} <= pipeline.stored_ids("ticks") | pipeline.stored_ids("chains")
    assert not [d for d in pipeline.dead_letters() if "QQQ" in json.dumps(d)]
