"""Runs a function's handler the way Lambda does: in warm worker processes, with Lambda's limits and errors.

Each worker is a ``python -m localcloud.worker`` child process (see :mod:`localcloud.worker`): one
execution environment with its own modules, environment variables and ``sys.path``, importing the
handler once (the cold start) and answering invocations one at a time over two dedicated pipes.
:class:`FunctionRuntime` keeps a pool of them per function, up to the function's concurrency, and
enforces what the Lambda service enforces from outside the sandbox: the timeout (``Sandbox.Timedout``),
a runtime that dies (``Runtime.ExitError``), the START / END / REPORT log lines.

    runtime = FunctionRuntime(spec, {"AWS_ENDPOINT_URL": url})
    invocation = runtime.invoke({"key": "value"})
    invocation.ok, invocation.payload, invocation.error
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from localcloud.model import AppModel, FunctionSpec
from localcloud.worker import decode_message

logger = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENCY = 10
INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase of an on-demand function
KILL_GRACE_S = 0.5  # between SIGTERM and SIGKILL
DURATIONS_KEPT = 10_000

# Taken from the parent's environment; everything else a worker sees is set for the function.
BASE_VARIABLES = ("PATH", "HOME", "LANG", "TZ", "SYSTEMROOT", "VIRTUAL_ENV")

# Lambda refuses a function whose Environment sets one of these ("reserved keys").
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


class RuntimeClosedError(RuntimeError):
    """The runtime was closed; it starts no more workers."""


class ThrottledError(RuntimeError):
    """Lambda's TooManyRequestsException: the function's reserved concurrency is 0."""


@dataclass(frozen=True, slots=True)
class Invocation:
    """The outcome of one synchronous invocation, as the Invoke API would report it."""

    request_id: str
    ok: bool
    payload: Any  # the handler's result, through JSON; None when the invocation failed
    error: dict[str, Any] | None  # Lambda's error document when the invocation failed
    duration_ms: float
    init_duration_ms: float | None  # set on a cold start
    cold_start: bool


# --- pure helpers -----------------------------------------------------------------------------------


def check_environment(spec: FunctionSpec) -> None:
    reserved = sorted(RESERVED_VARIABLES.intersection(spec.environment))
    if reserved:
        raise ValueError(
            f"{spec.logical_id}: Lambda was unable to configure your environment variables because the "
            f"environment variables you have provided contains reserved keys that are currently not "
            f"supported for modification. Reserved keys used in this request: {','.join(reserved)}"
        )


def region_from_arn(arn: str, default: str = "us-east-1") -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default


def new_log_stream_name(now: datetime | None = None) -> str:
    """A log stream per execution environment, named as Lambda names them: ``2024/05/01/[$LATEST]<hex>``."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{day}/[$LATEST]{uuid.uuid4().hex}"


def build_environment(
    spec: FunctionSpec, extra_env: Mapping[str, str], *, parent_env: Mapping[str, str], log_stream_name: str
) -> dict[str, str]:
    """A worker's environment: basics from the parent, the function's variables, the caller's extras
    (endpoint, dummy credentials), then Lambda's reserved variables, which nothing overrides."""
    environment = {name: parent_env[name] for name in BASE_VARIABLES if name in parent_env}
    environment.update(spec.environment)
    environment.update(extra_env)
    region = region_from_arn(spec.arn, extra_env.get("AWS_REGION", "us-east-1"))
    environment.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(spec.code_uri),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "PYTHONUNBUFFERED": "1",  # output reaches the log as it is printed
        }
    )
    return environment


def layer_path_entries(layers: tuple[Path, ...]) -> list[str]:
    """Lambda unpacks layers under /opt and puts /opt/python on sys.path: a layer's ``python/`` folder
    when it has one, else the layer directory itself (a layer built without the folder)."""
    return [str(layer / "python" if (layer / "python").is_dir() else layer) for layer in layers]


def encode_invoke_request(
    message_id: int, request_id: str, deadline_ms: int, function_arn: str, event_json: str
) -> bytes:
    """The request message, with the event already encoded (it was checked to be JSON before)."""
    header = json.dumps(
        {
            "id": message_id,
            "request_id": request_id,
            "deadline_ms": deadline_ms,
            "function_arn": function_arn,
        },
        separators=(",", ":"),
    )
    return f'{header[:-1]},"event":{event_json}}}\n'.encode()


