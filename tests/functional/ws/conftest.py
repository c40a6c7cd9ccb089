"""Fixtures of the WebSocket functional tests: a ``@connections`` test double, the real handler
modules imported with the environment the template gives them, API Gateway WebSocket events."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import redis

from tests.functional.auth.conftest import (  # noqa: F401 — the authorizer's fixtures, for $connect tests
    auth_env,
    authorizer_app,
    import_handler,
    restore_logging,
)
from tests.functional.ws.connections_double import ConnectionsDouble

REGION = "us-east-1"
ACCOUNT = "123456789012"
API_ID = "wsapi12345"


@pytest.fixture(scope="session")
def connections_server() -> Iterator[ConnectionsDouble]:
    server = ConnectionsDouble()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def connections(connections_server: ConnectionsDouble) -> ConnectionsDouble:
    connections_server.reset()
    return connections_server


@pytest.fixture
def ws_env(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    for name, value in {
        "REDIS_URL": redis_url,
        "WS_MANAGEMENT_URL": connections.url,
        "PRODUCTS": "NIFTY,BANKNIFTY,AAPL",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "fanout",
        "POWERTOOLS_METRICS_NAMESPACE": "DeltaStreamTest",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def ws_app(ws_env: None) -> ModuleType:
    return import_handler("ws")


class LambdaContext:
    function_name = "FanoutFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:FanoutFunction"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def ws_event(
    route: str,
    connection_id: str,
    body: Any = None,
    *,
    user_id: str | None = "u1",
    email: str = "ada@example.com",
) -> dict[str, Any]:
    """An API Gateway WebSocket proxy event for ``route`` (``$connect``, ``$disconnect``, a custom
    route or ``$default``), as API Gateway sends it (``sam local generate-event`` has no WebSocket
    template; the shape follows the API Gateway developer guide)."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": event_type,
        "messageDirection": "IN",
        "connectionId": connection_id,
        "extendedRequestId": str(uuid.uuid4()),
        "requestTime": "09/Apr/2026:12:34:56 +0000",
        "requestTimeEpoch": 1775738096000,
        "stage": "dev",
        "domainName": f"{API_ID}.execute-api.{REGION}.amazonaws.com",
        "connectedAt": 1775738090000,
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
        "requestId": str(uuid.uuid4()),
        "apiId": API_ID,
    }
    if event_type == "MESSAGE":
        context["messageId"] = str(uuid.uuid4())
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if route == "$connect":
        event["headers"] = {"Host": context["domainName"], "Sec-WebSocket-Version": "13"}
        event["queryStringParameters"] = {"token": "a.b.c"}
        if user_id is not None:
            context["authorizer"] = {"principalId": user_id, "userId": user_id, "email": email, "name": "Ada"}
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def kinesis_event(records: list[bytes], shard: str = "shardId-000000000000") -> dict[str, Any]:
    """A Kinesis event-source-mapping event carrying ``records`` (data base64-encoded)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "NIFTY",
                    "sequenceNumber": f"{49590338271490256608559692538361571095921575989136588898 + i}",
                    "data": base64.b64encode(data).decode(),
                    "approximateArrivalTimestamp": 1775738096.0 + i,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{i}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/fanout",
                "awsRegion": REGION,
                "eventSourceARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/deltastream-enriched",
            }
            for i, data in enumerate(records)
        ]
    }
