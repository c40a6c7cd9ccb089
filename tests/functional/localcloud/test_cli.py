"""``localcloud up`` as a user runs it: a real process on the example template, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .conftest import wait_for

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "infra" / "localcloud" / "examples" / "hello" / "template.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/status", timeout=2) as response:
            document: dict[str, Any] = json.load(response)
            return document
    except OSError:
        return None


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find child processes")
def test_up_runs_the_example_and_sigterm_stops_everything_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    executable = shutil.which("localcloud", path=str(Path(sys.executable).parent)) or "localcloud"
    process = subprocess.Popen(
        [
            executable,
            "up",
            "--template",
            str(EXAMPLE),
            "--port",
            str(port),
            "--speed",
            "120",
            "--state-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
    )
    try:
        # WHEN it is up: the scheduled producer's records reach the Kinesis consumer
        def consumer_caught_up() -> dict[str, Any] | None:
            status = _status(port)
            return status if status and status["mappings"]["Consumer.Records"]["records"] >= 10 else None

        status = wait_for(consumer_caught_up, timeout=60)
        assert status is not None
        assert status["functions"]["Producer"]["invocations"] >= 2
        workers = _descendants(process.pid)
        assert workers  # function workers are child processes
        # THEN SIGTERM stops it with exit status 0, no process left behind, the port released
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output[-2000:]
        assert "status          http://127.0.0.1:" in output
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)]
        with socket.socket() as s:  # released: a new server (SO_REUSEADDR, as http.server sets) can bind it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize(
    ("value", "named"),
    [("{Fn::Foo: bar}", "Resources.Fn.Properties.Environment.Variables.X"), ("!Foo bar", "line 8")],
)
def test_a_broken_template_is_reported_without_a_traceback(tmp_path: Path, value: str, named: str) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: app.handler\n      Runtime: python3.12\n      CodeUri: .\n"
        f"      Environment: {{Variables: {{X: {value}}}}}\n"
    )
    executable = shutil.which("localcloud", path=str(Path(sys.executable).parent)) or "localcloud"
    run = subprocess.run(
        [
            executable,
            "up",
            "--template",
            str(template),
            "--port",
            str(_free_port()),
            "--state-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert named in run.stderr
