"""A lean HTTP/1.1 client for many small ``POST``s to one origin: the fan-out's ``@connections`` posts.

Why not aiohttp (which this replaced): profiled posting to 1,000 live connections, ~60 % of the
poster's CPU was aiohttp's per-request machinery (URL objects, header multidicts, payload registry,
timers, tasks) — ~170 µs a post, so the poster saturated a core below 5,000 posts/s. Here a post is
one pre-formatted ``transport.write`` and one response parse on a plain :class:`asyncio.Protocol`.

Scope, deliberately narrow: one origin (``http`` or ``https``), keep-alive connections owned one
each by the caller's workers (no pool lock, one request in flight per connection, no pipelining),
responses framed by ``Content-Length``, ``Transfer-Encoding: chunked`` or the connection closing.
A request that fails on a *reused* connection before any byte of its response arrived is retried
once on a fresh connection: that is a keep-alive connection the server closed while it sat idle
(what urllib3 and aiohttp do for the same race), and nothing was processed. A fresh connection's
failure is reported, never retried.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

__all__ = ["Channel", "HttpError", "Origin", "Response"]

MAX_HEAD_BYTES: Final = 64 * 1024
MAX_BODY_BYTES: Final = 1024 * 1024  # @connections answers are a few hundred bytes at most
IDLE_REUSE_S: Final = 30.0  # an idle connection older than this is closed, not reused


class HttpError(Exception):
    """The connection failed or the response was malformed (no status to report)."""

    answered = False  # whether any byte of a response had arrived


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass(frozen=True, slots=True)
class Origin:
    """``scheme://host[:port]`` of an endpoint, and what a request to it needs."""

    scheme: str
    host: str
    port: int
    host_header: str  # ``host`` or ``host:port`` when the port is not the scheme's default

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"an http(s) URL is needed, got {url!r}")
        default = 443 if parts.scheme == "https" else 80
        port = parts.port or default
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # an IPv6 literal
        host_header = host if port == default else f"{host}:{port}"
        return cls(parts.scheme, parts.hostname, port, host_header)


