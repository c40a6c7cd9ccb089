"""The local WebSocket gateway: API Gateway v2 WebSocket APIs on ``ws://127.0.0.1:3001/<stage>``, with
the ``@connections`` management API on the same port.

A thin transport around the pure parts (:mod:`localcloud.ws_events`, :mod:`localcloud.ws_connections`,
:mod:`localcloud.ws_management`): a ``websockets`` server on its own asyncio loop and thread. Each TCP
connection first meets a small *front door* protocol that reads the request head: a ``GET`` with
``Upgrade: websocket`` is handed to ``websockets`` (the socket switches protocol, buffered bytes
included); any other request is an HTTP/1.1 management request (``POST``/``GET``/``DELETE
[/<stage>]/@connections/<id>``, keep-alive) answered on the loop itself, so a post is a direct
``send`` on the target connection with no thread handoff.

What API Gateway does, copied here (developer guide: "WebSocket APIs", "quotas for WebSocket APIs"):

- ``$connect``: the REQUEST authorizer first (identity source missing → HTTP 401 before the upgrade; its
  policy denying ``arn:aws:execute-api:<region>:<account>:<api>/<stage>/$connect`` → 403; the function
  failing with ``Unauthorized`` → 401; other failures → 500; the REST gateway's
  :class:`~localcloud.rest_auth.LambdaAuthorizer` is reused), then the ``$connect`` integration: a
  non-2xx ``statusCode`` rejects the upgrade with that status, a failed function with 502.
- Messages: route selection (:func:`~localcloud.ws_events.select_route`); no route and no ``$default``
  → the client gets ``{"message": "Forbidden", "connectionId", "requestId"}``; a failed integration →
  ``"Internal server error"``; a two-way route's response body goes back to the client.
- ``$disconnect`` after the connection closes (either side), with ``disconnectStatusCode`` /
  ``disconnectReason``; the connection is gone (410 for ``@connections``) before it runs.
- Limits: a message over 128 KB or a frame over 32 KB closes the connection with 1009 ("If a larger
  message (or larger frame size) is received, the connection is closed with code 1009"); idle for
  10 minutes or open for 2 hours → closed with 1001 ``Going away``. Only client messages count as
  activity. ``@connections`` data over 128 KB → 413; posted data is sent as one text frame (binary
  when it is not UTF-8), never split into 32 KB frames.
- No permessage-deflate, no server pings (API Gateway answers pings but does not send them).
"""

from __future__ import annotations

import asyncio
import functools
import http
import json
import logging
import socket
import threading
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

from localcloud.rest_auth import AuthorizationDenied, LambdaAuthorizer
from localcloud.rest_events import HttpRequest
from localcloud.rest_gateway import Invokable
from localcloud.runtime import Invocation, ThrottledError
from localcloud.ws_config import WebSocketApiConfig
from localcloud.ws_connections import ConnectionRegistry
from localcloud.ws_events import (
    CONNECT,
    DISCONNECT,
    ConnectionInfo,
    authorizer_event,
    connect_event,
    connect_status,
    disconnect_event,
    disconnect_reason,
    gateway_message,
    message_event,
    new_id,
    reply_body,
    select_route,
)
from localcloud.ws_management import MAX_MESSAGE_BYTES, Delete, ManagementResponse, Post, handle_management

__all__ = ["DEFAULT_WS_PORT", "WebSocketGateway"]

log = logging.getLogger("localcloud.websocket")

DEFAULT_WS_PORT: Final = 3001
MAX_FRAME_BYTES: Final = 32 * 1024  # "WebSocket frame size: 32 KB"
IDLE_TIMEOUT_S: Final = 600.0  # "Idle Connection Timeout: 10 minutes"
MAX_CONNECTION_S: Final = 7200.0  # "Connection duration for WebSocket API: 2 hours"
INTEGRATION_TIMEOUT_S: Final = 29.0
MAX_HEAD_BYTES: Final = 64 * 1024
GOING_AWAY: Final = 1001


def _now() -> datetime:
    return datetime.now(UTC)


