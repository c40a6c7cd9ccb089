"""Live updates: 1,000 subscribed WebSocket clients on the local stack (template.yaml).

- **Latency**: ticks put on the ticks stream (one NIFTY tick a second, the feed's cadence) travel
  enrichment → the enriched stream → the fan-out → the local WebSocket gateway → every client;
  each client records
  arrival time − the record's ``ts`` (stamped when it was put). p50/p99 over all deliveries.
- **Posts/s**: the fan-out's poster (async, SigV4-signed, :mod:`deltastream.ws.http1`) posting one
  message to each of the 1,000 live connections through the local ``@connections`` API (median of
  warm rounds, the cold one shown), against sequential boto3 ``post_to_connection`` in the same run.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from bench.config import Config, detail, heading
from bench.report import Check, Section
from bench.rest import _call, _stack

CLIENTS = 1_000
LATENCY_P99_TARGET_MS = 500.0
POSTS_TARGET = 5_000.0
RATIO_TARGET = 10.0
ROUNDS = 5  # warm rounds of posts to every client


def _clients_process(url: str, count: int, seconds: float, ready: Any, results: Any) -> None:
    """In a process of its own (the gateway must not share a GIL with 1,000 clients): connect,
    subscribe to NIFTY, record each underlying update's latency for ``seconds`` after ``ready``."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    latencies: list[float] = []
    sockets: list[Any] = []

    async def client(connected: list[int], all_in: asyncio.Event) -> None:
        async with connect(url, open_timeout=120, max_size=None) as socket:
            sockets.append(socket)
            await socket.send(json.dumps({"action": "subscribe", "type": "product", "symbol": "NIFTY"}))
            while json.loads(await socket.recv()).get("event") != "subscribed":
                pass  # in the room once the reply comes
            connected[0] += 1
            if connected[0] == count:
                all_in.set()
            try:
                async for message in socket:  # until main() closes the socket
                    if '"underlying_update"' not in message:  # the posts/s round's messages
                        continue
                    event = json.loads(message)
                    if event["data"].get("product") == "NIFTY":
                        ts = datetime.fromisoformat(event["data"]["ts"]).timestamp()
                        latencies.append(time.time() - ts)
            except ConnectionClosed:
                pass

    async def main() -> None:
        connected, all_in = [0], asyncio.Event()
        tasks = []
        for _ in range(count):
            tasks.append(asyncio.create_task(client(connected, all_in)))
            await asyncio.sleep(0.003)
        await asyncio.wait_for(all_in.wait(), 240)
        ready.set()
        await asyncio.sleep(seconds)
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    results.put(latencies)


