"""The REST gateway end to end through ``handle_request``, with the functional test template and
in-memory functions (no sockets, no worker processes)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from localcloud.model import AppModel
from localcloud.rest_config import IMPLICIT_API, rest_apis
from localcloud.rest_gateway import RestGateway
from localcloud.runtime import Invocation, ThrottledError
from localcloud.server import LocalRouter, Response, json_response
from localcloud.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "functional" / "localcloud" / "restapp" / "template.yaml"
Handler = Callable[[dict[str, Any]], Any]


class FakeFunction:
    """Runs ``handler`` in-process; an exception becomes Lambda's error document."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation:
        self.events.append(event)
        try:
            payload, error = self.handler(event), None
        except ThrottledError:
            raise
        except Exception as exc:
            payload, error = None, {"errorMessage": str(exc), "errorType": type(exc).__name__}
        return Invocation(request_id or "r", error is None, payload, error, 0.1, None, False)


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Access-Control-Allow-Origin": "https://app.example"},
        "body": json.dumps(event),
    }


def allow_all(event: dict[str, Any]) -> dict[str, Any]:
    token = event.get("authorizationToken", "")
    effect = "Deny" if token.endswith("deny") else "Allow"
    if token.endswith("expired"):
        raise Exception("Unauthorized")
    statement = {
        "Action": "execute-api:Invoke",
        "Effect": effect,
        "Resource": "arn:aws:execute-api:*:*:*/dev/*",
    }
    return {
        "principalId": "u-1",
        "policyDocument": {"Statement": [statement]},
        "context": {"tier": "gold", "n": 1},
    }


def slow(event: dict[str, Any]) -> dict[str, Any]:
    time.sleep(0.5)
    return {"statusCode": 200}


@pytest.fixture(scope="module")
def model() -> AppModel:
    return load_template(TEMPLATE, stack_name="rest-test")


@pytest.fixture
def functions() -> dict[str, FakeFunction]:
    return {
        "TokenAuthorizer": FakeFunction(allow_all),
        "TenantAuthorizer": FakeFunction(allow_all),
        "EchoFunction": FakeFunction(echo),
        "ImplicitFunction": FakeFunction(echo),
        "BinaryFunction": FakeFunction(
            lambda e: {
                "statusCode": 200,
                "body": base64.b64encode(b"\x00\xff").decode(),
                "isBase64Encoded": True,
            }
        ),
        "BrokenFunction": FakeFunction(lambda e: {"hello": "world"}),
        "SlowFunction": FakeFunction(slow),
    }


@pytest.fixture
def gateway(model: AppModel, functions: dict[str, FakeFunction]) -> RestGateway:
    return RestGateway.from_model(model, functions, integration_timeout_s=0.2)


def get(
    gateway: RestGateway,
    path: str,
    method: str = "GET",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    **named_headers: str,
) -> Response:
    all_headers = {"Host": "127.0.0.1:3000", **(headers or {}), **named_headers}
    return gateway.handle_request(method, path, all_headers, body)


def body(response: Response) -> Any:
    return json.loads(response.body)


# --- configuration from the template ------------------------------------------------------------------


def test_apis_from_the_template(model: AppModel) -> None:
    apis = {api.logical_id: api for api in rest_apis(model)}
    assert set(apis) == {"Api", IMPLICIT_API}
    api = apis["Api"]
    assert api.stage == "dev"
    assert api.api_id == model.resources["Api"].physical_name
    assert api.binary_media_types == ("application/octet-stream", "image/*")
    assert api.stage_variables == {"greeting": "hello"}
    assert api.cors is not None
    assert api.cors.allow_origin == "https://app.example"
    assert api.preflight_authorizer is None  # AddDefaultAuthorizerToCorsPreflight: false
    assert api.authorizers["TokenAuth"].function_id == "TokenAuthorizer"
    assert api.authorizers["TenantAuth"].payload_type == "REQUEST"
    routes = {(r.method, r.path): r.authorizer for r in api.routes}
    assert routes[("GET", "/public")] is None
    assert routes[("GET", "/items/{id}")] == "TokenAuth"  # the DefaultAuthorizer
    assert routes[("GET", "/tenant")] == "TenantAuth"
    assert routes[("ANY", "/files/{proxy+}")] is None
    assert apis[IMPLICIT_API].stage == "Prod"


