"""`make run`'s stack as a newcomer starts it: data flows, both functions run without errors, the DLQ
stays empty, and Ctrl-C (SIGTERM) stops it cleanly. Driven only through /_local/status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from devstack.__main__ import free_port
from tests.functional.localcloud.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
OVERRIDES = ("FeedDuration=4", "TickInterval=0.25", "Products=NIFTY,SPY")  # a quick feed: 4 s every 5 s


def _status(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/status", timeout=3) as response:
            document: dict[str, Any] = json.load(response)
            return document
    except OSError:
        return None


def test_the_local_stack_shows_data_flowing_with_no_errors_and_an_empty_dlq(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--port", str(port), "--state-dir", str(tmp_path), "--speed", "12",
         "--ws-port", str(free_port()), "--web-port", "0",
         "--parameter-overrides", *OVERRIDES],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}, "PYTHONPATH": str(INFRA)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:

        def flowing() -> dict[str, Any] | None:
            status = _status(port)
            if not status:
                return None
            functions = status["functions"]
            done = (
                functions["FeedFunction"]["invocations"] >= 1
                and functions["EnrichFunction"]["invocations"] >= 3
            )
            return status if done else None

        status = wait_for(flowing, timeout=90)
        assert status is not None
        assert status["functions"]["FeedFunction"]["errors"] == 0
        assert status["functions"]["EnrichFunction"]["errors"] == 0
        assert status["mappings"]["EnrichFunction.Ticks"]["records"] > 0
        assert status["queues"]["EnrichDLQ"]["messages"] == 0
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output[-3000:]
        assert "devstack: Redis" in output
        assert "batch enriched" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
