"""Keep a subscription alive: connect, subscribe, hand every event on, and when the socket drops,
reconnect with exponential backoff (full jitter) and subscribe again.

The socket is a :class:`Connection` made by a ``connect`` callable, so tests drive the loop with a
connection object of their own; the CLI passes ``websockets``'. An idle socket is kept open with an
application ``ping`` (API Gateway closes a WebSocket idle for 10 minutes).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import orjson

from deltastream.ws.protocol import decode_event

logger = logging.getLogger(__name__)

KEEPALIVE_S: Final = 300.0


class Connection(Protocol):
    async def send(self, message: str) -> None: ...

    async def recv(self) -> str | bytes: ...

    async def close(self) -> None: ...


class Fatal(Exception):
    """A failure reconnecting cannot fix (e.g. the token was refused): the watch stops."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before reconnect attempt ``n`` (0-based): uniform in [½, 1] × min(cap, initial·2ⁿ)."""

    initial_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.initial_s * 2.0**attempt)
        return ceiling * rng.uniform(0.5, 1.0)


def subscriptions(symbol: str, *, chain: bool) -> list[dict[str, str]]:
    messages = [{"action": "subscribe", "type": "product", "symbol": symbol}]
    if chain:
        messages.append({"action": "subscribe", "type": "chain", "symbol": symbol})
    return messages


class Watcher:
    def __init__(
        self,
        connect: Callable[[], Awaitable[Connection]],
        messages: Sequence[dict[str, Any]],
        on_event: Callable[[str, Any], None],
        *,
        on_status: Callable[[str], None] = lambda status: None,
        is_fatal: Callable[[Exception], bool] = lambda error: False,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        keepalive_s: float = KEEPALIVE_S,
    ) -> None:
        self._connect = connect
        self._messages = [orjson.dumps(m).decode() for m in messages]
        self._on_event = on_event
        self._on_status = on_status
        self._is_fatal = is_fatal
        self._backoff = backoff
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._keepalive_s = keepalive_s
        self.connects = 0

    async def run(self, *, max_connects: int | None = None) -> None:
        """Watch until cancelled (Ctrl-C), a fatal error, or ``max_connects`` connections have ended."""
        attempt = 0
        while max_connects is None or self.connects < max_connects:
            self._on_status("connecting" if attempt == 0 else f"reconnecting (attempt {attempt + 1})")
            try:
                connection = await self._connect()
            except Exception as error:
                if self._is_fatal(error):
                    raise Fatal(str(error)) from error
                delay = self._backoff.delay(attempt, self._rng)
                self._on_status(f"connect failed ({error}); retrying in {delay:.1f}s")
                attempt += 1
                await self._sleep(delay)
                continue
            self.connects += 1
            try:
                if await self._session(connection):
                    attempt = 0  # it worked for a while: start the backoff afresh
            except Exception as error:
                logger.debug("connection lost: %r", error)
            finally:
                await connection.close()
            if max_connects is not None and self.connects >= max_connects:
                break
            delay = self._backoff.delay(attempt, self._rng)
            self._on_status(f"disconnected; reconnecting in {delay:.1f}s")
            attempt += 1
            await self._sleep(delay)

    async def _session(self, connection: Connection) -> bool:
        """Subscribe and relay events until the connection fails; True once an event has arrived."""
        for message in self._messages:
            await connection.send(message)
        self._on_status("connected")
        received = False
        while True:
            try:
                raw = await asyncio.wait_for(connection.recv(), self._keepalive_s)
            except TimeoutError:
                await connection.send('{"action":"ping"}')
                continue
            except Exception as error:  # the socket closed or broke: run() reconnects
                logger.debug("connection lost: %r", error)
                return received
            try:
                event, data = decode_event(raw)
            except ValueError:
                logger.debug("ignored a message that is not an event: %r", raw[:80])
                continue
            received = True
            self._on_event(event, data)