# --- routing and the stage prefix ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/public", "/dev/public", "/public?x=1", "/dev/public/"])
def test_served_with_and_without_the_stage(gateway: RestGateway, path: str) -> None:
    response = get(gateway, path)
    assert response.status == 200
    event = body(response)
    assert event["path"] == "/public" or event["path"] == "/public/"
    assert event["requestContext"]["path"].startswith("/dev/public")
    assert event["stageVariables"] == {"greeting": "hello"}


def test_implicit_api_on_its_prod_stage(gateway: RestGateway) -> None:
    for path in ("/implicit", "/Prod/implicit"):
        response = get(gateway, path)
        assert response.status == 200
        assert body(response)["requestContext"]["stage"] == "Prod"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("POST", "/public"), ("GET", "/"), ("GET", "/dev"), ("DELETE", "/dev/public")],
)
def test_unknown_path_or_method_is_403_missing_authentication_token(
    gateway: RestGateway, method: str, path: str
) -> None:
    response = get(gateway, path, method)
    assert response.status == 403
    assert body(response) == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_greedy_route_with_any_method(gateway: RestGateway, functions: dict[str, FakeFunction]) -> None:
    response = get(gateway, "/dev/files/a/b.txt", "PUT", b"data")
    assert response.status == 200
    event = functions["EchoFunction"].events[-1]
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b.txt"}
    assert event["httpMethod"] == "PUT"
    assert event["body"] == "data"


# --- authorizers --------------------------------------------------------------------------------------


def test_protected_route_without_token_is_401(
    gateway: RestGateway, functions: dict[str, FakeFunction]
) -> None:
    response = get(gateway, "/items/1")
    assert (response.status, body(response)) == (401, {"message": "Unauthorized"})
    assert functions["TokenAuthorizer"].events == []
    assert functions["EchoFunction"].events == []


