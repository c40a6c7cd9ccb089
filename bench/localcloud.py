"""The local cloud's Kinesis path, end to end: PutRecords → moto Kinesis → poller → worker process.

- **Throughput**: a burst of records put as fast as PutRecords (500 a call) allows; records/s from
  the first put until the mapping has delivered them all (``/_local/status`` records count).
- **Added latency** (put → handler start): records put at a steady, moderate rate; the poller records,
  per record, invocation start − ApproximateArrivalTimestamp (the status endpoint's latency_ms).
  AWS's own propagation with standard polling is ~200 ms at best (it polls each shard once a second
  when idle); the local poll interval is 50 ms.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.config import Config, detail, heading
from bench.report import Check, Section

APP = Path(__file__).parent / "localcloud_app" / "template.yaml"
THROUGHPUT_TARGET = 5_000.0  # records/s
LATENCY_P99_TARGET_MS = 250.0


def _records(cloud: Any) -> int:
    return int(cloud.status()["mappings"]["Consumer.Records"]["records"])


def _wait_for(cloud: Any, count: int, timeout: float = 120.0) -> float:
    deadline = time.perf_counter() + timeout
    while _records(cloud) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {_records(cloud)} of {count} records delivered in {timeout} s")
        time.sleep(0.01)
    return time.perf_counter()


def _put_burst(kinesis: Any, stream: str, total: int, payload: bytes) -> None:
    for start in range(0, total, 500):
        records = [{"Data": payload, "PartitionKey": str(i)} for i in range(start, min(total, start + 500))]
        response = kinesis.put_records(StreamName=stream, Records=records)
        if response["FailedRecordCount"]:
            raise RuntimeError(f"{response['FailedRecordCount']} records rejected")


def bench_localcloud(cfg: Config) -> Section:
    from localcloud.cloud import LocalCloud  # only when this benchmark runs

    heading("localcloud: Kinesis put → trivial handler through the embedded moto server")
    burst = 5_000 if cfg.quick else 30_000
    with tempfile.TemporaryDirectory() as state:
        cloud = LocalCloud(
            APP, port=0, state_dir=Path(state), stack_name="bench", fire_schedules_at_start=False
        )
        cloud.start()
        try:
            kinesis = cloud.endpoint.client("kinesis")
            stream = "bench-Stream"
            payload = b'{"v":1,"type":"underlying","product":"NIFTY","tick_id":1,"price":21543.25}'
            # warm the workers (cold starts are not what is measured here)
            _put_burst(kinesis, stream, 200, payload)
            _wait_for(cloud, 200)

            # steady rate for latency: 200 records/s in batches of 10 for a few seconds
            steady_seconds = 2 if cfg.quick else 5
            base = _records(cloud)
            for mapping in cloud.mappings.values():  # measure only the steady phase
                for stats in mapping._shard_stats:
                    stats.latencies_ms.clear()
            sent = 0
            next_put = time.perf_counter()
            end = next_put + steady_seconds
            while next_put < end:
                _put_burst(kinesis, stream, 10, payload)
                sent += 10
                next_put += 0.05
                time.sleep(max(0.0, next_put - time.perf_counter()))
            _wait_for(cloud, base + sent)
            latency = cloud.status()["mappings"]["Consumer.Records"]["latency_ms"]
            detail(
                f"steady 200 records/s for {steady_seconds} s: "
                f"put → handler start p50 {latency['p50']:.0f} ms, "
                f"p99 {latency['p99']:.0f} ms ({sent} records)"
            )

            base = _records(cloud)
            started = time.perf_counter()
            _put_burst(kinesis, stream, burst, payload)
            put_done = time.perf_counter()
            finished = _wait_for(cloud, base + burst)
            rate = burst / (finished - started)
            status = cloud.status()
            detail(
                f"burst of {burst:,} records: put in {put_done - started:.2f} s, all delivered after "
                f"{finished - started:.2f} s → {rate:,.0f} records/s "
                f"({status['mappings']['Consumer.Records']['batches']} batches in all, "
                f"{status['functions']['Consumer']['duration_ms']['mean']:.2f} ms mean handler duration)"
            )
        finally:
            cloud.stop()
    return Section(
        "localcloud",
        [
            Check(
                f"records/s, burst of {burst:,}",
                f"{rate:,.0f}/s",
                f"≥ {THROUGHPUT_TARGET:,.0f}/s",
                rate >= THROUGHPUT_TARGET,
            ),
            Check("put → handler start p50", f"{latency['p50']:.0f} ms", "-", None),
            Check(
                "put → handler start p99",
                f"{latency['p99']:.0f} ms",
                f"≤ {LATENCY_P99_TARGET_MS:.0f} ms",
                latency["p99"] <= LATENCY_P99_TARGET_MS,
            ),
        ],
    )
