"""The WebSocket gateway in a running local cloud: real worker processes, real ``websockets`` clients,
boto3's ``apigatewaymanagementapi`` against the local ``@connections`` API."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from localcloud.cloud import LocalCloud

from .conftest import wait_for

TEMPLATE = Path(__file__).parent / "wsapp" / "template.yaml"


@dataclass
class Gateway:
    cloud: LocalCloud
    port: int
    records: Path

    def url(self, query: str = "token=good", stage: str = "/dev") -> str:
        return f"ws://127.0.0.1:{self.port}{stage}?{query}"

    def management(self, stage: str = "/dev") -> Any:
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=f"http://127.0.0.1:{self.port}{stage}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def invocations(self, function: str) -> int:
        count: int = self.cloud.runtimes[function].stats()["invocations"]
        return count

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.cloud.status()["websocket"]
        return status


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    records = tmp_path_factory.mktemp("ws-records")
    cloud = LocalCloud(
        TEMPLATE,
        port=0,
        ws_port=0,
        state_dir=tmp_path_factory.mktemp("ws"),
        stack_name="lc-ws",
        endpoint_url=None,
        parameter_overrides={"RecordDir": str(records)},
    )
    cloud.start()
    try:
        assert cloud.websocket is not None
        yield Gateway(cloud, cloud.websocket.port, records)
    finally:
        cloud.stop()


def client(url: str, **options: Any) -> Any:
    return connect(url, proxy=None, compression=None, open_timeout=30, **options)


async def receive_json(ws: ClientConnection, timeout: float = 20) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def echo(ws: ClientConnection, data: Any) -> Any:
    await ws.send(json.dumps({"action": "echo", "data": data}))
    return await receive_json(ws)


def rejected_status(url: str) -> int:
    async def attempt() -> int:
        with pytest.raises(InvalidStatus) as rejected:
            async with client(url):
                pass
        return rejected.value.response.status_code

    return asyncio.run(attempt())


# --- $connect -----------------------------------------------------------------------------------------


def test_connect_without_token_is_401_before_the_authorizer_runs(gateway: Gateway) -> None:
    before = gateway.invocations("AuthorizerFunction")
    assert rejected_status(gateway.url(query="")) == 401
    assert gateway.invocations("AuthorizerFunction") == before


def test_connect_with_a_bad_token_is_401_and_with_a_denying_policy_403(gateway: Gateway) -> None:
    assert rejected_status(gateway.url(query="token=bad")) == 401  # the authorizer raised "Unauthorized"
    assert rejected_status(gateway.url(query="token=deny")) == 403


def test_connect_integration_non_2xx_rejects_the_upgrade_with_its_status(gateway: Gateway) -> None:
    assert rejected_status(gateway.url(query="token=good&reject=409")) == 409


def test_unknown_stage_is_403(gateway: Gateway) -> None:
    assert rejected_status(gateway.url(stage="/prod")) == 403


# --- messages -----------------------------------------------------------------------------------------


def test_echo_through_connections_carries_the_authorizer_context(gateway: Gateway) -> None:
    async def scenario() -> Any:
        async with client(gateway.url(), user_agent_header="lc-test/1") as ws:
            return await echo(ws, "hi")

    reply = asyncio.run(scenario())

    assert reply["echo"] == "hi"
    authorizer = reply["authorizer"]
    assert {k: authorizer[k] for k in ("principalId", "user", "tier", "event_type")} == {
        "principalId": "user-1",
        "user": "u1",
        "tier": "2",
        "event_type": "CONNECT",
    }
    # The template's AWS URLs, rewritten for the functions to the local gateway.
    assert reply["endpoint"] == f"http://127.0.0.1:{gateway.port}/dev"
    assert reply["api_endpoint"] == f"ws://127.0.0.1:{gateway.port}"
    event = reply["event"]
    context = event["requestContext"]
    assert context["routeKey"] == "echo"
    assert context["eventType"] == "MESSAGE"
    assert context["messageDirection"] == "IN"
    assert context["stage"] == "dev"
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "lc-test/1"}
    assert context["domainName"] == f"{context['apiId']}.execute-api.us-east-1.amazonaws.com"
    assert {
        "messageId",
        "requestId",
        "extendedRequestId",
        "requestTime",
        "connectedAt",
        "requestTimeEpoch",
    } <= set(context)
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"action": "echo", "data": "hi"}


def test_unknown_action_and_non_json_go_to_the_two_way_default_route(gateway: Gateway) -> None:
    async def scenario() -> list[Any]:
        async with client(gateway.url()) as ws:
            await ws.send(json.dumps({"action": "nope"}))
            first = await receive_json(ws)
            await ws.send("plain text")
            return [first, await receive_json(ws)]

    unknown, text = asyncio.run(scenario())

    assert unknown == {"route": "$default", "body": '{"action": "nope"}'}
    assert text == {"route": "$default", "body": "plain text"}


def test_failing_integration_sends_internal_server_error(gateway: Gateway) -> None:
    async def scenario() -> Any:
        async with client(gateway.url()) as ws:
            await ws.send(json.dumps({"action": "fail"}))
            return await receive_json(ws)

    reply = asyncio.run(scenario())

    assert reply["message"] == "Internal server error"
    assert {"connectionId", "requestId"} <= set(reply)


# --- $disconnect and @connections ---------------------------------------------------------------------


def test_close_invokes_disconnect_and_later_posts_are_gone(gateway: Gateway) -> None:
    async def scenario() -> str:
        async with client(gateway.url()) as ws:
            reply = await echo(ws, "bye")
            connection_id: str = reply["event"]["requestContext"]["connectionId"]
            await ws.close(1000, "done")
        return connection_id

    connection_id = asyncio.run(scenario())
    record = gateway.records / f"{connection_id.replace('/', '_')}.json"
    wait_for(record.exists, timeout=20)
    event = json.loads(record.read_text())
    context = event["requestContext"]
    assert context["eventType"] == "DISCONNECT"
    assert context["routeKey"] == "$disconnect"
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (1000, "done")
    assert context["authorizer"]["principalId"] == "user-1"

    management = gateway.management()
    gone_before = gateway.status()["gone"]
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"late")
    assert gateway.status()["gone"] == gone_before + 1


def test_get_and_delete_connection_with_boto3(gateway: Gateway) -> None:
    async def scenario() -> tuple[dict[str, Any], Any]:
        async with client(gateway.url(), user_agent_header="lc-test/2") as ws:
            connection_id = (await echo(ws, "x"))["event"]["requestContext"]["connectionId"]
            management = gateway.management()
            described = await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
            await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            with pytest.raises(management.exceptions.GoneException):
                await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
            return described, ws.close_code

    described, close_code = asyncio.run(scenario())

    assert described["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "lc-test/2"}
    assert described["LastActiveAt"] >= described["ConnectedAt"]
    assert close_code == 1000


def test_management_api_with_and_without_stage_and_size_limit(gateway: Gateway) -> None:
    def post(path: str, data: bytes) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{gateway.port}{path}", data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    async def scenario() -> list[Any]:
        async with client(gateway.url()) as ws:
            connection_id = (await echo(ws, "x"))["event"]["requestContext"]["connectionId"]
            quoted = urllib.parse.quote(connection_id, safe="")
            statuses = [
                await asyncio.to_thread(post, f"/@connections/{quoted}", b"one"),
                await asyncio.to_thread(post, f"/dev/@connections/{quoted}", b"two"),
                await asyncio.to_thread(post, f"/dev/@connections/{quoted}", b"x" * (128 * 1024 + 1)),
            ]
            return [statuses, await ws.recv(), await ws.recv()]

    statuses, first, second = asyncio.run(scenario())

    assert statuses == [200, 200, 413]
    assert (first, second) == ("one", "two")


# --- limits -------------------------------------------------------------------------------------------


def test_oversized_message_closes_with_1009_and_the_gateway_stays_healthy(gateway: Gateway) -> None:
    async def close_code(message: str | list[str]) -> int | None:
        async with client(gateway.url(), max_size=None) as ws:
            await ws.send(message)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            code: int | None = ws.close_code
            return code

    async def fragmented_ok() -> Any:
        async with client(gateway.url()) as ws:
            # ~50 KB in 24 KB frames: within both limits (the echo, with the event, stays under 128 KB).
            message = json.dumps({"action": "echo", "data": "y" * 50_000})
            await ws.send([message[i : i + 24_000] for i in range(0, len(message), 24_000)])
            return await receive_json(ws)

    assert asyncio.run(close_code("x" * (128 * 1024 + 1))) == 1009  # message over 128 KB
    assert asyncio.run(close_code("x" * (40 * 1024))) == 1009  # one frame over 32 KB
    assert len(asyncio.run(fragmented_ok())["echo"]) == 50_000


def test_idle_connections_are_closed_with_1001(tmp_path: Path) -> None:
    cloud = LocalCloud(
        TEMPLATE,
        port=0,
        ws_port=0,
        state_dir=tmp_path,
        stack_name="lc-ws-idle",
        endpoint_url=None,
        parameter_overrides={"RecordDir": str(tmp_path)},
        ws_idle_timeout_s=0.5,
    )
    cloud.start()
    try:
        assert cloud.websocket is not None
        url = f"ws://127.0.0.1:{cloud.websocket.port}/?token=good"

        async def scenario() -> tuple[int | None, float]:
            async with client(url) as ws:
                started = time.monotonic()
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 10)
                return ws.close_code, time.monotonic() - started

        code, waited = asyncio.run(scenario())
        assert code == 1001
        assert waited < 5
    finally:
        cloud.stop()


def test_200_concurrent_clients_each_receive_their_own_echo(gateway: Gateway) -> None:
    async def one(n: int) -> bool:
        async with client(gateway.url()) as ws:
            reply = await echo(ws, n)
            return bool(reply["echo"] == n)

    async def scenario() -> list[bool]:
        return await asyncio.gather(*(one(n) for n in range(200)))

    assert all(asyncio.run(scenario()))
    wait_for(lambda: gateway.status()["connections"] == 0, timeout=20)


def test_status_and_banner(gateway: Gateway) -> None:
    status = gateway.cloud.status()["websocket"]
    assert {"connections", "messages_in", "posts", "gone"} <= set(status)
    assert "WsApi" not in gateway.cloud.not_emulated
    assert f"WebSocket       ws://127.0.0.1:{gateway.port}/dev" in gateway.cloud.banner()
