"""Logs each record it receives; reports none as failed."""

import base64
import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, list[Any]]:
    for record in event["Records"]:
        body = json.loads(base64.b64decode(record["kinesis"]["data"]))
        shard = record["eventID"].split(":")[0]
        print(f"{shard} #{record['kinesis']['sequenceNumber']} {body['symbol']} {body['price']}")
    return {"batchItemFailures": []}
