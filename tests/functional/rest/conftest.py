"""Fixtures: the local stack on template.yaml (local cloud with the REST gateway, real Redis, the
embedded MongoDB stand-in), with market data put through the pipeline, and an HTTP client for it."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud.cloud import LocalCloud
from tests.market_records import market_records

from ..localcloud.conftest import wait_for

ROOT = Path(__file__).resolve().parents[3]
SECRET = "functional-test-secret-" + "s" * 32


class Api:
    def __init__(self, cloud: LocalCloud) -> None:
        assert cloud.server is not None
        self.cloud = cloud
        self.port = cloud.server.port
        self.redis_url = ""

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload

    def register(self, email: str, password: str = "correct-Horse-42") -> dict[str, Any]:
        status, _, body = self.call(
            "POST", "/api/auth/register", {"email": email, "password": password, "name": "T"}
        )
        assert status == 201, body
        return dict(body)


def _market_records(product: str, ticks: int, first_tick: int) -> list[dict[str, Any]]:
    """An underlying and a chain every tick, 200 ms apart, seeded by the first tick id."""
    return market_records(product, ticks, first_tick=first_tick, seed=first_tick, step_ms=200)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, embedded_mongo_url: str) -> Iterator[Api]:
    from tests.conftest import redis_server

    with redis_server(tmp_path_factory.mktemp("rest-redis")) as (redis_url, _):
        cloud = LocalCloud(
            ROOT / "template.yaml",
            port=0,
            state_dir=tmp_path_factory.mktemp("rest"),
            stack_name="ds-rest",
            endpoint_url=None,
            ws_port=0,
            parameter_overrides={
                "RedisUrl": redis_url,
                "MongoUrl": embedded_mongo_url,
                "MongoDb": f"rest{os.getpid()}",
                "FeedEnabled": "false",
                "JwtSecret": SECRET,
                "ApiRateLimitPerMinute": "100000",
            },
        )
        try:
            cloud.start()
            kinesis = boto3.client(
                "kinesis",
                endpoint_url=cloud.endpoint.url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            records = _market_records("NIFTY", 3, first_tick=1)
            kinesis.put_records(
                StreamName="deltastream-ticks-dev",
                Records=[{"Data": json.dumps(r).encode(), "PartitionKey": "NIFTY"} for r in records],
            )
            wait_for(
                lambda: cloud.status()["mappings"]["EnrichFunction.Ticks"]["records"] >= len(records),
                timeout=60,
            )
            client = Api(cloud)
            client.redis_url = redis_url
            yield client
        finally:
            cloud.stop()
