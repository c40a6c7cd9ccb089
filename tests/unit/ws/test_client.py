"""The terminal client: the board folds events and renders them; the watcher reconnects with backoff
and subscribes again on every connection (driven by a connection object of our own)."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from typing import Any

import orjson
import pytest

from deltastream.client.cli import parse_args, socket_url
from deltastream.client.render import CLEAR_BELOW, HOME, Board, frame, render
from deltastream.client.watch import Backoff, Fatal, Watcher, subscriptions
from tests.unit.ws.enriched import enriched_records

loop = pytest.mark.usefixtures("event_loop_sockets")


def nifty_board() -> Board:
    board = Board("NIFTY")
    for record in enriched_records():
        if record["type"] == "enriched_underlying":
            board.apply("underlying_update", record)
        else:
            board.apply("chain_update", record)
    return board


def test_the_board_shows_price_change_and_the_1m_bar() -> None:
    lines = render(nifty_board(), chain=False)
    assert lines[0].startswith("NIFTY  25,002.00  ▲ +2.00 (+0.01%) over 15m   tick 102")
    assert lines[1] == "1m   O 25,000.00  H 25,002.00  L 25,000.00  C 25,002.00"


def test_the_chain_board_shows_atm_plus_minus_5_strikes_pcr_and_max_pain() -> None:
    board = nifty_board()
    chain = board.chains[board.nearest_expiry or ""]
    lines = render(board, chain=True)
    text = "\n".join(lines)
    assert f"PCR(OI) {chain['pcr_oi']:,.2f}" in text
    assert f"max pain {chain['max_pain_strike']:,.0f}" in text
    rows = [line for line in lines if "│" in line and "STRIKE" not in line]
    assert len(rows) == 11
    assert f"* {chain['atm_strike']:,.0f} *" in rows[5]


def test_updates_of_other_products_and_older_ticks_do_not_change_the_board() -> None:
    board = nifty_board()
    assert not board.apply("underlying_update", {"product": "AAPL", "tick_id": 999, "price": 1.0})
    assert not board.apply("underlying_update", {**enriched_records()[0], "tick_id": 1})
    assert board.underlying is not None
    assert board.underlying["tick_id"] == 102


def test_a_subscribed_snapshot_fills_the_board() -> None:
    board = Board("NIFTY")
    tick = enriched_records()[0]
    assert board.apply("subscribed", {"room": "product:NIFTY", "snapshot": tick})
    assert board.underlying == tick


def test_a_frame_redraws_in_place() -> None:
    assert frame(["a", "b"]) == f"{HOME}a\x1b[K\nb\x1b[K\n{CLEAR_BELOW}"


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    backoff, rng = Backoff(initial_s=1.0, cap_s=8.0), random.Random(7)
    delays = [backoff.delay(n, rng) for n in range(6)]
    for n, delay in enumerate(delays):
        ceiling = min(8.0, 2.0**n)
        assert ceiling / 2 <= delay <= ceiling


class FakeConnection:
    """Scripted incoming messages; an exception in the script (or its end) drops the connection."""

    def __init__(self, incoming: list[Any]) -> None:
        self.incoming = deque(incoming)
        self.sent: list[dict[str, Any]] = []
        self.closed = False

    async def send(self, message: str) -> None:
        self.sent.append(orjson.loads(message))

    async def recv(self) -> str | bytes:
        await asyncio.sleep(0)
        if not self.incoming:
            raise ConnectionError("closed by peer")
        item = self.incoming.popleft()
        if isinstance(item, BaseException):
            raise item
        return orjson.dumps(item)

    async def close(self) -> None:
        self.closed = True


@loop
def test_the_watcher_resubscribes_after_every_reconnect_with_growing_delays() -> None:
    update = {"event": "underlying_update", "data": {"product": "NIFTY", "tick_id": 1}}
    script: deque[FakeConnection | OSError] = deque(
        [
            OSError("refused"),
            FakeConnection([]),
            OSError("refused"),
            FakeConnection([update]),
            FakeConnection([]),
        ]
    )
    made: list[FakeConnection] = []
    sleeps: list[float] = []
    seen: list[tuple[str, Any]] = []

    async def connect() -> FakeConnection:
        item = script.popleft()
        if isinstance(item, Exception):
            raise item
        made.append(item)
        return item

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    watcher = Watcher(
        connect,
        subscriptions("NIFTY", chain=True),
        lambda event, data: seen.append((event, data)),
        backoff=Backoff(initial_s=1.0, cap_s=60.0),
        sleep=sleep,
        rng=random.Random(1),
    )
    asyncio.run(watcher.run(max_connects=3))
    expected = [
        {"action": "subscribe", "type": "product", "symbol": "NIFTY"},
        {"action": "subscribe", "type": "chain", "symbol": "NIFTY"},
    ]
    assert [c.sent for c in made] == [expected] * 3
    assert all(c.closed for c in made)
    assert seen == [("underlying_update", {"product": "NIFTY", "tick_id": 1})]
    # attempts 0,1,2 fail or drop without data (delays grow); the one that delivered resets the backoff
    assert [round(s / c, 2) <= 1 for s, c in zip(sleeps, [1, 2, 4, 1], strict=True)] == [True] * 4
    assert 2.0 <= sleeps[2] <= 4.0
    assert 0.5 <= sleeps[3] <= 1.0


@loop
def test_a_refused_token_stops_the_watcher() -> None:
    async def connect() -> FakeConnection:
        raise PermissionError("HTTP 401")

    watcher = Watcher(
        connect, [], lambda e, d: None, is_fatal=lambda error: isinstance(error, PermissionError)
    )
    with pytest.raises(Fatal, match="401"):
        asyncio.run(watcher.run())


@loop
def test_an_idle_connection_is_kept_open_with_a_ping() -> None:
    class Idle(FakeConnection):
        async def recv(self) -> str | bytes:
            if not any(m.get("action") == "ping" for m in self.sent):
                await asyncio.sleep(1)
            raise ConnectionError("closed")

    connection = Idle([])

    async def connect() -> Idle:
        return connection

    watcher = Watcher(connect, [], lambda e, d: None, keepalive_s=0.01)
    asyncio.run(watcher.run(max_connects=1))
    assert connection.sent == [{"action": "ping"}]


def test_the_cli_reads_its_options_and_puts_the_token_in_the_query_string() -> None:
    args = parse_args(["watch", "nifty", "--chain", "--token", "t0k"])
    assert (args.symbol, args.chain, args.token) == ("NIFTY", True, "t0k")
    assert socket_url("ws://127.0.0.1:3001/dev", "a.b c") == "ws://127.0.0.1:3001/dev?token=a.b+c"
