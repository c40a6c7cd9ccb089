"""Handlers of the WebSocket gateway's functional tests: a REQUEST authorizer (?token=good|deny),
$connect (?reject=<status>), $disconnect (records its event), a two-way $default, an echo that answers
through the @connections API, and a failing route."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3

# Built once per execution environment; the local cloud points WS_MANAGEMENT_URL at its gateway.
management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_MANAGEMENT_URL"])


def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    if token not in ("good", "deny"):
        raise Exception("Unauthorized")  # API Gateway's 401
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if token == "good" else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"user": "u1", "tier": 2, "event_type": event["requestContext"]["eventType"]},
    }


def connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    status = (event.get("queryStringParameters") or {}).get("reject")
    return {"statusCode": int(status) if status else 200}


def disconnect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    path = Path(os.environ["RECORD_DIR"]) / f"{connection_id.replace('/', '_')}.json"
    partial = path.with_suffix(".part")  # written whole, then renamed: the test never reads half a file
    partial.write_text(json.dumps(event))
    partial.replace(path)
    return {"statusCode": 200}


def default(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Two-way: the body returned is sent to the client by the gateway itself."""
    return {
        "statusCode": 200,
        "body": json.dumps({"route": event["requestContext"]["routeKey"], "body": event["body"]}),
    }


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answers through @connections (not a route response)."""
    request = event["requestContext"]
    body = json.loads(event["body"])
    management.post_to_connection(
        ConnectionId=request["connectionId"],
        Data=json.dumps(
            {
                "echo": body.get("data"),
                "authorizer": request.get("authorizer"),
                "endpoint": os.environ["WS_MANAGEMENT_URL"],
                "api_endpoint": os.environ["WS_ENDPOINT"],
                "event": event,
            }
        ).encode(),
    )
    return {"statusCode": 200}


def fail(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError("the function failed")
