"""Fixtures of the auth functional tests: the real handler modules, imported afresh with the
environment the template gives them, against the session's real Redis and in-process mongomock."""

from __future__ import annotations

import importlib.util
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis

ROOT = Path(__file__).parents[3]
REGION = "us-east-1"
ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"
SECRET = "functional-test-secret-0123456789-abcdef"
ORIGIN = "http://localhost:5173"


class LambdaContext:
    """The parts of the Lambda context the handlers and Powertools read."""

    function_name = "AuthFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:AuthFunction"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def proxy_event(
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    source_ip: str = "203.0.113.7",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (``sam local generate-event apigateway aws-proxy``'s shape)
    for ``POST path`` through the ``/api/auth/{action}`` resource. ``body`` is sent as JSON unless
    it is already a string."""
    all_headers = {"Content-Type": "application/json", "Origin": ORIGIN, **(headers or {})}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return {
        "resource": "/api/auth/{action}",
        "path": path,
        "httpMethod": "POST",
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"action": path.rsplit("/", 1)[-1]},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "resourceId": "abc123",
            "resourcePath": "/api/auth/{action}",
            "httpMethod": "POST",
            "path": f"/dev{path}",
            "stage": "dev",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": "09/Apr/2015:12:34:56 +0000",
            "requestTimeEpoch": 1428582896000,
            "identity": {"sourceIp": source_ip, "userAgent": "pytest"},
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def authorizer_event(token: str, route: str = "GET/api/data/products") -> dict[str, Any]:
    """A TOKEN authorizer event (``sam local generate-event apigateway authorizer``'s shape)."""
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/dev/{route}",
    }


def call(app: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Invoke the handler; its status, JSON body (``{}`` when empty) and single-value headers."""
    response: dict[str, Any] = app.handler(event, LambdaContext())
    headers = {k: v[0] for k, v in response.get("multiValueHeaders", {}).items()}
    headers.update(response.get("headers") or {})
    return response["statusCode"], json.loads(response["body"] or "{}"), headers


def import_handler(function: str) -> ModuleType:
    """Import ``functions/<function>/app.py`` as a fresh module (its composition root runs again)."""
    spec = importlib.util.spec_from_file_location(
        f"{function}_app_{uuid.uuid4().hex}", ROOT / "functions" / function / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Powertools' Logger configures loggers when a handler module is imported; undo that afterwards."""
    names = ("deltastream", "deltastream.authorizer")  # Powertools keeps its own "auth" logger
    saved = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate, logging.getLogger(n).level)
        for n in names
    }
    yield
    for name, (handlers, propagate, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.propagate = handlers, propagate
        logger.setLevel(level)


@pytest.fixture
def auth_env(monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_client: redis.Redis) -> None:
    """The environment the template gives AuthFunction and AuthorizerFunction, on the test stores."""
    for name, value in {
        "REDIS_URL": redis_url,
        "MONGO_URL": "",
        "JWT_SECRET": SECRET,
        "JWT_SECRET_ARN": "",
        "ACCESS_TOKEN_TTL": "900",
        "REFRESH_TOKEN_TTL": "3600",
        "CORS_ALLOW_ORIGIN": ORIGIN,
        "POWERTOOLS_SERVICE_NAME": "auth",
        "POWERTOOLS_METRICS_NAMESPACE": "DeltaStreamTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def auth_app(auth_env: None, restore_logging: None) -> ModuleType:
    return import_handler("auth")


@pytest.fixture
def authorizer_app(auth_env: None, restore_logging: None) -> ModuleType:
    return import_handler("authorizer")
