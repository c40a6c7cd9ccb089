"""``make run``'s stack as a child process on free ports, for the browser test and the dashboard
benchmark: started, waited for (the demo user can log in), stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack.__main__ import DEMO_EMAIL, DEMO_PASSWORD, ROOT, free_port, terminate

# Debian's Chromium as root in a closed network: no sandbox, no background calls home (each refused).
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
)  # fmt: skip


@dataclass(frozen=True)
class Stack:
    api_port: int
    ws_port: int
    web_port: int
    log: Path

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/"

    def login(self) -> dict[str, object]:
        """The demo user's session (raises while the stack is not up)."""
        body = json.dumps({"email": DEMO_EMAIL, "password": DEMO_PASSWORD}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}/api/auth/login",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            session: dict[str, object] = json.load(response)
            return session


@contextmanager
def running(state_dir: Path, overrides: Sequence[str] = (), timeout_s: float = 180.0) -> Iterator[Stack]:
    """The stack (output in ``state_dir/devstack.log``), once the demo user can log in and the
    dashboard answers."""
    stack = Stack(free_port(), free_port(), free_port(), state_dir / "devstack.log")
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env["PYTHONPATH"] = str(ROOT / "infra")
    with stack.log.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "--port", str(stack.api_port), "--ws-port", str(stack.ws_port),
             "--web-port", str(stack.web_port), "--state-dir", str(state_dir),
             "--parameter-overrides", *overrides],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"devstack exited ({process.returncode}):\n{stack.log.read_text()[-3000:]}"
                    )
                try:
                    stack.login()
                    urllib.request.urlopen(stack.dashboard + "config.json", timeout=5).close()
                    break
                except (OSError, urllib.error.HTTPError):
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"the stack was not up in {timeout_s:.0f} s:\n{stack.log.read_text()[-3000:]}"
                        ) from None
                    time.sleep(0.5)
            yield stack
        finally:
            terminate(process, 30)
