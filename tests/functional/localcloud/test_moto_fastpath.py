"""The embedded moto's Kinesis fast path answers exactly as moto's own code path does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from localcloud import moto_fastpath


@pytest.fixture
def kinesis() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield boto3.client(
        "kinesis",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    server.stop()
    moto_fastpath.install()  # the local cloud's default


def _scenario(kinesis: Any, stream: str) -> list[Any]:
    """PutRecords over two shards, then GetRecords pages from each shard; the observable results."""
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    put = kinesis.put_records(
        StreamName=stream,
        Records=[
            {"Data": f"payload-{i}".encode() + bytes([0, 255]), "PartitionKey": f"key-{i % 7}"}
            for i in range(40)
        ],
    )
    observed: list[Any] = [
        put["FailedRecordCount"],
        [(r["ShardId"], r["SequenceNumber"]) for r in put["Records"]],
    ]
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(3):
            page = kinesis.get_records(ShardIterator=iterator, Limit=15)
            observed.append(
                [
                    (
                        r["SequenceNumber"],
                        r["PartitionKey"],
                        r["Data"],
                        type(r["ApproximateArrivalTimestamp"]).__name__,
                    )
                    for r in page["Records"]
                ]
            )
            observed.append(page["MillisBehindLatest"] >= 0)
            iterator = page["NextShardIterator"]
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.put_records(StreamName=f"{stream}-missing", Records=[{"Data": b"x", "PartitionKey": "k"}])
    return observed


def test_put_and_get_records_answer_the_same_with_and_without_the_fast_path(kinesis: Any) -> None:
    moto_fastpath.uninstall()
    reference = _scenario(kinesis, "reference")
    moto_fastpath.install()
    calls_before = dict(moto_fastpath.fast_calls)
    fast = _scenario(kinesis, "fast")
    assert fast == reference
    # and the fast path really answered: both PutRecords (one raising in moto's backend) and 6 pages
    assert moto_fastpath.fast_calls["PutRecords"] - calls_before["PutRecords"] == 2
    assert moto_fastpath.fast_calls["GetRecords"] - calls_before["GetRecords"] == 6
    assert sum(len(page) for page in reference[2::2]) == 40


def test_the_pollers_raw_get_records_reads_what_boto3_reads(kinesis: Any) -> None:
    """The local cloud reads the embedded moto's GetRecords without botocore (raw_endpoint): the same
    records, pages and positions as through boto3."""
    from localcloud.kinesis import Boto3ShardReader, _RawGetRecords

    kinesis.create_stream(StreamName="raw", ShardCount=2)
    kinesis.put_records(
        StreamName="raw",
        Records=[{"Data": b"\x00\xff" + f"r{i}".encode(), "PartitionKey": f"k{i % 5}"} for i in range(60)],
    )
    endpoint = kinesis.meta.endpoint_url
    start = {"ShardIteratorType": "TRIM_HORIZON"}
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        boto = Boto3ShardReader(kinesis, "raw", shard, start)
        raw = Boto3ShardReader(kinesis, "raw", shard, start, raw_endpoint=endpoint)
        pages = [(boto.read(7), raw.read(7)) for _ in range(8)]
        for via_boto3, via_raw in pages:
            assert [(r.sequence_number, r.partition_key, r.data) for r in via_raw] == [
                (r.sequence_number, r.partition_key, r.data) for r in via_boto3
            ]
            assert [round(r.approximate_arrival, 3) for r in via_raw] == [
                round(r.approximate_arrival, 3) for r in via_boto3
            ]
        assert sum(len(page) for page, _ in pages) > 0
    total = sum(
        len(Boto3ShardReader(kinesis, "raw", shard, start, raw_endpoint=endpoint).read(100))
        for shard in ("shardId-000000000000", "shardId-000000000001")
    )
    assert total == 60
    with pytest.raises(RuntimeError, match="GetRecords: HTTP 5"):
        _RawGetRecords(endpoint, "us-east-1")("not-an-iterator", 10)
