"""HTTP request → proxy event, Lambda output → HTTP response: the REST gateway's pure translations."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localcloud.rest_config import CorsConfig, GatewayResponseConfig, RestApiConfig
from localcloud.rest_events import (
    ACCESS_DENIED,
    EXPLICIT_DENY,
    MISSING_AUTHENTICATION_TOKEN,
    UNAUTHORIZED,
    Base64BodyError,
    HttpRequest,
    MalformedProxyResponse,
    RequestScope,
    gateway_response,
    integration_response,
    preflight_response,
    proxy_event,
    request_time,
)

SAM = Path(__file__).resolve().parents[3] / ".tools" / "bin" / "sam"
API = RestApiConfig(
    "Api", "abc123defg", "dev", (), binary_media_types=("application/octet-stream", "image/*")
)
RECEIVED = datetime(2015, 4, 9, 12, 34, 56, tzinfo=UTC)
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def sam_event(kind: str) -> dict[str, Any]:
    """A sample event from ``sam local generate-event apigateway <kind>`` (offline)."""
    if not SAM.exists():
        pytest.skip("sam CLI not installed under .tools/bin")
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    output = subprocess.run(
        [str(SAM), "local", "generate-event", "apigateway", kind],
        capture_output=True,
        check=True,
        text=True,
        env=environment,
        timeout=60,
    ).stdout
    document: dict[str, Any] = json.loads(output[output.index("{") :])
    return document


def scope(path: str = "/items/42", resource: str = "/items/{id}", **parameters: str) -> RequestScope:
    return RequestScope(
        api=API,
        account_id="123456789012",
        region="us-east-1",
        resource=resource,
        path=path,
        path_parameters=parameters or {"id": "42"},
        request_id=REQUEST_ID,
        received=RECEIVED,
    )


def request(
    method: str = "GET",
    target: str = "/dev/items/42?a=1&b=2&a=3",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    default = [("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8"), ("X-Multi", "one"), ("x-multi", "two")]
    return HttpRequest.parse(method, target, default if headers is None else headers, body, "10.0.0.7")


# --- the event ----------------------------------------------------------------------------------------


def test_event_has_the_key_set_of_sams_sample() -> None:
    # GIVEN the sample proxy event of the sam CLI
    sample = sam_event("aws-proxy")
    # WHEN a request is translated
    event = proxy_event(request(body=b'{"x": 1}'), scope(), {"principalId": "u"})
    # THEN the top level has exactly the sample's keys; requestContext and identity have at least its
    assert set(event) == set(sample)
    assert set(sample["requestContext"]) <= set(event["requestContext"])
    assert set(sample["requestContext"]["identity"]) <= set(event["requestContext"]["identity"])
    # and the documented additions of real events
    assert {"domainName", "domainPrefix", "extendedRequestId", "authorizer"} <= set(event["requestContext"])


def test_event_values() -> None:
    event = proxy_event(request(), scope(), None)
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["path"] == "/dev/items/42"  # the stage is in requestContext.path only
    assert context["stage"] == "dev"
    assert context["resourcePath"] == "/items/{id}"
    assert context["requestId"] == REQUEST_ID
    assert context["requestTime"] == "09/Apr/2015:12:34:56 +0000"
    assert context["requestTimeEpoch"] == 1428582896000
    assert context["identity"]["sourceIp"] == "10.0.0.7"
    assert context["identity"]["userAgent"] == "curl/8"
    assert context["apiId"] == "abc123defg"
    assert context["domainName"] == "127.0.0.1:3000"
    assert "authorizer" not in context


def test_multi_value_query_strings_and_headers() -> None:
    event = proxy_event(request(), scope(), None)
    # single-value maps hold the last value
    assert event["queryStringParameters"] == {"a": "3", "b": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "3"], "b": ["2"]}
    # header names group case-insensitively, first spelling kept
    assert event["headers"]["X-Multi"] == "two"
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    # API Gateway's forwarding headers
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.7"
    assert event["headers"]["X-Forwarded-Port"] == "3000"
    assert event["headers"]["X-Forwarded-Proto"] == "http"


def test_query_values_are_decoded_and_blank_values_kept() -> None:
    event = proxy_event(request(target="/items/42?q=a%20b&empty=&flag"), scope(), None)
    assert event["queryStringParameters"] == {"q": "a b", "empty": "", "flag": ""}


def test_no_query_string_is_null() -> None:
    event = proxy_event(request(target="/items/42"), scope(), None)
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_text_body_arrives_as_text() -> None:
    event = proxy_event(
        request("POST", headers=[("Content-Type", "application/json")], body=b'{"a":"\xc3\xa9"}'),
        scope(),
        None,
    )
    assert event["body"] == '{"a":"é"}'
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize("content_type", ["application/octet-stream", "image/png", "IMAGE/PNG; q=1"])
def test_binary_media_types_arrive_base64_encoded(content_type: str) -> None:
    body = b"\x89PNG\r\n\x1a\n\x00\x01"
    event = proxy_event(request("POST", headers=[("Content-Type", content_type)], body=body), scope(), None)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_non_utf8_body_arrives_base64_encoded_whatever_its_type() -> None:
    body = b"\xff\xfe\x00"
    event = proxy_event(request("POST", headers=[("Content-Type", "text/plain")], body=body), scope(), None)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_authorizer_context_is_in_request_context() -> None:
    event = proxy_event(
        request(), scope(), {"principalId": "user-1", "tier": "gold", "integrationLatency": 3}
    )
    assert event["requestContext"]["authorizer"] == {
        "principalId": "user-1",
        "tier": "gold",
        "integrationLatency": 3,
    }


def test_request_time_uses_english_months() -> None:
    assert request_time(datetime(2024, 12, 1, 1, 2, 3, tzinfo=UTC)) == "01/Dec/2024:01:02:03 +0000"


def test_method_arn_has_the_actual_path() -> None:
    assert (
        scope().method_arn("get") == "arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/GET/items/42"
    )
    root = scope(path="/", resource="/", x="1")
    assert root.method_arn("GET").endswith("/dev/GET/")


# --- the response -------------------------------------------------------------------------------------


def test_proxy_response_is_mapped() -> None:
    response = integration_response(
        {
            "statusCode": 201,
            "headers": {"X-One": "1", "Set-Cookie": "a=1", "X-Num": 5},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": '{"ok": true}',
            "isBase64Encoded": False,
        }
    )
    assert response.status == 201
    assert response.body == b'{"ok": true}'
    assert response.headers["X-One"] == "1"
    assert response.headers["X-Num"] == "5"
    assert response.headers["Content-Type"] == "application/json"  # API Gateway's default
    # a value in both headers and multiValueHeaders appears once
    assert response.multi_value_headers == {"Set-Cookie": ["a=1", "b=2"]}


def test_base64_response_is_decoded() -> None:
    payload = base64.b64encode(b"\x00\x01binary").decode()
    response = integration_response(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "image/png"},
            "body": payload,
            "isBase64Encoded": True,
        }
    )
    assert response.body == b"\x00\x01binary"
    assert response.headers["Content-Type"] == "image/png"


def test_status_code_only_is_enough() -> None:
    response = integration_response({"statusCode": 204})
    assert (response.status, response.body) == (204, b"")


@pytest.mark.parametrize(
    "payload",
    [
        "just a string",
        ["a list"],
        {"body": "no status"},
        {"statusCode": "abc"},
        {"statusCode": 200, "body": {"an": "object"}},
        {"statusCode": 200, "cookies": ["a=1"]},  # a key of HTTP APIs' format 2.0, not REST's
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
        {"statusCode": 200, "headers": {"X": {"nested": 1}}},
        None,
    ],
)
def test_malformed_proxy_responses_are_refused(payload: Any) -> None:
    with pytest.raises(MalformedProxyResponse):
        integration_response(payload)


def test_bad_base64_body_is_an_error() -> None:
    with pytest.raises(Base64BodyError):
        integration_response({"statusCode": 200, "body": "@@not base64@@", "isBase64Encoded": True})


# --- the gateway's own responses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (MISSING_AUTHENTICATION_TOKEN, 403, {"message": "Missing Authentication Token"}),
        (UNAUTHORIZED, 401, {"message": "Unauthorized"}),
        (ACCESS_DENIED, 403, {"Message": "User is not authorized to access this resource"}),
        (
            EXPLICIT_DENY,
            403,
            {"Message": "User is not authorized to access this resource with an explicit deny"},
        ),
    ],
)
def test_default_gateway_responses(error: Any, status: int, body: dict[str, Any]) -> None:
    response = gateway_response(error, {}, {})
    assert response.status == status
    assert json.loads(response.body) == body
    assert response.headers["x-amzn-ErrorType"] == error.error_type


def test_gateway_responses_customise_status_headers_and_body() -> None:
    # GIVEN a DEFAULT_4XX customisation and a specific UNAUTHORIZED one
    responses = {
        "DEFAULT_4XX": GatewayResponseConfig(
            headers={"Access-Control-Allow-Origin": "https://app"},
            templates={
                "application/json": '{"error": $context.error.messageString, "id": "$context.requestId"}'
            },
        ),
        "UNAUTHORIZED": GatewayResponseConfig(status=418),
    }
    # WHEN a 403 uses the default and a 401 its own
    missing = gateway_response(MISSING_AUTHENTICATION_TOKEN, responses, {"requestId": "r-1"})
    unauthorized = gateway_response(UNAUTHORIZED, responses, {})
    # THEN the template is rendered, messageString quoted as in API Gateway
    assert json.loads(missing.body) == {"error": "Missing Authentication Token", "id": "r-1"}
    assert missing.headers["Access-Control-Allow-Origin"] == "https://app"
    assert unauthorized.status == 418
    assert json.loads(unauthorized.body) == {"message": "Unauthorized"}


def test_preflight_response_has_the_cors_headers() -> None:
    cors = CorsConfig("https://app", allow_headers="Authorization,Content-Type", max_age="600")
    response = preflight_response(cors, ["GET", "OPTIONS"])
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in response.headers
