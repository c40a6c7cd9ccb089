"""The fan-out's HTTP/1.1 client (:mod:`deltastream.ws.http1`) against a real asyncio TCP server whose
answers each test scripts: keep-alive reuse, every response framing, a keep-alive connection the
server dropped while idle (retried once, on a fresh connection), failures that must not be retried
(the request may have been processed), timeouts, malformed answers, TLS."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deltastream.ws.http1 import Channel, HttpError, Origin

Answer = Callable[[int, bytes, asyncio.StreamWriter], Awaitable[bool]]  # → keep the connection open


@dataclass
class Server:
    """Reads each request (head + Content-Length body), records it with its connection number, and
    lets ``answer`` respond; ``answer`` returning False closes the connection."""

    answer: Answer
    requests: list[tuple[int, bytes]] = field(default_factory=list)  # (connection number, request)
    connections: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                self.requests.append((number, request))
                if not await self.answer(number, request, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def serve(answer: Answer, ssl_context: ssl.SSLContext | None = None) -> tuple[Server, asyncio.Server]:
    server = Server(answer)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=ssl_context)
    server.port = listener.sockets[0].getsockname()[1]
    return server, listener


def ok(body: bytes = b"") -> Answer:
    async def answer(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        return True

    return answer


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def channel_to(server: Server, **options: ssl.SSLContext) -> Channel:
    return Channel(Origin.of(f"http://127.0.0.1:{server.port}"), **options)


def test_posts_reuse_one_keep_alive_connection_and_carry_their_bodies() -> None:
    async def test() -> None:
        server, listener = await serve(ok(b'{"ok":true}'))
        channel = channel_to(server)
        for i in range(3):
            response = await channel.post(f"/dev/@connections/c{i}", b"X-Test: 1\r\n", b"hello %d" % i, 2.0)
            assert (response.status, response.body) == (200, b'{"ok":true}')
        channel.close()
        listener.close()
        assert server.connections == 1
        assert [request.split(b"\r\n", 1)[0] for _, request in server.requests] == [
            b"POST /dev/@connections/c0 HTTP/1.1",
            b"POST /dev/@connections/c1 HTTP/1.1",
            b"POST /dev/@connections/c2 HTTP/1.1",
        ]
        first = server.requests[0][1]
        assert f"Host: 127.0.0.1:{server.port}\r\n".encode() in first
        assert b"Content-Length: 7\r\n" in first
        assert b"X-Test: 1\r\n" in first
        assert first.endswith(b"\r\n\r\nhello 0")

    run(test)


def test_a_chunked_response_trickling_in_byte_by_byte_is_reassembled() -> None:
    async def trickle(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        response = (
            b"HTTP/1.1 410 Gone\r\nx-amzn-ErrorType: GoneException\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'5;ext=1\r\n{"mes\r\n9\r\nsage":"g"\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n'
        )
        for byte in response:
            writer.write(bytes([byte]))
            await writer.drain()
        return True

    async def test() -> None:
        server, listener = await serve(trickle)
        channel = channel_to(server)
        for _ in range(2):  # the second proves the first was consumed exactly, trailers included
            response = await channel.post("/x", b"", b"{}", 2.0)
            assert response.status == 410
            assert response.headers["x-amzn-errortype"] == "GoneException"
            assert response.body == b'{"message":"g"}'
        channel.close()
        listener.close()
        assert server.connections == 1

    run(test)


def test_a_body_ended_by_the_connection_closing_and_connection_close_mean_a_new_connection() -> None:
    async def answer(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        if number == 1:  # no Content-Length: the body runs to the end of the connection
            writer.write(b"HTTP/1.0 200 OK\r\n\r\nuntil close")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        return False

    async def test() -> None:
        server, listener = await serve(answer)
        channel = channel_to(server)
        assert (await channel.post("/a", b"", b"", 2.0)).body == b"until close"
        assert (await channel.post("/b", b"", b"", 2.0)).body == b"ok"
        assert (await channel.post("/c", b"", b"", 2.0)).body == b"ok"
        channel.close()
        listener.close()
        assert server.connections == 3
        assert len(server.requests) == 3  # nothing retried

    run(test)


def test_a_keep_alive_connection_dropped_while_idle_is_not_used_again() -> None:
    async def answer_then_drop(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        return False  # closes without saying so (an idle timeout on the server side)

    async def test() -> None:
        server, listener = await serve(answer_then_drop)
        channel = channel_to(server)
        assert (await channel.post("/first", b"", b"1", 2.0)).status == 200
        await asyncio.sleep(0.05)  # the close reaches the client while the connection sits idle
        assert (await channel.post("/second", b"", b"2", 2.0)).status == 200
        channel.close()
        listener.close()
        assert [(n, r.split(b" ", 2)[1]) for n, r in server.requests] == [(1, b"/first"), (2, b"/second")]

    run(test)


def test_a_keep_alive_connection_closing_as_a_request_goes_out_is_retried_once_on_a_fresh_one() -> None:
    async def answer(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        if number == 1 and b"/second" in request:
            return False  # the race: the server closed the idle connection as the request arrived
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        return True

    async def test() -> None:
        server, listener = await serve(answer)
        channel = channel_to(server)
        assert (await channel.post("/first", b"", b"1", 2.0)).status == 200
        assert (await channel.post("/second", b"", b"2", 2.0)).status == 200
        channel.close()
        listener.close()
        paths = [(n, r.split(b" ", 2)[1]) for n, r in server.requests]
        assert paths == [(1, b"/first"), (1, b"/second"), (2, b"/second")]

    run(test)


def test_a_request_the_server_may_have_processed_is_not_retried() -> None:
    async def answer(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b"/partial" in request:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Len")  # then gone mid-response
        elif b"/silent" not in request:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return True
        await writer.drain()
        return False

    async def test() -> None:
        server, listener = await serve(answer)
        channel = channel_to(server)
        with pytest.raises(HttpError):  # a fresh connection that fails: no retry
            await channel.post("/silent", b"", b"", 2.0)
        assert (await channel.post("/warm", b"", b"", 2.0)).status == 200
        with pytest.raises(HttpError):  # a reused connection that had started answering: no retry
            await channel.post("/partial", b"", b"", 2.0)
        channel.close()
        listener.close()
        paths = [r.split(b" ", 2)[1] for _, r in server.requests]
        assert paths == [b"/silent", b"/warm", b"/partial"]

    run(test)


def test_a_timeout_bounds_the_post_and_the_connection_is_not_reused() -> None:
    async def answer(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        path = request.split(b" ", 2)[1]
        if path == b"/slow":
            await asyncio.sleep(1.0)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path))
        await writer.drain()
        return True

    async def test() -> None:
        server, listener = await serve(answer)
        channel = channel_to(server)
        assert (await channel.post("/warm", b"", b"", 2.0)).body == b"/warm"  # an open, reusable connection
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimeoutError):
            await channel.post("/slow", b"", b"", 0.2)
        assert loop.time() - started < 0.6
        started = loop.time()
        response = await channel.post("/next", b"", b"", 2.0)
        assert response.body == b"/next"  # not the late answer to /slow
        assert loop.time() - started < 0.6  # on a fresh connection, not queued behind /slow
        channel.close()
        listener.close()

    run(test)


@pytest.mark.parametrize(
    "answer",
    [b"SPDY/3 200 OK\r\n\r\n", b"HTTP/1.1 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n"],
)  # fmt: skip
def test_a_malformed_response_is_an_error_not_a_status(answer: bytes) -> None:
    async def respond(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer)
        await writer.drain()
        await asyncio.sleep(0.5)
        return False

    async def test() -> None:
        server, listener = await serve(respond)
        channel = channel_to(server)
        with pytest.raises(HttpError):
            await channel.post("/x", b"", b"", 2.0)
        channel.close()
        listener.close()

    run(test)


def test_a_refused_connection_is_an_http_error() -> None:
    async def test() -> None:
        server, listener = await serve(ok())
        listener.close()
        await listener.wait_closed()
        with pytest.raises(HttpError, match="connect"):
            await channel_to(server).post("/x", b"", b"", 2.0)

    run(test)


def test_https_with_the_origins_certificate_verified(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def test() -> None:
        server, listener = await serve(ok(b"secure"), server_context)
        trusting = ssl.create_default_context(cafile=str(cert))
        channel = Channel(Origin.of(f"https://localhost:{server.port}"), ssl_context=trusting)
        for _ in range(2):
            assert (await channel.post("/x", b"", b"", 5.0)).body == b"secure"
        channel.close()
        with pytest.raises(HttpError):  # the default trust store does not know this certificate
            await Channel(Origin.of(f"https://localhost:{server.port}")).post("/x", b"", b"", 5.0)
        listener.close()
        assert server.connections == 1

    run(test)


def test_origin_of_an_endpoint() -> None:
    assert Origin.of("https://abc.execute-api.eu-west-1.amazonaws.com/prod") == Origin(
        "https", "abc.execute-api.eu-west-1.amazonaws.com", 443, "abc.execute-api.eu-west-1.amazonaws.com"
    )
    assert Origin.of("http://127.0.0.1:3001/dev").host_header == "127.0.0.1:3001"
    assert Origin.of("http://[::1]:3001/dev").host_header == "[::1]:3001"
    with pytest.raises(ValueError, match="http"):
        Origin.of("ws://127.0.0.1:3001")