def timeout_error(request_id: str, timeout_s: float) -> dict[str, Any]:
    return {
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds",
        "errorType": "Sandbox.Timedout",
    }


def exit_error(request_id: str, returncode: int) -> dict[str, Any]:
    """A runtime process that died, described as Lambda describes it (Go's exit-status wording)."""
    if returncode == 0:
        reason = "Runtime exited without providing a reason"
    elif returncode > 0:
        reason = f"Runtime exited with error: exit status {returncode}"
    else:
        name = signal.strsignal(-returncode) or f"signal {-returncode}"
        reason = f"Runtime exited with error: signal: {name.lower()}"
    return {"errorMessage": f"RequestId: {request_id} Error: {reason}", "errorType": "Runtime.ExitError"}


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    memory_mb: int,
    max_memory_used_mb: int,
    init_duration_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """Lambda's REPORT line; billed duration is rounded up to the millisecond."""
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {math.ceil(duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_used_mb} MB",
    ]
    if init_duration_ms is not None:
        fields.append(f"Init Duration: {init_duration_ms:.2f} ms")
    if status is not None:
        fields.append(f"Status: {status}")
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` in (0, 1])."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --- logs, metrics -------------------------------------------------------------------------------------


class FunctionLog:
    """A function's log stream: its workers' output and the platform's lines, one logger per function."""

    def __init__(self, logical_id: str) -> None:
        self.logger = logging.getLogger(f"localcloud.functions.{logical_id}")
        self._prefix = f"[{logical_id}] "

    def output(self, line: bytes | bytearray, *, stderr: bool = False) -> None:
        # The worker folds a multi-line log record into one line with carriage returns.
        text = line.decode(errors="replace").rstrip("\n").replace("\r", "\n").rstrip("\n")
        self.logger.log(logging.WARNING if stderr else logging.INFO, "%s%s", self._prefix, text)

    def platform(self, text: str, level: int = logging.INFO) -> None:
        self.logger.log(level, "%s%s", self._prefix, text)


class FunctionMetrics:
    """Counters for the status endpoint; thread-safe, keeping the last ``kept`` durations."""

    def __init__(self, kept: int = DURATIONS_KEPT) -> None:
        self._lock = threading.Lock()
        self._durations: deque[float] = deque(maxlen=kept)
        self._invocations = 0
        self._errors = 0
        self._cold_starts = 0

    def record(self, invocation: Invocation) -> None:
        with self._lock:
            self._invocations += 1
            self._errors += not invocation.ok
            self._cold_starts += invocation.cold_start
            self._durations.append(invocation.duration_ms)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            durations = list(self._durations)
            counts = {
                "invocations": self._invocations,
                "errors": self._errors,
                "cold_starts": self._cold_starts,
            }
        mean = sum(durations) / len(durations) if durations else None
        return {**counts, "duration_ms": {"mean": mean, "p99": percentile(durations, 0.99)}}


# --- one worker process -----------------------------------------------------------------------------


class WorkerTimedOut(Exception):
    """No answer before the deadline; the worker was stopped."""


class WorkerExited(Exception):
    """The worker died before answering."""

    def __init__(self, returncode: int) -> None:
        super().__init__(f"worker exited with {returncode}")
        self.returncode = returncode


class OutputPump(threading.Thread):
    """Reads a worker's stdout, stderr and response pipe, logging output lines and queueing responses.

    Output written before a response is logged before the response is handed over (the worker flushes
    before it answers), so a handler's prints come before END / REPORT as in CloudWatch.
    """

    def __init__(
        self, name: str, stdout: IO[bytes], stderr: IO[bytes], responses: int, log: FunctionLog
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()  # None: the pipe closed
        self._files = (stdout, stderr)
        self._outputs = {stdout.fileno(): False, stderr.fileno(): True}  # fd -> is stderr
        self._responses = responses
        self._log = log
        self._buffers: dict[int, bytearray] = {fd: bytearray() for fd in (*self._outputs, responses)}
        self._selector = selectors.DefaultSelector()

    def run(self) -> None:
        try:
            for fd in self._buffers:
                os.set_blocking(fd, False)
                self._selector.register(fd, selectors.EVENT_READ)
            while self._selector.get_map():
                ready = {key.fd for key, _ in self._selector.select()}
                for fd in self._outputs:
                    if fd in ready or self._responses in ready:
                        self._drain_output(fd)
                if self._responses in ready:
                    self._flush_partial_output()
                    self._drain_responses()
        except Exception:
            logger.exception("output pump %s failed", self.name)
            self.messages.put(None)
        finally:
            self._selector.close()
            os.close(self._responses)
            for file in self._files:
                file.close()

    def _read(self, fd: int) -> bytes | None:
        """What is available now; b"" at end of file, None when nothing is waiting."""
        if fd not in self._selector.get_map():
            return None
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return None
        if not chunk:
            self._selector.unregister(fd)
        return chunk

    def _drain_output(self, fd: int) -> None:
        buffer = self._buffers[fd]
        while (chunk := self._read(fd)) is not None:
            buffer += chunk
            *lines, rest = buffer.split(b"\n")
            for line in lines:
                self._log.output(line, stderr=self._outputs[fd])
            buffer[:] = rest
            if not chunk:
                self._flush(fd)
                return

    def _flush_partial_output(self) -> None:
        for fd in self._outputs:
            self._flush(fd)

    def _flush(self, fd: int) -> None:
        buffer = self._buffers[fd]
        if buffer:
            self._log.output(bytes(buffer), stderr=self._outputs[fd])
            buffer.clear()

    def _drain_responses(self) -> None:
        buffer = self._buffers[self._responses]
        while (chunk := self._read(self._responses)) is not None:
            buffer += chunk
            *lines, rest = buffer.split(b"\n")
            for line in lines:
                self.messages.put(decode_message(line))
            buffer[:] = rest
            if not chunk:
                self.messages.put(None)
                return


class WorkerProcess:
    """One execution environment: a ``localcloud.worker`` child process, its pipes and its pump."""

    def __init__(
        self,
        *,
        argv: list[str],
        environment: dict[str, str],
        cwd: Path,
        log: FunctionLog,
        name: str,
    ) -> None:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "localcloud.worker", str(request_read), str(response_write), *argv],
                cwd=cwd,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(request_read, response_write),
                start_new_session=True,  # its own process group: a timeout kills what the handler started
            )
        except BaseException:
            for fd in (request_write, response_read):
                os.close(fd)
            raise
        finally:
            os.close(request_read)
            os.close(response_write)
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._requests = os.fdopen(request_write, "wb")
        self._pump = OutputPump(
            f"{name}-{self._process.pid}", self._process.stdout, self._process.stderr, response_read, log
        )
        self._pump.start()
        self._next_id = 0
        self._stop_lock = threading.Lock()
        self._stopped = False
        self.max_memory_used_mb = 0

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def usable(self) -> bool:
        return not self._stopped and self._process.poll() is None

    def wait_init(self, timeout_s: float) -> dict[str, Any]:
        """The init message: ``{"ok": true}`` or ``{"ok": false, "error": {...}}``."""
        return self._receive(time.monotonic() + timeout_s)

    def invoke(self, request_id: str, event_json: str, function_arn: str, timeout_s: float) -> dict[str, Any]:
        self._next_id += 1
        deadline_ms = int((time.time() + timeout_s) * 1000)
        request = encode_invoke_request(self._next_id, request_id, deadline_ms, function_arn, event_json)
        deadline = time.monotonic() + timeout_s
        try:
            self._requests.write(request)
            self._requests.flush()
        except (BrokenPipeError, ValueError):  # died while idle (ValueError: already stopped)
            raise WorkerExited(self._reap()) from None
        response = self._receive(deadline)
        if response.get("id") != self._next_id:
            self.stop()
            raise RuntimeError(
                f"worker {self.pid} answered request {response.get('id')}, not {self._next_id}"
            )
        return response

    def _receive(self, deadline: float) -> dict[str, Any]:
        try:
            message = self._pump.messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self.stop()
            raise WorkerTimedOut from None
        if message is None:
            raise WorkerExited(self._reap())
        self.max_memory_used_mb = math.ceil(int(message.get("max_rss_kb", 0)) / 1024)
        return message

    def _reap(self) -> int:
        try:
            return self._process.wait(timeout=KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            self.stop()
            return self._process.returncode

    def stop(self) -> None:
        """SIGTERM the worker's process group, SIGKILL it after a grace period; idempotent."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        with contextlib.suppress(OSError):
            self._requests.close()
        if self._process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._process.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._process.wait()
        self._pump.join(timeout=KILL_GRACE_S)

    def _signal_group(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)


# --- the pool ---------------------------------------------------------------------------------------


class WorkerPool:
    """A function's workers: idle ones are reused (warm starts), at most ``limit`` alive at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._condition = threading.Condition()
        self._idle: list[WorkerProcess] = []
        self._live: set[WorkerProcess] = set()
        self._slots_taken = 0  # live workers plus those being started
        self._closed = False

    def acquire(self) -> WorkerProcess | None:
        """A warm worker, or None: a slot is reserved and the caller starts a worker (a cold start).
        Waits while every slot is busy, as a throttled caller that retries would."""
        stale: list[WorkerProcess] = []
        try:
            with self._condition:
                while True:
                    if self._closed:
                        raise RuntimeClosedError("the function runtime is closed")
                    while self._idle:
                        worker = self._idle.pop()  # the most recently used: likeliest to be warm
                        if worker.usable:
                            return worker
                        stale.append(worker)
                        self._forget(worker)
                    if self._slots_taken < self.limit:
                        self._slots_taken += 1
                        return None
                    self._condition.wait()
        finally:
            for worker in stale:
                worker.stop()

    def add(self, worker: WorkerProcess) -> None:
        """Registers a worker started for a reserved slot (the caller frees the slot if this raises)."""
        with self._condition:
            closed = self._closed
            if not closed:
                self._live.add(worker)
        if closed:
            worker.stop()
            raise RuntimeClosedError("the function runtime is closed")

    def release(self, worker: WorkerProcess | None) -> None:
        """Back to the idle list if still usable; otherwise stopped and its slot freed.
        ``None`` frees a slot whose worker could not be started."""
        with self._condition:
            if worker is not None and worker.usable and not self._closed:
                self._idle.append(worker)
                self._condition.notify()
                return
            if worker is None:
                self._slots_taken -= 1
            else:
                self._forget(worker)
            self._condition.notify()
        if worker is not None:
            worker.stop()

    def _forget(self, worker: WorkerProcess) -> None:
        if worker in self._live:
            self._live.remove(worker)
            self._slots_taken -= 1

    def live_count(self) -> int:
        with self._condition:
            return sum(worker.usable for worker in self._live)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            workers = list(self._live)
            self._idle.clear()
            self._condition.notify_all()
        for worker in workers:
            worker.stop()


# --- the function runtime ---------------------------------------------------------------------------


class FunctionRuntime:
    """Invokes one function: thread-safe, blocking, with Lambda's cold and warm starts."""

    def __init__(
        self, spec: FunctionSpec, extra_env: Mapping[str, str], *, max_concurrency: int | None = None
    ) -> None:
        check_environment(spec)
        self.spec = spec
        self._extra_env = dict(extra_env)
        self._layer_entries = layer_path_entries(spec.layers)
        limit = spec.reserved_concurrency
        self._pool = WorkerPool(limit if limit is not None else (max_concurrency or DEFAULT_MAX_CONCURRENCY))
        self._log = FunctionLog(spec.logical_id)
        self._metrics = FunctionMetrics()

    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation:
        """Runs the handler on ``event`` (any JSON value); raises TypeError if it is not JSON."""
        request_id = request_id or str(uuid.uuid4())
        event_json = json.dumps(event, separators=(",", ":"))
        if self._pool.limit == 0:
            raise ThrottledError(f"Rate Exceeded: {self.spec.function_name} has a reserved concurrency of 0")
        worker = self._pool.acquire()
        cold_start = worker is None
        try:
            if worker is None:
                worker = self._start_worker()
            invocation = self._run(worker, request_id, event_json, cold_start)
        except BaseException:
            if worker is not None:
                worker.stop()  # it may still answer this request; it must not answer the next one
            raise
        finally:
            self._pool.release(worker)
        self._metrics.record(invocation)
        return invocation

    def stats(self) -> dict[str, Any]:
        return {**self._metrics.snapshot(), "workers": self._pool.live_count()}

    def close(self) -> None:
        """Stops every worker and waits for them; idempotent."""
        self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _start_worker(self) -> WorkerProcess:
        environment = build_environment(
            self.spec, self._extra_env, parent_env=os.environ, log_stream_name=new_log_stream_name()
        )
        worker = WorkerProcess(
            argv=self._layer_entries,
            environment=environment,
            cwd=self.spec.code_uri,
            log=self._log,
            name=f"localcloud-{self.spec.logical_id}",
        )
        self._pool.add(worker)
        return worker

    def _run(self, worker: WorkerProcess, request_id: str, event_json: str, cold_start: bool) -> Invocation:
        init_duration_ms: float | None = None
        error: dict[str, Any] | None = None
        if cold_start:
            started = time.perf_counter()
            self._log.platform(f"INIT_START Runtime Version: {self.spec.runtime}.localcloud")
            error = self._init(worker, request_id)
            init_duration_ms = (time.perf_counter() - started) * 1000
        self._log.platform(f"START RequestId: {request_id} Version: $LATEST")
        started = time.perf_counter()
        if error is None:
            payload, error, status = self._invoke_phase(worker, request_id, event_json)
        else:
            payload, status = None, "timeout" if error["errorType"] == "Sandbox.Timedout" else "error"
        duration_ms = (time.perf_counter() - started) * 1000
        self._log.platform(f"END RequestId: {request_id}")
        self._log.platform(
            report_line(
                request_id,
                duration_ms=duration_ms,
                memory_mb=self.spec.memory_mb,
                max_memory_used_mb=worker.max_memory_used_mb,
                init_duration_ms=init_duration_ms,
                status=status,
                error_type=error["errorType"] if status == "error" and error is not None else None,
            )
        )
        return Invocation(
            request_id=request_id,
            ok=error is None,
            payload=payload if error is None else None,
            error=error,
            duration_ms=duration_ms,
            init_duration_ms=init_duration_ms,
            cold_start=cold_start,
        )

    def _invoke_phase(
        self, worker: WorkerProcess, request_id: str, event_json: str
    ) -> tuple[Any, dict[str, Any] | None, str | None]:
        """The handler's payload or error, and the REPORT line's status ("timeout", "error" or None)."""
        try:
            response = worker.invoke(request_id, event_json, self.spec.arn, self.spec.timeout_s)
        except WorkerTimedOut:
            self._log.platform(
                f"{datetime.now(UTC).isoformat()} {request_id} Task timed out after "
                f"{self.spec.timeout_s:.2f} seconds",
                logging.WARNING,
            )
            return None, timeout_error(request_id, self.spec.timeout_s), "timeout"
        except WorkerExited as exc:
            error = exit_error(request_id, exc.returncode)
            self._log.platform(f"{error['errorMessage']}\n{error['errorType']}", logging.WARNING)
            return None, error, "error"
        return response.get("payload"), response.get("error"), None

    def _init(self, worker: WorkerProcess, request_id: str) -> dict[str, Any] | None:
        """Waits for the worker's init phase; Lambda's error document if it failed."""
        try:
            message = worker.wait_init(INIT_TIMEOUT_S)
        except WorkerTimedOut:
            return timeout_error(request_id, INIT_TIMEOUT_S)
        except WorkerExited as exc:
            return exit_error(request_id, exc.returncode)
        if message.get("ok"):
            return None
        worker.stop()  # Lambda discards an environment whose init failed; the next invocation retries
        error: dict[str, Any] = message["error"]
        return error


class Runtimes(Mapping[str, FunctionRuntime]):
    """The function runtimes of an application, by logical id."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        extra_env: Mapping[str, str],
        *,
        max_concurrency: int | None = None,
    ) -> None:
        self._runtimes = {
            logical_id: FunctionRuntime(spec, extra_env, max_concurrency=max_concurrency)
            for logical_id, spec in functions.items()
        }

    @classmethod
    def from_model(
        cls, model: AppModel, extra_env: Mapping[str, str], *, max_concurrency: int | None = None
    ) -> Runtimes:
        return cls(model.functions, extra_env, max_concurrency=max_concurrency)

    def __getitem__(self, logical_id: str) -> FunctionRuntime:
        return self._runtimes[logical_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._runtimes)

    def __len__(self) -> int:
        return len(self._runtimes)

    def stats(self) -> dict[str, dict[str, Any]]:
        return {logical_id: runtime.stats() for logical_id, runtime in self._runtimes.items()}

    def close_all(self) -> None:
        for runtime in self._runtimes.values():
            runtime.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close_all()