def _posts_process(endpoint: str, members: list[str], results: Any) -> None:
    """Posts one message to every member with the fan-out's poster — a cold round (connections
    opened), then ``ROUNDS`` warm ones (a warm invocation: the sandbox keeps its connections) — then
    to 300 of them with sequential boto3 ``post_to_connection`` (the naive fan-out, its client warmed
    by one call); reports the median warm rate, the cold one and boto3's."""
    import boto3
    from botocore.credentials import Credentials

    from deltastream.ws.connections import AsyncPoster

    message = json.dumps({"event": "pong", "data": {"ts": time.time()}}).encode()
    signed = Credentials("testing", "testing").get_frozen_credentials()  # both peers sign, as in AWS
    poster = AsyncPoster(endpoint, region="us-east-1", credentials=lambda: signed)
    rates: list[float] = []
    sent = errors = 0
    try:
        for _ in range(1 + ROUNDS):
            started = time.perf_counter()
            report = poster.post_many([(cid, message) for cid in members])
            rates.append(report.sent / (time.perf_counter() - started))
            sent, errors = sent + report.sent, errors + report.error_count
    finally:
        poster.close()
    client = boto3.client(
        "apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    client.post_to_connection(ConnectionId=members[0], Data=message)
    sample = members[:300]
    started = time.perf_counter()
    for cid in sample:
        client.post_to_connection(ConnectionId=cid, Data=message)
    sequential_rate = len(sample) / (time.perf_counter() - started)
    results.put((statistics.median(rates[1:]), rates[0], sequential_rate, sent, errors))


def bench_websocket(cfg: Config) -> Section:
    import redis

    from deltastream.adapters import redis_keys

    heading(f"websocket: {CLIENTS:,} subscribed clients on the local stack")
    seconds = 5.0 if cfg.quick else 15.0
    with _stack(seconds_of_feed=1, extra={"FeedEnabled": "false"}) as (port, cloud):
        credentials = {
            "email": "ws-bench@deltastream.dev",
            "password": "bench-Password-2026",
            "name": "Bench",
        }
        _, body = _call(port, "POST", "/api/auth/register", credentials)
        token = body["token"]
        gateway = cloud.websocket
        # Warm the path first (enrichment and fan-out cold starts are ~1 s each): steady state is measured.
        warm = {"v": 1, "type": "underlying", "product": "NIFTY", "tick_id": 9_999, "price": 25_000.0,
                "ts": datetime.now(UTC).isoformat()}  # fmt: skip
        cloud.endpoint.client("kinesis").put_record(
            StreamName="deltastream-ticks-dev", Data=json.dumps(warm).encode(), PartitionKey="NIFTY"
        )
        deadline = time.monotonic() + 60
        while (
            cloud.status()["functions"]["FanoutFunction"]["invocations"] < 1 and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        context = multiprocessing.get_context("spawn")
        ready, results = context.Event(), context.Queue()
        ticks = int(seconds)  # the feed's cadence: one NIFTY tick a second
        clients = context.Process(
            target=_clients_process,
            args=(f"ws://127.0.0.1:{gateway.port}/dev?token={token}", CLIENTS, ticks + 15.0, ready, results),
        )
        clients.start()
        if not ready.wait(300):
            raise TimeoutError("the clients did not all connect")
        # --- posts/s: the fan-out's poster vs sequential boto3, same connections, same message
        registry = redis.Redis.from_url(cloud.model.parameters["RedisUrl"])
        members = [
            m.decode() if isinstance(m, bytes) else m
            for m in registry.smembers(redis_keys.ws_room("product:NIFTY"))
        ]
        endpoint = f"http://127.0.0.1:{gateway.port}/dev"
        # Measured in a process of its own, as the fan-out Lambda never shares an interpreter (or a GIL)
        # with API Gateway: the local gateway runs in this process.
        rates = context.Queue()
        posts = context.Process(target=_posts_process, args=(endpoint, members, rates))
        posts.start()
        async_rate, cold_rate, sequential_rate, sent, errors = rates.get(timeout=120)
        posts.join(30)
        kinesis = cloud.endpoint.client("kinesis")
        for tick in range(ticks):
            record = {"v": 1, "type": "underlying", "product": "NIFTY", "tick_id": 10_000 + tick,
                      "price": 25_000.0 + tick, "ts": datetime.now(UTC).isoformat()}  # fmt: skip
            kinesis.put_record(
                StreamName="deltastream-ticks-dev", Data=json.dumps(record).encode(), PartitionKey="NIFTY"
            )
            time.sleep(1.0)
        latencies = sorted(results.get(timeout=120))
        clients.join(30)
        expected = CLIENTS * ticks
    p50 = statistics.median(latencies) * 1e3 if latencies else float("nan")
    p99 = latencies[int(len(latencies) * 0.99)] * 1e3 if latencies else float("nan")
    ratio = async_rate / sequential_rate
    delivered = f"{len(latencies):,} / {expected:,}"
    detail(f"{delivered} deliveries; tick → client p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    detail(
        f"posts to {len(members):,} connections: async {async_rate:,.0f}/s warm (median of {ROUNDS}; "
        f"cold round {cold_rate:,.0f}/s; {sent:,} sent, {errors} errors) vs sequential boto3 "
        f"{sequential_rate:,.0f}/s = {ratio:.1f}x"
    )
    p99_target = f"≤ {LATENCY_P99_TARGET_MS:.0f} ms"
    return Section(
        "websocket",
        [
            Check("deliveries / expected", delivered, "all", len(latencies) >= expected),
            Check("tick → client p50", f"{p50:.0f} ms", "-", None),
            Check("tick → client p99", f"{p99:.0f} ms", p99_target, p99 <= LATENCY_P99_TARGET_MS),
            Check(
                "fan-out posts/s (warm)",
                f"{async_rate:,.0f}/s",
                f"≥ {POSTS_TARGET:,.0f}/s",
                async_rate >= POSTS_TARGET,
                peer=f"{sequential_rate:,.0f}/s",
                ratio=f"{ratio:.1f}x",
            ),
            Check(
                "posts/s vs sequential boto3",
                f"{ratio:.1f}x",
                f"≥ {RATIO_TARGET:.0f}x",
                ratio >= RATIO_TARGET,
            ),
        ],
    )