def test_protected_route_with_allowed_token(gateway: RestGateway, functions: dict[str, FakeFunction]) -> None:
    response = get(gateway, "/dev/items/1", Authorization="Bearer ok")
    assert response.status == 200
    authorizer = body(response)["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "u-1"
    assert (authorizer["tier"], authorizer["n"]) == ("gold", "1")
    event = functions["TokenAuthorizer"].events[0]
    assert event["methodArn"].endswith("/dev/GET/items/1")


def test_deny_and_unauthorized(gateway: RestGateway) -> None:
    denied = get(gateway, "/items/1", Authorization="Bearer deny")
    assert denied.status == 403
    assert body(denied) == {"Message": "User is not authorized to access this resource with an explicit deny"}
    expired = get(gateway, "/items/1", Authorization="Bearer expired")
    assert (expired.status, body(expired)) == (401, {"message": "Unauthorized"})


def test_authorizer_invoked_once_within_the_ttl(
    gateway: RestGateway, functions: dict[str, FakeFunction]
) -> None:
    for item in range(5):
        assert get(gateway, f"/items/{item}", Authorization="Bearer same").status == 200
    assert len(functions["TokenAuthorizer"].events) == 1
    assert gateway.status()["apis"]["Api"]["authorizer_cache"]["TokenAuth"] == 1


def test_authorizer_failure_is_500_null_message(model: AppModel, functions: dict[str, FakeFunction]) -> None:
    functions["TokenAuthorizer"] = FakeFunction(lambda e: {"not": "a policy"})
    gateway = RestGateway.from_model(model, functions)
    response = get(gateway, "/items/1", Authorization="Bearer x")
    assert (response.status, body(response)) == (500, {"message": None})
    assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"


def test_request_authorizer_gets_the_request(
    gateway: RestGateway, functions: dict[str, FakeFunction]
) -> None:
    assert get(gateway, "/tenant").status == 401  # identity sources missing
    response = get(gateway, "/tenant?tenant=t1", headers={"X-Api-Key": "k"})
    assert response.status == 200
    event = functions["TenantAuthorizer"].events[0]
    assert event["type"] == "REQUEST"
    assert event["queryStringParameters"] == {"tenant": "t1"}
    assert event["headers"]["X-Api-Key"] == "k"
    assert "body" not in event
    assert event["methodArn"].endswith("/dev/GET/tenant")


# --- CORS ---------------------------------------------------------------------------------------------


def test_preflight_is_answered_by_the_gateway_without_authorizer(
    gateway: RestGateway, functions: dict[str, FakeFunction]
) -> None:
    response = get(gateway, "/dev/items/1", "OPTIONS", Origin="https://app.example")
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert functions["TokenAuthorizer"].events == []
    assert functions["EchoFunction"].events == []
    assert get(gateway, "/nowhere", "OPTIONS").status == 403


def test_preflight_behind_the_default_authorizer_when_sam_adds_it(
    model: AppModel, functions: dict[str, FakeFunction]
) -> None:
    # GIVEN AddDefaultAuthorizerToCorsPreflight at SAM's default (true)
    api = model.resources["Api"]
    auth = {**api.properties["Auth"]}
    del auth["AddDefaultAuthorizerToCorsPreflight"]
    resources = {**model.resources, "Api": replace(api, properties={**api.properties, "Auth": auth})}
    gateway = RestGateway.from_model(replace(model, resources=resources), functions)
    # THEN a preflight without a token is 401, with one 200
    assert get(gateway, "/items/1", "OPTIONS").status == 401
    assert get(gateway, "/items/1", "OPTIONS", Authorization="Bearer ok").status == 200


def test_functions_cors_headers_are_not_doubled(gateway: RestGateway) -> None:
    response = get(gateway, "/public")
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Access-Control-Allow-Origin" not in response.multi_value_headers


# --- responses ----------------------------------------------------------------------------------------


def test_binary_request_and_response(gateway: RestGateway, functions: dict[str, FakeFunction]) -> None:
    response = get(gateway, "/binary", "POST", b"\x89PNG\x00", headers={"Content-Type": "image/png"})
    assert response.status == 200
    assert response.body == b"\x00\xff"
    event = functions["BinaryFunction"].events[0]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x89PNG\x00"


def test_malformed_output_is_502(gateway: RestGateway) -> None:
    response = get(gateway, "/broken/malformed")
    assert (response.status, body(response)) == (502, {"message": "Internal server error"})


def test_function_error_is_502(model: AppModel, functions: dict[str, FakeFunction]) -> None:
    functions["BrokenFunction"] = FakeFunction(lambda e: 1 / 0)
    response = get(RestGateway.from_model(model, functions), "/broken/raise")
    assert (response.status, body(response)) == (502, {"message": "Internal server error"})


def test_throttled_function_is_500(model: AppModel, functions: dict[str, FakeFunction]) -> None:
    def throttled(event: dict[str, Any]) -> Any:
        raise ThrottledError("Rate Exceeded")

    functions["BrokenFunction"] = FakeFunction(throttled)
    response = get(RestGateway.from_model(model, functions), "/broken/x")
    assert (response.status, body(response)) == (500, {"message": "Internal server error"})


def test_an_unexpected_failure_is_500_not_a_dead_thread(
    model: AppModel, functions: dict[str, FakeFunction]
) -> None:
    # GIVEN a function the gateway cannot reach (its runtime is gone)
    del functions["EchoFunction"]
    response = get(RestGateway.from_model(model, functions), "/public")
    assert (response.status, body(response)) == (500, {"message": "Internal server error"})


def test_integration_timeout_is_504(gateway: RestGateway) -> None:
    started = time.perf_counter()
    response = get(gateway, "/slow")
    assert (response.status, body(response)) == (504, {"message": "Endpoint request timed out"})
    assert time.perf_counter() - started < 0.45  # the gateway does not wait for the function


def test_request_ids_and_status_counters(gateway: RestGateway) -> None:
    ok = get(gateway, "/public")
    get(gateway, "/nowhere")
    get(gateway, "/broken/malformed")
    assert ok.headers["x-amzn-RequestId"] == body(ok)["requestContext"]["requestId"]
    status = gateway.status()
    assert (status["requests"], status["errors_4xx"], status["errors_5xx"]) == (3, 1, 1)
    assert status["latency_ms"]["p50"] is not None
    assert status["latency_ms"]["p99"] is not None


def test_concurrent_requests(gateway: RestGateway) -> None:
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(get(gateway, "/public").status)) for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20


def test_router_mounts_the_gateway_outside_local(gateway: RestGateway) -> None:
    router = LocalRouter()
    router.add("GET", "/_local/status", lambda: json_response(200, {"ok": True}))
    router.mount(gateway)
    assert router.handle_request("GET", "/_local/status", {}, b"").status == 200
    assert router.handle_request("GET", "/_local/other", {}, b"").status == 404  # stays the local cloud's
    assert router.handle_request("GET", "/dev/public", {}, b"").status == 200
