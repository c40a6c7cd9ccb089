"""Fixtures: a running local cloud on the test application, and clients that reach it the way a
developer's code would (the status endpoint, then boto3 at the AWS endpoint it names)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from localcloud.cloud import LocalCloud

APP = Path(__file__).parent / "app" / "template.yaml"
T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy; fail with its last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s (last value: {value!r})")
        time.sleep(interval)
        value = check()
    return value


@dataclass
class Client:
    """What a test sees of a running local cloud: its status endpoint and boto3 clients."""

    status_url: str
    stack: str

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.status_url, timeout=10) as response:
            document: dict[str, Any] = json.load(response)
        return document

    def aws(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.status()["aws_endpoint_url"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def put(self, stream: str, *payloads: str, key: str = "k") -> list[str]:
        """PutRecords to ``<stack>-<stream>``; returns the sequence numbers, in order."""
        response = self.aws("kinesis").put_records(
            StreamName=f"{self.stack}-{stream}",
            Records=[{"Data": p.encode(), "PartitionKey": key} for p in payloads],
        )
        assert response["FailedRecordCount"] == 0
        return [r["SequenceNumber"] for r in response["Records"]]

    def observations(self, function: str, kind: str = "batch") -> list[dict[str, Any]]:
        """Every invocation the observer handler of ``function`` recorded, oldest first."""
        s3 = self.aws("s3")
        bucket = f"{self.stack}-observations"
        keys: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{self.stack}-{function}/"
        ):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        documents = [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in sorted(keys)]
        return [d for d in documents if d["kind"] == kind]

    def batches(self, function: str) -> list[list[str]]:
        return [[r["data"] for r in d["records"]] for d in self.observations(function)]

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = self.aws("sqs")
        url = sqs.get_queue_url(QueueName=f"{self.stack}-DeadLetters")["QueueUrl"]
        messages: list[dict[str, Any]] = []
        while True:
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            batch = received.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def start_cloud(state_dir: Path, stack: str, **options: Any) -> tuple[LocalCloud, Client]:
    cloud = LocalCloud(APP, port=0, state_dir=state_dir, stack_name=stack, endpoint_url=None, **options)
    cloud.start()
    assert cloud.server is not None
    return cloud, Client(f"http://127.0.0.1:{cloud.server.port}/_local/status", stack)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    # rate(1 minute) at 600x: the Ticker fires at start, then every 0.1 s of real time
    cloud, client = start_cloud(tmp_path_factory.mktemp("localcloud"), "lc-test", speed=600.0)
    try:
        yield client
    finally:
        cloud.stop()
