"""The dashboard on ``make run``: built from ``web/`` when its sources are newer than ``web/dist``,
then served as static files with a ``config.json`` naming the local REST and WebSocket endpoints —
what the S3 bucket (and CloudFront) serve in AWS, where ``infra/deploy_web.py`` writes the file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

SOURCES = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")


def stale(web: Path) -> bool:
    """Whether ``web/dist`` is missing or older than any source file."""
    index = web / "dist" / "index.html"
    if not index.exists():
        return True
    built = index.stat().st_mtime
    for name in SOURCES:
        path = web / name
        files = path.rglob("*") if path.is_dir() else [path]
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return True
    return False


def ensure_built(web: Path) -> Path | None:
    """``web/dist``, built first if stale (``npm ci`` when there are no node_modules); None, with the
    reason printed, when it cannot be built (no npm): the rest of the stack runs without the page."""
    dist = web / "dist"
    if not stale(web):
        return dist
    npm = shutil.which("npm")
    if npm is None:
        print("devstack: dashboard not built: npm is not installed (apt-get install npm)", file=sys.stderr)
        return dist if (dist / "index.html").exists() else None
    print("devstack: building the dashboard (web/) ...", flush=True)
    stamp = web / "node_modules" / ".installed"  # the Makefile's: npm ci when the lock file is newer
    fresh = stamp.exists() and stamp.stat().st_mtime >= (web / "package-lock.json").stat().st_mtime
    steps = ([] if fresh else [[npm, "ci", "--no-audit", "--no-fund"]]) + [[npm, "run", "build"]]
    for step in steps:
        done = subprocess.run(step, cwd=web, capture_output=True, text=True)
        if done.returncode != 0:
            output = f"{done.stdout}{done.stderr}"
            print(f"devstack: `{' '.join(step[1:])}` failed in web/:\n{output}", file=sys.stderr)
            return dist if (dist / "index.html").exists() else None
        if step[1] == "ci":
            stamp.touch()
    return dist


class _Handler(SimpleHTTPRequestHandler):
    config: bytes = b"{}"

    def do_GET(self) -> None:
        canonical = f"127.0.0.1:{cast(ThreadingHTTPServer, self.server).server_port}"
        if self.headers.get("Host") != canonical:  # the API allows this one origin (CORS)
            self.send_response(308)
            self.send_header("Location", f"http://{canonical}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.split("?", 1)[0] == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Content-Length", str(len(self.config)))
            self.end_headers()
            self.wfile.write(self.config)
            return
        super().do_GET()

    def end_headers(self) -> None:
        if self.path.startswith("/assets/"):
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")  # hashed names
        elif not self.path.startswith("/config.json"):
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the page loads a handful of files


def serve(dist: Path, port: int, api_url: str, ws_url: str) -> ThreadingHTTPServer:
    """Serves ``dist`` on 127.0.0.1:``port`` in a daemon thread."""
    config = json.dumps({"apiUrl": api_url, "wsUrl": ws_url}).encode()
    handler = type("WebHandler", (_Handler,), {"config": config})
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(dist)))
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    return server