class WebSocketGateway:
    """Serves the template's WebSocket APIs; :meth:`start` / :meth:`stop` from any thread."""

    def __init__(
        self,
        apis: Sequence[WebSocketApiConfig],
        functions: Mapping[str, Invokable],
        *,
        port: int = DEFAULT_WS_PORT,
        host: str = "127.0.0.1",
        integration_timeout_s: float = INTEGRATION_TIMEOUT_S,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        max_connection_s: float = MAX_CONNECTION_S,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_frame_bytes: int = MAX_FRAME_BYTES,
    ) -> None:
        self.apis = list(apis)
        self._functions = functions
        self._host = host
        self._integration_timeout_s = integration_timeout_s
        self._idle = timedelta(seconds=idle_timeout_s)
        self._max_duration = timedelta(seconds=max_connection_s)
        self._max_size = (max_message_bytes, max_frame_bytes)
        self._stages = {api.stage for api in self.apis}
        self._authorizers = {
            api.logical_id: LambdaAuthorizer(
                route.authorizer, functools.partial(self._invoke_blocking, route.authorizer.function_id)
            )
            for api in self.apis
            if (route := api.routes.get(CONNECT)) is not None and route.authorizer is not None
        }
        # Bound now, so the port is known (and given to functions) before anything is served.
        self._socket = socket.create_server((host, port))
        self.registry: ConnectionRegistry[ServerConnection] = ConnectionRegistry()
        self._pending: weakref.WeakKeyDictionary[ServerConnection, ConnectionInfo] = (
            weakref.WeakKeyDictionary()
        )
        self._closing: set[str] = set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._doors: set[_FrontDoor] = set()
        self._pool = ThreadPoolExecutor(max_workers=256, thread_name_prefix="localcloud-ws")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="localcloud-ws", daemon=True)
        self._server: Server | None = None
        self._stopping = False

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)

    async def _serve(self) -> None:
        self._server = await serve(
            self._handler,
            sock=self._socket,
            process_request=self._process_request,
            create_connection=cast(Any, self._front_door),
            compression=None,
            server_header=None,
            ping_interval=None,
            max_size=self._max_size,
            open_timeout=2 * self._integration_timeout_s + 5,
        )
        self._spawn(self._expire_connections())

    def stop(self) -> None:
        """Closes every connection (1001) without invoking ``$disconnect``, then the loop."""
        if not self._thread.is_alive():
            self._socket.close()
            return
        self._stopping = True
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        except Exception:  # a stuck connection must not block the local cloud's shutdown
            log.warning("WebSocket gateway: shutdown timed out", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if not self._loop.is_running():
            self._loop.close()

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            # Keep-alive management connections (boto3's pools) would hold wait_closed() open.
            for door in list(self._doors):
                door.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            except TimeoutError:
                log.warning("WebSocket gateway: connections still closing at shutdown")

    # --- the front door -------------------------------------------------------------------------------

    def _front_door(self, protocol: ServerProtocol, server: Server, **options: Any) -> _FrontDoor:
        """``serve``'s ``create_connection`` hook: the asyncio protocol of each accepted socket."""
        return _FrontDoor(ServerConnection(protocol, server, **options), self._handle_http, self._doors)

    def _handle_http(self, method: str, target: str, body: bytes) -> ManagementResponse:
        response, action = handle_management(self.registry, method, target, body, self._stages)
        if isinstance(action, Post):
            try:
                action.data.decode()
                text = True
            except UnicodeDecodeError:
                text = False
            if not self._send_now(action.transport, action.data, text=text):
                self._spawn(self._send(action.transport, action.data.decode() if text else action.data))
        elif isinstance(action, Delete):
            self.registry.remove(action.connection_id)  # gone at once (410), as in API Gateway
            self._spawn(action.transport.close())  # $disconnect follows when the close completes
        log.debug("%s %s %d", method, target, response.status)
        return response

    # --- connections ----------------------------------------------------------------------------------

    def _api_for(self, path: str) -> WebSocketApiConfig | None:
        """``/`` (the first API) or ``/<stage>`` (the API with that stage)."""
        stage = path.strip("/")
        if not stage:
            return self.apis[0] if self.apis else None
        return next((api for api in self.apis if api.stage == stage), None)

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """``$connect``, before the upgrade: the authorizer, then the integration."""
        path, _, query = request.path.partition("?")
        api = self._api_for(path)
        if api is None:
            return _reject(connection, 403, "Forbidden")
        received = _now()
        remote = connection.remote_address
        info = ConnectionInfo(
            connection_id=new_id(),
            api=api,
            connected_at=received,
            source_ip=str(remote[0]) if remote else "127.0.0.1",
            headers=tuple(request.headers.raw_items()),
            query=query,
            last_active=received,
        )
        route = api.routes.get(CONNECT)
        request_id = new_id()
        authorizer = self._authorizers.get(api.logical_id)
        if authorizer is not None:
            http_request = HttpRequest("GET", path or "/", query, info.headers, b"", info.source_ip)
            try:
                info.authorizer = await self._loop.run_in_executor(
                    self._pool,
                    authorizer.authorize,
                    http_request,
                    api.method_arn(CONNECT),
                    lambda: authorizer_event(info, request_id, received),
                    api.stage_variables,
                )
            except AuthorizationDenied as denied:
                log.info("%s $connect: %s", api.logical_id, denied)
                return _reject(connection, denied.error.status, denied.error.message)
        if route is not None and route.function_id is not None:
            invocation = await self._invoke(route.function_id, connect_event(info, request_id, received))
            if invocation is None:
                return _reject(connection, 504, "Endpoint request timed out")
            if not invocation.ok:
                return _reject(connection, 502, "Internal server error")
            status = connect_status(invocation.payload)
            if not 200 <= status < 300:
                log.info("%s $connect: the integration answered %d", api.logical_id, status)
                return _reject(connection, status, None)
        self._pending[connection] = info
        return None

    async def _handler(self, connection: ServerConnection) -> None:
        info = self._pending.pop(connection, None)
        if info is None:
            return
        connection_id = info.connection_id
        self.registry.add(info, connection)
        log.info("%s connected (%s)", connection_id, info.api.logical_id)
        try:
            async for message in connection:
                now = _now()
                self.registry.messages_in += 1
                self.registry.touch(connection_id, now)
                # Messages are integrated independently (API Gateway does not serialise a connection).
                self._spawn(self._on_message(info, connection, message, now))
        except ConnectionClosed:
            pass
        finally:
            self.registry.remove(connection_id)
            self._closing.discard(connection_id)
            code, reason = _close_status(connection)
            log.info("%s disconnected (%d %s)", connection_id, code, reason)
            route = info.api.routes.get(DISCONNECT)
            if route is not None and route.function_id is not None and not self._stopping:
                event = disconnect_event(
                    info, code, disconnect_reason(code, reason), request_id=new_id(), received=_now()
                )
                self._spawn(self._invoke(route.function_id, event))  # best effort, as in API Gateway

    async def _on_message(
        self, info: ConnectionInfo, connection: ServerConnection, message: str | bytes, received: datetime
    ) -> None:
        request_id = new_id()
        route_key = select_route(info.api, message)
        if route_key is None:
            await self._send(connection, gateway_message("Forbidden", info.connection_id, request_id))
            return
        route = info.api.routes[route_key]
        if route.function_id is None:
            return
        event = message_event(
            info, route_key, message, message_id=new_id(), request_id=request_id, received=received
        )
        invocation = await self._invoke(route.function_id, event)
        if invocation is None:
            await self._send(
                connection, gateway_message("Endpoint request timed out", info.connection_id, request_id)
            )
        elif not invocation.ok:
            await self._send(
                connection, gateway_message("Internal server error", info.connection_id, request_id)
            )
        elif route.two_way:
            body = reply_body(invocation.payload)
            if body is not None:
                await self._send(connection, body)

    def _send_now(self, connection: ServerConnection, data: bytes, *, text: bool) -> bool:
        """A post's frame written at once, with no task per post (the ``@connections`` hot path), when
        nothing stands in the way: the connection is open, no fragmented send is under way and its
        write buffer is below the transport's high-water mark. Else False: the caller takes the
        regular path (``send``, which waits for a slow client's buffer to drain)."""
        transport = connection.transport
        if (
            connection.protocol.state is not State.OPEN
            or connection.send_in_progress is not None
            or transport.get_write_buffer_size() >= transport.get_write_buffer_limits()[1]
        ):
            return False
        if text:
            connection.protocol.send_text(data)
        else:
            connection.protocol.send_binary(data)
        connection.send_data()  # what ``send`` does on leaving its send context
        self.registry.messages_out += 1
        return True

    async def _send(self, connection: ServerConnection, message: str | bytes) -> None:
        try:
            await connection.send(message)
        except ConnectionClosed:
            return
        self.registry.messages_out += 1

    async def _expire_connections(self) -> None:
        """Closes connections past the idle timeout or the maximum duration (1001 Going away)."""
        interval = max(0.05, min(1.0, self._idle.total_seconds() / 4, self._max_duration.total_seconds() / 4))
        while True:
            await asyncio.sleep(interval)
            for expiry in self.registry.expired(_now(), self._idle, self._max_duration):
                entry = self.registry.get(expiry.connection_id)
                if entry is None or expiry.connection_id in self._closing:
                    continue
                self._closing.add(expiry.connection_id)
                log.info("%s: closed (%s limit)", expiry.connection_id, expiry.reason)
                self._spawn(entry.transport.close(GOING_AWAY, "Going away"))

    # --- invocations ----------------------------------------------------------------------------------

    def _invoke_blocking(self, function_id: str, event: dict[str, Any]) -> Invocation | None:
        """For the authorizer (already on a pool thread); Lambda's own timeout bounds it."""
        try:
            return self._functions[function_id].invoke(event)
        except ThrottledError:
            return None

    async def _invoke(self, function_id: str, event: dict[str, Any]) -> Invocation | None:
        """None when the integration timeout passes first (the invocation runs on, as in AWS)."""
        call = functools.partial(self._functions[function_id].invoke, event)
        try:
            return await asyncio.wait_for(
                self._loop.run_in_executor(self._pool, call), self._integration_timeout_s
            )
        except TimeoutError:
            log.warning("%s: Execution failed due to a timeout error", function_id)
            return None
        except ThrottledError:
            return Invocation("", False, None, {"errorType": "TooManyRequestsException"}, 0.0, None, False)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("WebSocket gateway task failed", exc_info=task.exception())

    # --- the local cloud's view -----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            **self.registry.status(),
            "port": self.port,
            "apis": {
                api.logical_id: {"api_id": api.api_id, "stage": api.stage, "routes": sorted(api.routes)}
                for api in self.apis
            },
        }

    def banner_lines(self) -> list[str]:
        return [
            f"  WebSocket       ws://{self._host}:{self.port}/{api.stage}  ({api.logical_id}, "
            f"{len(api.routes)} route(s); @connections at http://{self._host}:{self.port}/{api.stage})"
            for api in self.apis
        ]


