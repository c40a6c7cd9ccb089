"""The ``@connections`` management API of API Gateway WebSocket: posting messages to connections.

Two posters, one contract (:class:`Poster`), kept side by side because they were measured against
each other (``python -m tests.functional.ws.measure_posters``, ``make bench BENCH=websocket``); the
faster is FanoutFunction's default (``FANOUT_POSTER=async|threads``):

- :class:`ThreadPoster`: boto3's ``apigatewaymanagementapi`` ``post_to_connection`` in a thread pool.
- :class:`AsyncPoster`: workers on one event loop, each with a keep-alive connection of its own
  (:mod:`deltastream.ws.http1`), each request signed with SigV4 (service ``execute-api``) by
  :class:`SigV4Signer` — no thread per request, no boto3 (or aiohttp) per-call overhead.

Both: a per-post timeout (connect and read), so one slow or dead client never holds up the others;
a 410 (``GoneException``: the client has gone) is reported per connection for the caller to forget
it; any other failure is counted and logged, never raised, never retried (the next tick supersedes
the message anyway).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol
from urllib.parse import quote, urlsplit

logger = logging.getLogger(__name__)

POST_TIMEOUT_S: Final = 2.0  # per post; a healthy post answers in milliseconds
THREADS: Final = 32
CONCURRENCY: Final = 128  # async: requests in flight (and pooled connections) at once


@dataclass
class PostReport:
    """What a round of posts did."""

    sent: int = 0
    gone: list[str] = field(default_factory=list)  # connection ids that answered 410
    errors: Counter[str] = field(default_factory=Counter)  # failure kind → count

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def merge(self, other: PostReport) -> None:
        self.sent += other.sent
        self.gone.extend(other.gone)
        self.errors.update(other.errors)


class Poster(Protocol):
    def post_many(self, deliveries: Sequence[tuple[str, bytes]]) -> PostReport:
        """Post each ``(connection_id, payload)``; never raises for a failed post."""
        ...


def connection_url(endpoint: str, connection_id: str) -> str:
    return f"{endpoint.rstrip('/')}/@connections/{quote(connection_id, safe='')}"


def region_of(endpoint: str) -> str:
    """The region of ``https://{api}.execute-api.{region}.amazonaws.com/{stage}``; else AWS_REGION
    (a local endpoint ignores the signature, any region does)."""
    host = urlsplit(endpoint).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[1] == "execute-api":
        return parts[2]
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


# --- boto3 in threads -------------------------------------------------------------------------------


def management_client(endpoint: str, *, timeout_s: float = POST_TIMEOUT_S, pool: int = THREADS) -> Any:
    """boto3's ``apigatewaymanagementapi`` client for ``endpoint`` (imported here: boto3 costs
    ~130 ms to import, which WsFunction's ``$connect`` does not need)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        retries={"total_max_attempts": 1},  # no retry: the per-post time bound holds
        max_pool_connections=pool,
    )
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=endpoint, region_name=region_of(endpoint), config=config
    )


class ThreadPoster:
    """``post_to_connection`` calls on a thread pool (boto3 clients are thread-safe)."""

    def __init__(self, client_factory: Callable[[], Any], *, threads: int = THREADS) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def post_many(self, deliveries: Sequence[tuple[str, bytes]]) -> PostReport:
        report = PostReport()
        if not deliveries:
            return report
        client = self.client
        if len(deliveries) == 1:  # a reply: no pool hop
            self._post(client, *deliveries[0], report)
            return report
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="ws-post")
        futures = [self._pool.submit(self._post, client, cid, data, PostReport()) for cid, data in deliveries]
        for future in futures:
            report.merge(future.result())
        return report

    @staticmethod
    def _post(client: Any, connection_id: str, data: bytes, report: PostReport) -> PostReport:
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
            report.sent += 1
        except Exception as error:  # every failure is counted; none may stop the others
            code = _error_code(error)
            if code == "GoneException":
                report.gone.append(connection_id)
            else:
                report.errors[code] += 1
                logger.warning("post to %s failed: %s", connection_id, code)
        return report

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__


