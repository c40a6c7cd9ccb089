"""The runtime's pure helpers: worker environment, layer paths, request encoding, Lambda's report lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from localcloud.model import FunctionSpec
from localcloud.runtime import (
    FunctionMetrics,
    Invocation,
    build_environment,
    check_environment,
    encode_invoke_request,
    exit_error,
    layer_path_entries,
    new_log_stream_name,
    percentile,
    region_from_arn,
    report_line,
    timeout_error,
)
from localcloud.worker import decode_message

SPEC = FunctionSpec(
    logical_id="EnrichFunction",
    function_name="stack-EnrichFunction",
    arn="arn:aws:lambda:eu-west-1:123456789012:function:stack-EnrichFunction",
    code_uri=Path("/code/enrich"),
    handler="app.handler",
    memory_mb=512,
    environment={"TABLE": "prices", "TZ": "Europe/London"},
)


def test_environment_keeps_basics_and_drops_everything_else_from_the_parent() -> None:
    parent = {"PATH": "/bin", "HOME": "/home/me", "TZ": "UTC", "SECRET_TOKEN": "x", "PYTHONPATH": "/src"}
    environment = build_environment(
        SPEC, {"AWS_ENDPOINT_URL": "http://localhost:5000"}, parent_env=parent, log_stream_name="s"
    )
    assert environment["PATH"] == "/bin"
    assert environment["HOME"] == "/home/me"
    assert environment["TZ"] == "Europe/London"  # the function's own value wins over the parent's
    assert environment["TABLE"] == "prices"
    assert environment["AWS_ENDPOINT_URL"] == "http://localhost:5000"
    assert "SECRET_TOKEN" not in environment
    assert "PYTHONPATH" not in environment


def test_environment_has_lambdas_reserved_variables() -> None:
    environment = build_environment(SPEC, {}, parent_env={}, log_stream_name="2024/05/01/[$LATEST]ab")
    assert environment == {
        "TABLE": "prices",
        "TZ": "Europe/London",
        "AWS_LAMBDA_FUNCTION_NAME": "stack-EnrichFunction",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/stack-EnrichFunction",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/05/01/[$LATEST]ab",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": "/code/enrich",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "PYTHONUNBUFFERED": "1",
    }


def test_reserved_variable_in_the_functions_environment_is_refused() -> None:
    spec = FunctionSpec("F", "F", "arn", Path("/c"), "app.handler", environment={"AWS_REGION": "x"})
    with pytest.raises(ValueError, match="Reserved keys used in this request: AWS_REGION"):
        check_environment(spec)


def test_region_comes_from_the_arn() -> None:
    assert region_from_arn(SPEC.arn) == "eu-west-1"
    assert region_from_arn("not-an-arn", "ap-south-1") == "ap-south-1"


def test_log_stream_name_is_dated_and_versioned() -> None:
    name = new_log_stream_name(datetime(2024, 5, 1, tzinfo=UTC))
    assert name.startswith("2024/05/01/[$LATEST]")
    assert len(name) == len("2024/05/01/[$LATEST]") + 32


def test_layer_uses_its_python_folder_when_it_has_one(tmp_path: Path) -> None:
    (tmp_path / "with" / "python").mkdir(parents=True)
    (tmp_path / "without").mkdir()
    assert layer_path_entries((tmp_path / "with", tmp_path / "without")) == [
        str(tmp_path / "with" / "python"),
        str(tmp_path / "without"),
    ]


def test_invoke_request_embeds_the_encoded_event() -> None:
    encoded = encode_invoke_request(3, "req", 1_700_000_000_000, "arn:x", '{"a":[1,"b\\n"]}')
    assert encoded.endswith(b"\n")
    assert encoded.count(b"\n") == 1
    assert decode_message(encoded) == {
        "id": 3,
        "request_id": "req",
        "deadline_ms": 1_700_000_000_000,
        "function_arn": "arn:x",
        "event": {"a": [1, "b\n"]},
    }


def test_timeout_error_is_sandbox_timedout() -> None:
    assert timeout_error("req", 3) == {
        "errorMessage": "RequestId: req Error: Task timed out after 3.00 seconds",
        "errorType": "Sandbox.Timedout",
    }


@pytest.mark.parametrize(
    ("returncode", "reason"),
    [
        (3, "Runtime exited with error: exit status 3"),
        (-11, "Runtime exited with error: signal: segmentation fault"),
        (-9, "Runtime exited with error: signal: killed"),
        (0, "Runtime exited without providing a reason"),
    ],
)
def test_exit_error_describes_the_exit_as_lambda_does(returncode: int, reason: str) -> None:
    assert exit_error("req", returncode) == {
        "errorMessage": f"RequestId: req Error: {reason}",
        "errorType": "Runtime.ExitError",
    }


def test_report_line_on_a_cold_start() -> None:
    line = report_line("req", duration_ms=12.341, memory_mb=128, max_memory_used_mb=40, init_duration_ms=95.5)
    assert line == (
        "REPORT RequestId: req\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 95.50 ms"
    )


def test_report_line_of_a_failed_invocation_has_its_status() -> None:
    line = report_line(
        "req",
        duration_ms=5.0,
        memory_mb=128,
        max_memory_used_mb=40,
        status="error",
        error_type="Runtime.ExitError",
    )
    assert line.endswith(
        "\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: error\t"
        "Error Type: Runtime.ExitError"
    )


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.99) == 99.0
    assert percentile([5.0], 0.99) == 5.0
    assert percentile([], 0.99) is None


def test_metrics_keep_the_last_durations_and_count_everything() -> None:
    metrics = FunctionMetrics(kept=2)
    for duration, ok in [(100.0, True), (1.0, False), (3.0, True)]:
        metrics.record(Invocation("r", ok, None, None, duration, None, cold_start=duration == 100.0))
    assert metrics.snapshot() == {
        "invocations": 3,
        "errors": 1,
        "cold_starts": 1,
        "duration_ms": {"mean": 2.0, "p99": 3.0},
    }
