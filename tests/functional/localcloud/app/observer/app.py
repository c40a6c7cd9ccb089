"""Test handler: records every invocation in S3 so tests can see what was delivered, and fails on
purpose according to MODE (poison records, partial batch failures, a record that fails once)."""

import base64
import json
import os
import time
import uuid
from typing import Any

import boto3

s3 = boto3.client("s3")  # the local cloud gives us AWS_ENDPOINT_URL and credentials
BUCKET = os.environ["OBSERVE_BUCKET"]
NAME = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
MODE = os.environ.get("MODE", "ok")


def _observe(kind: str, body: dict[str, Any]) -> None:
    key = f"{NAME}/{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps({"kind": kind, **body}).encode())


def _first_time(marker: str) -> bool:
    key = f"markers/{NAME}/{marker}"
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
        return False
    except s3.exceptions.ClientError:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"1")
        return True


def handler(event: dict[str, Any], context: Any) -> Any:
    if "Records" not in event:  # a scheduled event
        _observe("schedule", {"event": event, "remaining_ms": context.get_remaining_time_in_millis()})
        return {"ok": True}
    records = [
        {
            "seq": r["kinesis"]["sequenceNumber"],
            "key": r["kinesis"]["partitionKey"],
            "data": base64.b64decode(r["kinesis"]["data"]).decode(),
            "shard": r["eventID"].split(":")[0],
            "arrival": r["kinesis"]["approximateArrivalTimestamp"],
        }
        for r in event["Records"]
    ]
    _observe("batch", {"records": records, "source": event["Records"][0]["eventSourceARN"]})
    if MODE == "poison" and any(r["data"] == "poison" for r in records):
        raise ValueError("poison record")
    if MODE == "partial":
        failed = [
            r for r in records if r["data"] == "fail" or (r["data"] == "flaky" and _first_time(r["seq"]))
        ]
        return {"batchItemFailures": [{"itemIdentifier": r["seq"]} for r in failed]}
    return None
