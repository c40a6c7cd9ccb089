"""Handlers of the REST gateway's functional tests: an echo, authorizers, a binary echo, failures."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

CORS = {"Access-Control-Allow-Origin": "https://app.example"}  # the functions add CORS headers themselves


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The event, as the JSON body."""
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", **CORS},
        "body": json.dumps(event),
    }


def binary_echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The request body's bytes back, reversed, base64-encoded."""
    data = base64.b64decode(event["body"]) if event["isBase64Encoded"] else (event["body"] or "").encode()
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/octet-stream", **CORS},
        "body": base64.b64encode(data[::-1]).decode(),
        "isBase64Encoded": True,
        "multiValueHeaders": {"X-Received": ["base64" if event["isBase64Encoded"] else "text", "once-more"]},
    }


def broken(event: dict[str, Any], context: Any) -> Any:
    """/broken/malformed returns a non-proxy output; /broken/raise fails."""
    if event["pathParameters"]["kind"] == "raise":
        raise RuntimeError("the function failed")
    return {"hello": "world"}


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(3)
    return {"statusCode": 200, "body": "late"}


def _policy(effect: str, method_arn: str) -> dict[str, Any]:
    """A policy on every GET of the API's stage: ``arn:...:<api>/<stage>/GET/*``."""
    api_and_stage = "/".join(method_arn.split("/")[:2])
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{api_and_stage}/GET/*"}
        ],
    }


def token_authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``Bearer allow-<user>`` → Allow with context; ``Bearer deny`` → Deny; ``Bearer expired`` →
    Unauthorized (401); anything else → a failure (500)."""
    token = event["authorizationToken"].removeprefix("Bearer ")
    if token.startswith("allow-"):
        user = token.removeprefix("allow-")
        return {
            "principalId": user,
            "policyDocument": _policy("Allow", event["methodArn"]),
            "context": {"user": user, "tier": "gold", "quota": 3, "admin": False},
        }
    if token == "deny":
        return {"principalId": "nobody", "policyDocument": _policy("Deny", event["methodArn"])}
    if token == "expired":
        raise Exception("Unauthorized")
    raise ValueError(f"unexpected token {token}")


def tenant_authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """REQUEST: allows when the X-Api-Key header is ``key-<tenant>`` for the ``tenant`` query string."""
    tenant = event["queryStringParameters"]["tenant"]
    headers = {name.lower(): value for name, value in event["headers"].items()}
    allowed = headers.get("x-api-key") == f"key-{tenant}"
    return {
        "principalId": tenant,
        "policyDocument": _policy("Allow" if allowed else "Deny", event["methodArn"]),
        "context": {"tenant": tenant, "path": event["path"]},
    }