# --- async + SigV4 ----------------------------------------------------------------------------------


class AsyncPoster:
    """Concurrent posts on one event loop: ``concurrency`` workers, each with a keep-alive connection
    of its own (:mod:`deltastream.ws.http1`), take the deliveries in order; each request is signed
    with SigV4 (:class:`SigV4Signer`) and bounded by the per-post timeout.

    The loop and the connections live as long as the poster (the Lambda sandbox), so warm invocations
    reuse open connections; ``post_many`` runs the loop until its posts are done.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        credentials: Callable[[], Any] | None = None,
        region: str | None = None,
        timeout_s: float = POST_TIMEOUT_S,
        concurrency: int = CONCURRENCY,
    ) -> None:
        from deltastream.ws.http1 import Origin

        self._endpoint = endpoint.rstrip("/")
        self._origin = Origin.of(self._endpoint)
        self._base_path = urlsplit(self._endpoint).path.rstrip("/")
        self._credentials = credentials if credentials is not None else _default_credentials()
        self._region = region or region_of(endpoint)
        self._timeout_s = timeout_s
        self._concurrency = concurrency
        self._loop = asyncio.new_event_loop()
        self._channels: list[Any] = []
        self._warned_unsigned = False

    def post_many(self, deliveries: Sequence[tuple[str, bytes]]) -> PostReport:
        if not deliveries:
            return PostReport()
        return self._loop.run_until_complete(self._post_all(deliveries))

    async def _post_all(self, deliveries: Sequence[tuple[str, bytes]]) -> PostReport:
        from deltastream.ws.http1 import Channel, HttpError

        workers = min(self._concurrency, len(deliveries))
        while len(self._channels) < workers:
            self._channels.append(Channel(self._origin))
        sign = self._signer()
        report = PostReport()
        queue = iter(deliveries)
        base, timeout_s = self._base_path, self._timeout_s

        async def worker(channel: Channel) -> None:
            for connection_id, data in queue:  # the iterator is shared: each delivery is taken once
                path = f"{base}/@connections/{quote(connection_id, safe='')}"
                try:
                    response = await channel.post(path, sign(path, data), data, timeout_s)
                except TimeoutError:
                    report.errors["Timeout"] += 1
                    logger.warning("post to %s timed out after %.1f s", connection_id, timeout_s)
                    continue
                except HttpError as error:
                    report.errors["ConnectionError"] += 1
                    logger.warning("post to %s failed: %s", connection_id, error)
                    continue
                except Exception as error:  # never raised: one failure must not stop the others
                    report.errors[type(error).__name__] += 1
                    logger.warning("post to %s failed: %r", connection_id, error)
                    continue
                if response.status == 200:
                    report.sent += 1
                elif response.status == 410:
                    report.gone.append(connection_id)
                else:
                    code = response.headers.get("x-amzn-errortype", "").split(":", 1)[0]
                    report.errors[code or f"HTTP {response.status}"] += 1
                    logger.warning("post to %s failed: HTTP %s %s", connection_id, response.status, code)

        await asyncio.gather(*(worker(channel) for channel in self._channels[:workers]))
        return report

    def _signer(self) -> Callable[[str, bytes], bytes]:
        """A function giving a POST's header lines (credentials frozen once per round)."""
        content_type = b"Content-Type: application/octet-stream\r\n"
        credentials = self._credentials()
        if credentials is None:
            if not self._warned_unsigned:
                logger.warning("no AWS credentials: posting unsigned (only a local endpoint accepts that)")
                self._warned_unsigned = True
            return lambda path, data: content_type
        signer = SigV4Signer(credentials, self._region)
        host = self._origin.host_header

        def sign(path: str, data: bytes) -> bytes:
            lines = "".join(f"{name}: {value}\r\n" for name, value in signer.sign(host, path, data).items())
            return content_type + lines.encode("latin-1")

        return sign

    def close(self) -> None:
        for channel in self._channels:
            channel.close()
        self._channels.clear()
        if not self._loop.is_closed():
            self._loop.run_until_complete(asyncio.sleep(0))  # let the transports finish closing
            self._loop.close()