def _reject(connection: ServerConnection, status: int, message: str | None) -> Response:
    """The HTTP response that refuses an upgrade, with API Gateway's JSON body."""
    try:
        code = http.HTTPStatus(status)
    except ValueError:
        code = http.HTTPStatus.BAD_GATEWAY
    response = connection.respond(code, json.dumps({"message": message}) + "\n")
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


def _close_status(connection: ServerConnection) -> tuple[int, str]:
    """The close code and reason: the client's close frame, else ours, else 1006 (no close frame)."""
    frame = connection.protocol.close_rcvd or connection.protocol.close_sent
    if frame is None:
        return 1006, ""
    return int(frame.code), frame.reason


class _FrontDoor(asyncio.Protocol):
    """Reads each request head: hands a WebSocket upgrade to ``websockets``, answers anything else as
    an HTTP/1.1 management request (keep-alive, ``Content-Length`` bodies)."""

    def __init__(
        self,
        websocket: ServerConnection,
        handle: Callable[[str, str, bytes], ManagementResponse],
        doors: set[_FrontDoor],
    ) -> None:
        self._websocket = websocket
        self._handle = handle
        self._doors = doors
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._served = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._doors.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._doors.discard(self)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        transport = self._transport
        assert transport is not None
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    self._finish(_plain(431, "Request Header Fields Too Large"), close=True)
                return
            head = _parse_head(bytes(self._buffer[:end]))
            if head is None:
                self._finish(_plain(400, "Bad Request"), close=True)
                return
            method, target, version, headers = head
            if self._served == 0 and method == "GET" and headers.get("upgrade", "").lower() == "websocket":
                self._switch(transport)
                return
            if "transfer-encoding" in headers:
                self._finish(_plain(411, "Length Required"), close=True)
                return
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                self._finish(_plain(400, "Bad Request"), close=True)
                return
            if len(self._buffer) < end + 4 + length:
                return
            body = bytes(self._buffer[end + 4 : end + 4 + length])
            del self._buffer[: end + 4 + length]
            self._served += 1
            keep_alive = (
                headers.get("connection", "").lower() != "close"
                if version == "HTTP/1.1"
                else headers.get("connection", "").lower() == "keep-alive"
            )
            try:
                response = self._handle(method, target, body)
            except Exception:
                log.exception("%s %s failed", method, target)
                response = _plain(500, "Internal Server Error")
            self._finish(response, close=not keep_alive)
            if not keep_alive:
                return

    def _switch(self, transport: asyncio.Transport) -> None:
        """The socket becomes the ``websockets`` connection's, with the bytes read so far."""
        self._doors.discard(self)
        buffered = bytes(self._buffer)
        self._buffer.clear()
        transport.set_protocol(self._websocket)
        self._websocket.connection_made(transport)
        self._websocket.data_received(buffered)

    def _finish(self, response: ManagementResponse, *, close: bool) -> None:
        assert self._transport is not None
        reason = http.HTTPStatus(response.status).phrase if response.status in _PHRASES else "Unknown"
        lines = [f"HTTP/1.1 {response.status} {reason}", f"Content-Length: {len(response.body)}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if close:
            lines.append("Connection: close")
        self._transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)
        if close:
            self._transport.close()


_PHRASES: Final = frozenset(int(s) for s in http.HTTPStatus)


def _plain(status: int, text: str) -> ManagementResponse:
    return ManagementResponse(status, text.encode(), (("Content-Type", "text/plain"),))


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]] | None:
    """Request line and headers (names lower-cased, the last value kept); None when malformed."""
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        return None
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            return None
        headers[name.strip().lower()] = value.strip()
    return method, target, version, headers
