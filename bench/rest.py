"""The REST API through the local gateway: p50/p99 latency at a steady 200 requests/s.

The local stack runs on template.yaml (Redis, embedded MongoDB, the feed on a short schedule so
chains exist); a user registers and logs in; then requests go out at 200/s (open loop: each is sent
at its scheduled time on a pool of keep-alive connections, so a slow answer does not slow the
schedule) for ``GET /api/data/chain/NIFTY`` (served from Redis: a cache hit) and
``GET /api/analytics/max-pain/NIFTY``. Latency is measured by the client, end to end.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from bench.config import Config, detail, heading
from bench.pipeline import ROOT, _local_stores
from bench.report import Check, Section

RATE = 200.0  # requests per second
ENDPOINTS = ("/api/data/chain/NIFTY", "/api/analytics/max-pain/NIFTY")


@contextmanager
def _stack(seconds_of_feed: int, extra: dict[str, str] | None = None) -> Iterator[tuple[int, Any]]:
    from localcloud.cloud import LocalCloud

    with _local_stores() as (redis_url, mongo_url, state):
        cloud = LocalCloud(
            ROOT / "template.yaml",
            port=0,
            state_dir=state,
            stack_name="bench-rest",
            parameter_overrides={
                "RedisUrl": redis_url,
                "MongoUrl": mongo_url,
                "JwtSecret": "bench-secret-" + "x" * 40,
                "Products": "NIFTY,SPY",
                "TickInterval": "0.5",
                "ChainEvery": "2",
                "FeedDuration": str(seconds_of_feed),
                "ApiRateLimitPerMinute": "100000",
                **(extra or {}),
            },
            ws_port=0,
        )
        try:
            cloud.start()
            assert cloud.server is not None
            yield cloud.server.port, cloud
        finally:
            cloud.stop()


def _call(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else None


def _wait_for_chain(port: int, token: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_call(port, "GET", path, token=token)[0] == 200 for path in ENDPOINTS):
            return
        time.sleep(0.5)
    raise TimeoutError("no NIFTY chain served within the timeout")


def _load(port: int, token: str, path: str, seconds: float) -> tuple[list[float], int]:
    """Open-loop load at RATE per second; returns latencies (s) and the count of non-200 answers."""
    local = threading.local()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def request(scheduled: float) -> None:
        nonlocal failures
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            local.connection = None
            ok = False
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            failures += not ok

    count = int(RATE * seconds)
    start = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i in range(count):
            pool.submit(request, start + i / RATE)
    return latencies, failures


def bench_rest(cfg: Config) -> Section:
    heading(f"rest: {RATE:.0f} requests/s through the local gateway (JWT authorizer, Lambda proxy)")
    seconds = 3.0 if cfg.quick else 10.0
    checks = []
    with _stack(seconds_of_feed=600) as (port, _):
        credentials = {"email": "bench@deltastream.dev", "password": "bench-Password-2026", "name": "Bench"}
        status, body = _call(port, "POST", "/api/auth/register", credentials)
        if status not in (200, 201):
            raise RuntimeError(f"register failed: {status} {body}")
        token = body["token"]
        _wait_for_chain(port, token)
        for path in ENDPOINTS:
            _load(port, token, path, 1.0)  # warm every worker and the authorizer cache
            latencies, failures = _load(port, token, path, seconds)
            ordered = sorted(latencies)
            p50, p99 = statistics.median(ordered), ordered[int(len(ordered) * 0.99)]
            detail(
                f"GET {path}: {len(latencies)} requests, p50 {p50 * 1e3:.1f} ms, "
                f"p99 {p99 * 1e3:.1f} ms, non-200 {failures}"
            )
            checks.append(Check(f"GET {path} p50", f"{p50 * 1e3:.1f} ms", "-", None))
            checks.append(Check(f"GET {path} p99", f"{p99 * 1e3:.1f} ms", "-", None))
            checks.append(Check(f"GET {path} non-200", str(failures), "0", failures == 0))
    return Section("rest", checks)
