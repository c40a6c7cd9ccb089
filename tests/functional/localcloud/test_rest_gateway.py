"""The REST gateway in a running local cloud: real worker processes, requests over the real port
(http.client) and through ``handle_request``."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from localcloud.cloud import LocalCloud

TEMPLATE = Path(__file__).parent / "restapp" / "template.yaml"


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Api:
    cloud: LocalCloud
    port: int

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, **named: str
    ) -> Reply:
        headers = {**(headers or {}), **named}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def invocations(self, function: str) -> int:
        count: int = self.cloud.runtimes[function].stats()["invocations"]
        return count


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    cloud = LocalCloud(
        TEMPLATE,
        port=0,
        state_dir=tmp_path_factory.mktemp("rest"),
        stack_name="lc-rest",
        endpoint_url=None,
        rest_integration_timeout_s=1.0,
    )
    cloud.start()
    try:
        assert cloud.server is not None
        yield Api(cloud, cloud.server.port)
    finally:
        cloud.stop()


def test_public_route_over_the_port_with_and_without_stage(api: Api) -> None:
    for path in ("/public?q=1&q=2", "/dev/public?q=1&q=2"):
        reply = api.request("GET", path, headers={"X-Trace": "t"})
        assert reply.status == 200
        event = reply.json()
        assert event["path"] == "/public"
        assert event["requestContext"]["path"] == "/dev/public"
        assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
        assert event["headers"]["X-Trace"] == "t"
        assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
        assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"  # from the function


def test_unknown_route_is_403_missing_authentication_token(api: Api) -> None:
    reply = api.request("GET", "/dev/nowhere")
    assert (reply.status, reply.json()) == (403, {"message": "Missing Authentication Token"})


def test_local_endpoints_stay_the_local_clouds(api: Api) -> None:
    status = api.request("GET", "/_local/status").json()
    assert {"requests", "errors_4xx", "errors_5xx", "latency_ms"} <= set(status["rest"])
    assert set(status["rest"]["latency_ms"]) >= {"p50", "p99"}
    assert "Api" not in status["not_emulated"]
    assert "REST API" in api.cloud.banner()


def test_protected_route_without_token_is_401(api: Api) -> None:
    before = api.invocations("TokenAuthorizer")
    reply = api.request("GET", "/dev/items/1")
    assert (reply.status, reply.json()) == (401, {"message": "Unauthorized"})
    assert api.invocations("TokenAuthorizer") == before  # not invoked without its identity source


def test_deny_policy_is_403(api: Api) -> None:
    reply = api.request("GET", "/dev/items/1", Authorization="Bearer deny")
    assert reply.status == 403
    assert reply.json() == {"Message": "User is not authorized to access this resource with an explicit deny"}


def test_unauthorized_from_the_authorizer_is_401_and_a_failure_500(api: Api) -> None:
    assert api.request("GET", "/items/1", Authorization="Bearer expired").status == 401
    crashed = api.request("GET", "/items/1", Authorization="Bearer crash")
    assert (crashed.status, crashed.json()) == (500, {"message": None})


def test_allowed_request_carries_the_authorizer_context(api: Api) -> None:
    reply = api.request("GET", "/dev/items/42", Authorization="Bearer allow-alice")
    assert reply.status == 200
    event = reply.json()
    assert event["pathParameters"] == {"id": "42"}
    authorizer = event["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "alice"
    assert (authorizer["user"], authorizer["tier"], authorizer["quota"], authorizer["admin"]) == (
        "alice",
        "gold",
        "3",
        "false",
    )


def test_authorizer_invoked_once_within_the_ttl(api: Api) -> None:
    before = api.invocations("TokenAuthorizer")
    for item in range(4):
        assert api.request("GET", f"/items/{item}", Authorization="Bearer allow-bob").status == 200
    assert api.invocations("TokenAuthorizer") == before + 1


def test_request_authorizer(api: Api) -> None:
    assert api.request("GET", "/tenant?tenant=t1").status == 401  # X-Api-Key missing
    allowed = api.request("GET", "/tenant?tenant=t1", headers={"X-Api-Key": "key-t1"})
    assert allowed.status == 200
    assert allowed.json()["requestContext"]["authorizer"]["tenant"] == "t1"
    assert api.request("GET", "/tenant?tenant=t2", headers={"X-Api-Key": "key-t1"}).status == 403


def test_cors_preflight(api: Api) -> None:
    before = api.invocations("TokenAuthorizer")
    reply = api.request(
        "OPTIONS",
        "/dev/items/1",
        Origin="https://app.example",
        headers={"Access-Control-Request-Method": "GET"},
    )
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert reply.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert reply.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"
    assert reply.headers["Access-Control-Max-Age"] == "600"
    assert api.invocations("TokenAuthorizer") == before


def test_greedy_route(api: Api) -> None:
    reply = api.request("DELETE", "/dev/files/docs/a%20b.txt")
    assert reply.status == 200
    assert reply.json()["pathParameters"] == {"proxy": "docs/a b.txt"}


def test_binary_echo(api: Api) -> None:
    data = bytes(range(256))
    reply = api.request("POST", "/binary", data, headers={"Content-Type": "image/png"})
    assert reply.status == 200
    assert reply.body == data[::-1]
    assert reply.headers.get_all("X-Received") == ["base64", "once-more"]


def test_function_errors_are_502(api: Api) -> None:
    for kind in ("malformed", "raise"):
        reply = api.request("GET", f"/broken/{kind}")
        assert (reply.status, reply.json()) == (502, {"message": "Internal server error"})


def test_integration_timeout_is_504_through_handle_request(api: Api) -> None:
    assert api.cloud.rest is not None
    started = time.perf_counter()
    response = api.cloud.rest.handle_request("GET", "/dev/slow", {"Host": "localhost"}, b"")
    elapsed = time.perf_counter() - started
    assert response.status == 504
    assert json.loads(response.body) == {"message": "Endpoint request timed out"}
    assert 1.0 <= elapsed < 2.5


def test_handle_request_matches_the_port(api: Api) -> None:
    assert api.cloud.rest is not None
    response = api.cloud.rest.handle_request(
        "GET", "/dev/items/7", {"Authorization": "Bearer allow-carol"}, b""
    )
    assert response.status == 200
    assert json.loads(response.body)["requestContext"]["authorizer"]["principalId"] == "carol"


def test_implicit_api(api: Api) -> None:
    reply = api.request("GET", "/Prod/implicit")
    assert reply.status == 200
    assert reply.json()["requestContext"]["stage"] == "Prod"
