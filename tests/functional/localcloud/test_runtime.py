"""The function runtime with real worker processes: Lambda's behaviours, one per test."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from localcloud.model import FunctionSpec
from localcloud.runtime import FunctionRuntime, Invocation, Runtimes, ThrottledError

HANDLERS = Path(__file__).parent / "handlers"
EXTRA_ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}

MakeRuntime = Callable[..., FunctionRuntime]


def function_spec(handler: str, package: str = "basic", **overrides: Any) -> FunctionSpec:
    logical_id = overrides.pop("logical_id", "TestFunction")
    return FunctionSpec(
        logical_id=logical_id,
        function_name=f"stack-{logical_id}",
        arn=f"arn:aws:lambda:eu-west-1:123456789012:function:stack-{logical_id}",
        code_uri=HANDLERS / package,
        handler=handler,
        **overrides,
    )


@pytest.fixture
def make_runtime() -> Iterator[MakeRuntime]:
    runtimes: list[FunctionRuntime] = []

    def make(
        handler: str, package: str = "basic", max_concurrency: int | None = None, **overrides: Any
    ) -> FunctionRuntime:
        runtime = FunctionRuntime(
            function_spec(handler, package, **overrides), EXTRA_ENV, max_concurrency=max_concurrency
        )
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.close()


def invoke_concurrently(runtime: FunctionRuntime, events: list[Any]) -> tuple[list[Invocation], float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        invocations = list(pool.map(runtime.invoke, events))
    return invocations, time.perf_counter() - started


def test_handler_result_is_the_payload_on_a_cold_start(make_runtime: MakeRuntime) -> None:
    # GIVEN an echo handler
    runtime = make_runtime("app.echo")
    # WHEN it is invoked for the first time
    invocation = runtime.invoke({"a": [1, 2.5, "x", None]}, request_id="req-1")
    # THEN the event comes back through JSON, and the invocation was a cold start
    assert invocation.ok
    assert invocation.payload == {"a": [1, 2.5, "x", None]}
    assert invocation.error is None
    assert invocation.request_id == "req-1"
    assert invocation.cold_start
    assert invocation.init_duration_ms is not None
    assert invocation.init_duration_ms > 0


def test_warm_invocation_reuses_the_worker_and_its_module_state(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.counts")
    first = runtime.invoke({})
    second = runtime.invoke({})
    assert second.ok
    assert not second.cold_start
    assert second.init_duration_ms is None
    assert second.payload == {"invocations": 2, "pid": first.payload["pid"]}


def test_context_carries_the_function_and_a_decreasing_remaining_time(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.context_info", memory_mb=512, timeout_s=2.0)
    invocation = runtime.invoke({}, request_id="req-ctx")
    context = invocation.payload
    assert context["function_name"] == "stack-TestFunction"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == runtime.spec.arn
    assert context["memory_limit_in_mb"] == 512
    assert context["aws_request_id"] == "req-ctx"
    assert context["log_group_name"] == "/aws/lambda/stack-TestFunction"
    assert "/[$LATEST]" in context["log_stream_name"]
    assert context["identity"] is None
    assert context["client_context"] is None
    first, second = context["remaining_ms"]
    assert 1500 < first <= 2000
    assert 30 <= first - second < 500


def test_environment_is_the_functions_not_the_parents(
    make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a variable in the parent's environment that the function does not declare
    monkeypatch.setenv("LOCALCLOUD_UNRELATED_SECRET", "leaked")
    runtime = make_runtime("app.environment", environment={"TABLE_NAME": "prices"}, memory_mb=256)
    # WHEN the handler reads its environment
    environment = runtime.invoke({}).payload
    # THEN it sees its own variables, the caller's extras and Lambda's reserved ones, nothing else
    assert environment["TABLE_NAME"] == "prices"
    assert environment["AWS_ENDPOINT_URL"] == EXTRA_ENV["AWS_ENDPOINT_URL"]
    assert environment["AWS_ACCESS_KEY_ID"] == environment["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "stack-TestFunction"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environment["AWS_REGION"] == environment["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert environment["_HANDLER"] == "app.environment"
    assert environment["LAMBDA_TASK_ROOT"] == str(HANDLERS / "basic")
    assert environment["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert "LOCALCLOUD_UNRELATED_SECRET" not in environment


def test_prints_and_log_records_reach_the_parent_log_before_end(
    make_runtime: MakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="localcloud.functions")
    runtime = make_runtime("app.prints", logical_id="PrintFunction")
    invocation = runtime.invoke({"word": "kinesis"}, request_id="req-print")
    messages = [r.getMessage() for r in caplog.records if r.name == "localcloud.functions.PrintFunction"]
    printed = messages.index("[PrintFunction] hello from the handler: kinesis")
    logged = next(i for i, m in enumerate(messages) if m.endswith("\treq-print\tlogged kinesis"))
    end = messages.index("[PrintFunction] END RequestId: req-print")
    assert invocation.ok
    assert messages[logged].startswith("[PrintFunction] [INFO]\t")
    assert messages.index("[PrintFunction] START RequestId: req-print Version: $LATEST") < printed < end
    assert logged < end
    report = messages[end + 1]
    assert report.startswith("[PrintFunction] REPORT RequestId: req-print\tDuration: ")
    assert "\tInit Duration: " in report


def test_unhandled_exception_is_reported_as_lambda_does(
    make_runtime: MakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="localcloud.functions")
    runtime = make_runtime("app.raises")
    invocation = runtime.invoke({"n": 1}, request_id="req-err")
    assert not invocation.ok
    assert invocation.payload is None
    assert invocation.error is not None
    assert invocation.error["errorType"] == "ValueError"
    assert invocation.error["errorMessage"] == "bad input: {'n': 1}"
    assert invocation.error["requestId"] == "req-err"
    stack_trace = invocation.error["stackTrace"]
    assert stack_trace
    assert "app.py" in stack_trace[-1]
    assert "in raises" in stack_trace[-1]
    assert not any("localcloud/worker.py" in frame for frame in stack_trace)
    error_log = next(r.getMessage() for r in caplog.records if "[ERROR]" in r.getMessage())
    assert error_log.startswith("[TestFunction] [ERROR] ValueError: bad input: {'n': 1}\nTraceback")
    # the worker survives a handler exception, as a Lambda environment does
    assert not runtime.invoke({"n": 2}).cold_start


def test_import_error_is_reported_on_every_invocation(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.handler", "broken_import")
    for _ in range(2):
        invocation = runtime.invoke({})
        assert invocation.error is not None
        assert invocation.error["errorType"] == "Runtime.ImportModuleError"
        assert invocation.error["errorMessage"] == (
            "Unable to import module 'app': No module named 'a_module_that_is_not_installed'"
        )
        assert invocation.cold_start  # Lambda retries init on the next invocation
    assert runtime.stats()["workers"] == 0


def test_missing_handler_function_is_handler_not_found(make_runtime: MakeRuntime) -> None:
    invocation = make_runtime("app.no_such_function").invoke({})
    assert invocation.error is not None
    assert invocation.error["errorType"] == "Runtime.HandlerNotFound"
    assert invocation.error["errorMessage"] == "Handler 'no_such_function' missing on module 'app'"


def test_exception_at_module_scope_is_reported_under_its_class_name(make_runtime: MakeRuntime) -> None:
    invocation = make_runtime("app.handler", "init_raises").invoke({})
    assert invocation.error is not None
    assert invocation.error["errorType"] == "KeyError"
    assert any("app.py" in frame for frame in invocation.error["stackTrace"])


def test_timeout_kills_the_worker_and_the_next_invocation_starts_cold(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.sleeps", timeout_s=0.5)
    runtime.invoke({"seconds": 0})
    started = time.perf_counter()
    invocation = runtime.invoke({"seconds": 30}, request_id="req-slow")
    elapsed = time.perf_counter() - started
    assert invocation.error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: req-slow Error: Task timed out after 0.50 seconds",
    }
    assert 0.5 <= elapsed < 1.5
    after = runtime.invoke({"seconds": 0})
    assert after.ok
    assert after.cold_start


def test_worker_exit_is_a_runtime_exit_error(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.exits")
    invocation = runtime.invoke({"status": 3}, request_id="req-exit")
    assert invocation.error == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-exit Error: Runtime exited with error: exit status 3",
    }
    assert runtime.invoke({"status": 4}).cold_start


def test_unserialisable_result_is_a_marshal_error(make_runtime: MakeRuntime) -> None:
    invocation = make_runtime("app.unserialisable").invoke({})
    assert invocation.error is not None
    assert invocation.error["errorType"] == "Runtime.MarshalError"
    assert (
        invocation.error["errorMessage"]
        == "Unable to marshal response: Object of type set is not JSON serializable"
    )


def test_two_functions_with_an_app_module_each_run_their_own(make_runtime: MakeRuntime) -> None:
    basic = make_runtime("app.which_app", "basic", logical_id="Basic")
    other = make_runtime("app.which_app", "other", logical_id="Other")
    assert [basic.invoke({}).payload, other.invoke({}).payload] == ["basic", "other"]


def test_layers_are_on_the_path(make_runtime: MakeRuntime) -> None:
    layers = (HANDLERS / "layers" / "shared", HANDLERS / "layers" / "flat")
    invocation = make_runtime("app.handler", "layered", layers=layers).invoke({})
    assert invocation.payload == ["from the python/ folder", "from the layer top level"]


def test_concurrent_invocations_run_in_parallel_workers(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.sleeps")
    invoke_concurrently(runtime, [{"seconds": 0.2}] * 4)  # four cold starts
    invocations, elapsed = invoke_concurrently(runtime, [{"seconds": 0.2}] * 4)
    assert all(invocation.ok and not invocation.cold_start for invocation in invocations)
    assert 0.2 <= elapsed < 0.4
    assert runtime.stats()["workers"] == 4


def test_concurrency_limit_makes_invocations_wait(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.sleeps", max_concurrency=2)
    invocations, elapsed = invoke_concurrently(runtime, [{"seconds": 0.2}] * 4)
    assert all(invocation.ok for invocation in invocations)
    assert elapsed >= 0.4
    assert runtime.stats()["workers"] == 2


def test_reserved_concurrency_zero_throttles(make_runtime: MakeRuntime) -> None:
    with pytest.raises(ThrottledError):
        make_runtime("app.echo", reserved_concurrency=0).invoke({})


def test_stats_count_invocations_errors_and_cold_starts(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.raises")
    for _ in range(3):
        runtime.invoke({})
    stats = runtime.stats()
    assert stats["invocations"] == stats["errors"] == 3
    assert stats["cold_starts"] == 1
    assert stats["workers"] == 1
    assert stats["duration_ms"]["mean"] > 0
    assert stats["duration_ms"]["p99"] > 0


def test_close_leaves_no_worker_process(make_runtime: MakeRuntime) -> None:
    runtime = make_runtime("app.counts")
    events = [{"seconds": 0.1}] * 3
    pids = {invocation.payload["pid"] for invocation in invoke_concurrently(runtime, events)[0]}
    runtime.close()
    runtime.close()
    assert pids
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)
    assert runtime.stats()["workers"] == 0


def test_runtimes_hold_one_runtime_per_function_and_close_them_all() -> None:
    specs = {
        "Basic": function_spec("app.which_app", "basic", logical_id="Basic"),
        "Other": function_spec("app.which_app", "other", logical_id="Other"),
    }
    with Runtimes(specs, EXTRA_ENV) as runtimes:
        assert {logical_id: runtimes[logical_id].invoke({}).payload for logical_id in runtimes} == {
            "Basic": "basic",
            "Other": "other",
        }
    assert all(runtime.stats()["workers"] == 0 for runtime in runtimes.values())
