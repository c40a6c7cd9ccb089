"""Puts a few JSON records on the stream each time the schedule fires."""

import json
import os
import random
from datetime import UTC, datetime
from typing import Any

import boto3

kinesis = boto3.client("kinesis")  # reaches the local cloud through AWS_ENDPOINT_URL


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    count = int(os.environ["RECORDS_PER_RUN"])
    records = [
        {
            "Data": json.dumps(
                {"symbol": symbol, "price": round(random.uniform(90, 110), 2), "at": event["time"]}
            ),
            "PartitionKey": symbol,
        }
        for symbol in random.sample(["AAPL", "SPY", "QQQ", "TSLA", "NIFTY", "SENSEX"], k=min(count, 6))
    ]
    response = kinesis.put_records(StreamName=os.environ["STREAM_NAME"], Records=records)
    print(f"{datetime.now(UTC):%H:%M:%S} put {len(records)} records, {response['FailedRecordCount']} failed")
    return {"put": len(records)}