class SigV4Signer:
    """AWS Signature Version 4 for ``POST`` requests to one service and region, ~10x faster than
    botocore's ``SigV4Auth`` (84 µs a request measured, a third of a core at 4,000 posts/s): the
    signing key is derived once per UTC day instead of four HMACs per request, and the canonical
    request is built directly. The headers are exactly botocore's (``tests/unit/ws`` compares the two
    byte for byte): ``X-Amz-Date``, ``X-Amz-Security-Token`` when the credentials carry one, and
    ``Authorization`` over ``host;x-amz-date[;x-amz-security-token]`` and the payload's SHA-256.
    """

    def __init__(self, credentials: Any, region: str, service: str = "execute-api") -> None:
        self._access_key: str = credentials.access_key
        self._secret_key: str = credentials.secret_key
        self._token: str | None = credentials.token
        self._region = region
        self._service = service
        self._signed_headers = "host;x-amz-date" + (";x-amz-security-token" if self._token else "")
        self._day = ""
        self._key = b""

    def headers(self, url: str, data: bytes, now: datetime | None = None) -> dict[str, str]:
        """The headers of ``POST url`` with body ``data``."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None and parts.port != (443 if parts.scheme == "https" else 80):
            host = f"{host}:{parts.port}"
        return self.sign(host, parts.path, data, now)

    def sign(self, host: str, path: str, data: bytes, now: datetime | None = None) -> dict[str, str]:
        """The headers of ``POST path`` (as sent: percent-encoded, no query) to ``host`` (the Host
        header's value) with body ``data``."""
        moment = now or datetime.now(UTC)
        stamp = moment.strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        if day != self._day:
            self._key = self._signing_key(day)
            self._day = day
        canonical_headers = f"host:{host}\nx-amz-date:{stamp}\n"
        if self._token:
            canonical_headers += f"x-amz-security-token:{self._token}\n"
        canonical = "\n".join(
            (
                "POST",
                quote(_normalized_path(path), safe="/~"),
                "",  # no query string
                canonical_headers,
                self._signed_headers,
                hashlib.sha256(data).hexdigest(),
            )
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers = {"X-Amz-Date": stamp}
        if self._token:
            headers["X-Amz-Security-Token"] = self._token
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self._access_key}/{scope}, "
            f"SignedHeaders={self._signed_headers}, Signature={signature}"
        )
        return headers

    def _signing_key(self, day: str) -> bytes:
        key = f"AWS4{self._secret_key}".encode()
        for part in (day, self._region, self._service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return key


def _normalized_path(path: str) -> str:
    """The path as botocore signs it: ``/`` when empty, dot segments (RFC 3986 §5.2.4) and repeated
    slashes removed, the leading and trailing slash kept."""
    if not path:
        return "/"
    if "." not in path and "//" not in path:
        return path
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and segments else ""
    return first + "/".join(segments) + last


def _default_credentials() -> Callable[[], Any]:
    """Frozen credentials of the default boto3 chain (the Lambda role's), read afresh each round so
    rotated credentials are picked up; the session (and its chain lookup) is built on first use."""
    session: Any = None

    def frozen() -> Any:
        nonlocal session
        if session is None:
            import boto3

            session = boto3.Session()
        credentials = session.get_credentials()
        return None if credentials is None else credentials.get_frozen_credentials()

    return frozen


def poster_from_env(endpoint: str, kind: str | None = None) -> Poster:
    """The poster ``FANOUT_POSTER`` names (``async``, the default, or ``threads``)."""
    kind = (kind or os.environ.get("FANOUT_POSTER") or "async").strip().lower()
    if kind == "threads":
        return ThreadPoster(lambda: management_client(endpoint))
    if kind == "async":
        return AsyncPoster(endpoint)
    raise ValueError(f"FANOUT_POSTER must be 'async' or 'threads', got {kind!r}")