class _Wire(asyncio.Protocol):
    """One TCP (or TLS) connection: feeds response bytes to the parser of the request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Response] | None = None
        self._got_bytes = False
        self._reads_to_close = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if self._reads_to_close and exc is None:  # the body ends where the connection does, cleanly
                self._complete_at_close()
            else:
                waiter.set_exception(HttpError(f"connection closed: {exc or 'EOF'}"))

    def eof_received(self) -> bool | None:
        return None  # close the transport: connection_lost settles the waiter

    def send(self, request: bytes, waiter: asyncio.Future[Response]) -> None:
        assert self.transport is not None
        self._buffer.clear()
        self._waiter = waiter
        self._got_bytes = False
        self._reads_to_close = False
        self.transport.write(request)

    @property
    def got_bytes(self) -> bool:
        return self._got_bytes

    def data_received(self, data: bytes) -> None:
        self._got_bytes = True
        self._buffer += data
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        try:
            response = self._parse()
        except HttpError as error:
            waiter.set_exception(error)
            self._abort()
            return
        if response is not None:
            self._waiter = None
            waiter.set_result(response)

    def _parse(self) -> Response | None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise HttpError("response head too large")
            return None
        status, headers = _parse_head(bytes(self._buffer[:end]))
        start = end + 4
        if status in (204, 304) or 100 <= status < 200:
            body: bytes | None = b""
            if 100 <= status < 200:  # interim (100 Continue): the final response follows
                del self._buffer[:start]
                return self._parse()
            consumed = start
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body, consumed = _dechunk(self._buffer, start)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise HttpError("bad Content-Length") from None
            if length < 0 or length > MAX_BODY_BYTES:
                raise HttpError(f"unexpected Content-Length {length}")
            consumed = start + length
            body = bytes(self._buffer[start:consumed]) if len(self._buffer) >= consumed else None
        else:
            self._reads_to_close = True
            if len(self._buffer) - start > MAX_BODY_BYTES:
                raise HttpError("response body too large")
            return None
        if body is None:
            return None
        del self._buffer[:consumed]
        if headers.get("connection", "").lower() == "close":
            self._abort()
        return Response(status, headers, body)

    def _complete_at_close(self) -> None:
        assert self._waiter is not None
        end = self._buffer.find(b"\r\n\r\n")
        try:
            status, headers = _parse_head(bytes(self._buffer[:end]))
        except HttpError as error:
            self._waiter.set_exception(error)
            return
        self._waiter.set_result(Response(status, headers, bytes(self._buffer[end + 4 :])))

    def _abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Channel:
    """One keep-alive connection to ``origin``, used by one worker at a time: ``post`` opens it on
    first use and after the server closed it, and bounds each request by ``timeout_s`` (connect and
    response together)."""

    def __init__(self, origin: Origin, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._origin = origin
        self._ssl = ssl_context
        self._wire: _Wire | None = None
        self._last_used = 0.0

    async def post(self, path: str, headers: bytes, body: bytes, timeout_s: float) -> Response:
        """``POST path`` with ``headers`` (pre-formatted ``Name: value\\r\\n`` lines, without Host,
        Content-Length or Connection) and ``body``; raises :class:`HttpError` or ``TimeoutError``."""
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self._origin.host_header}\r\n"
            f"Content-Length: {len(body)}\r\n".encode("latin-1")
            + headers
            + b"\r\n"
            + body
        )
        async with asyncio.timeout(timeout_s):
            reused = self._usable()
            try:
                return await self._exchange(request)
            except HttpError as error:
                if not reused or error.answered:
                    raise
                # a keep-alive connection the server closed while idle: once more on a fresh one
                return await self._exchange(request)

    def _usable(self) -> bool:
        """Whether an open connection will be reused (one idle too long is closed first)."""
        wire = self._wire
        if wire is None or wire.closed:
            return False
        if time.monotonic() - self._last_used > IDLE_REUSE_S:
            self.close()
            return False
        return True

    async def _exchange(self, request: bytes) -> Response:
        loop = asyncio.get_running_loop()
        if self._wire is None or self._wire.closed:
            origin = self._origin
            context = self._ssl if origin.scheme == "https" else None
            if origin.scheme == "https" and context is None:
                context = self._ssl = ssl.create_default_context()
            try:
                server_hostname = origin.host if context else None
                _, wire = await loop.create_connection(
                    _Wire, origin.host, origin.port, ssl=context, server_hostname=server_hostname
                )
            except OSError as error:
                raise HttpError(f"connect to {origin.host}:{origin.port} failed: {error}") from error
            self._wire = wire
        wire = self._wire
        waiter: asyncio.Future[Response] = loop.create_future()
        try:
            wire.send(request, waiter)
            response = await waiter
        except HttpError as error:
            error.answered = wire.got_bytes
            self.close()
            raise
        except BaseException:
            self.close()  # a timeout or a failure leaves the connection mid-exchange: never reuse it
            raise
        self._last_used = time.monotonic()
        return response

    def close(self) -> None:
        if self._wire is not None:
            self._wire._abort()
            self._wire = None


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    try:
        version, code, *_ = lines[0].split(" ", 2)
        status = int(code)
    except ValueError:
        raise HttpError(f"malformed status line {lines[0][:80]!r}") from None
    if not version.startswith("HTTP/1."):
        raise HttpError(f"not an HTTP/1.x response: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(f"malformed header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes | None, int]:
    """The body of a complete chunked message starting at ``start`` and where it ends, or
    ``(None, 0)`` while incomplete (trailers are skipped)."""
    body = bytearray()
    at = start
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None, 0
        try:
            size = int(bytes(buffer[at:line_end]).split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpError("malformed chunk size") from None
        at = line_end + 2
        if size > MAX_BODY_BYTES - len(body):
            raise HttpError("response body too large")
        if size == 0:
            trailers_end = buffer.find(b"\r\n", at)
            while trailers_end > at:  # skip trailer lines up to the empty one
                at = trailers_end + 2
                trailers_end = buffer.find(b"\r\n", at)
            if trailers_end < 0:
                return None, 0
            return bytes(body), trailers_end + 2
        if len(buffer) < at + size + 2:
            return None, 0
        body += buffer[at : at + size]
        if len(body) > MAX_BODY_BYTES:
            raise HttpError("response body too large")
        at += size + 2
