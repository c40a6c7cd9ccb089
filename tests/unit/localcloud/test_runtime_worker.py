"""The worker's pure parts, in process: messages, Lambda's error documents, handler loading, context."""

from __future__ import annotations

import decimal
import json
import time
from typing import Any

import pytest

from localcloud.worker import (
    MAX_RESPONSE_BYTES,
    InitError,
    LambdaContext,
    Worker,
    _RequestIdFilter,
    decode_message,
    encode_message,
    error_from_exception,
    format_error_log,
    load_handler,
)


def invoke(handler: Any, event: Any = None) -> dict[str, Any]:
    worker = Worker(handler, _RequestIdFilter(), {"AWS_LAMBDA_FUNCTION_NAME": "fn"})
    request = {"id": 7, "request_id": "req-1", "deadline_ms": 0, "function_arn": "arn", "event": event}
    return decode_message(worker.invoke(request))


def test_message_is_one_line_of_json_even_with_newlines_inside() -> None:
    encoded = encode_message({"text": "a\nb", "n": 1})
    assert encoded.count(b"\n") == 1
    assert encoded.endswith(b"\n")
    assert decode_message(encoded) == {"text": "a\nb", "n": 1}


def test_decimal_is_written_as_a_number() -> None:
    encoded = encode_message({"whole": decimal.Decimal("3"), "part": decimal.Decimal("1.5")})
    assert json.loads(encoded) == {"whole": 3, "part": 1.5}


def test_decode_rejects_a_message_that_is_not_an_object() -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        decode_message(b"[1, 2]\n")


def test_error_from_exception_has_lambdas_shape() -> None:
    try:
        raise KeyError("price")
    except KeyError as exc:
        error = error_from_exception(exc, "req-1")
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'price'"
    assert error["requestId"] == "req-1"
    assert "test_runtime_worker.py" in error["stackTrace"][0]


def test_error_log_is_the_python_runtimes_error_record() -> None:
    error = {
        "errorType": "ValueError",
        "errorMessage": "bad",
        "stackTrace": ['  File "app.py", line 3\n    x\n'],
    }
    assert format_error_log(error) == (
        '[ERROR] ValueError: bad\nTraceback (most recent call last):\n  File "app.py", line 3\n    x'
    )


def test_handler_result_is_returned_with_the_request_id() -> None:
    response = invoke(lambda event, context: {"got": event, "name": context.function_name}, [1])
    assert response["id"] == 7
    assert response["ok"]
    assert response["payload"] == {"got": [1], "name": "fn"}


def test_handler_exception_becomes_an_error_response() -> None:
    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("boom")

    response = invoke(handler)
    assert not response["ok"]
    assert response["error"]["errorType"] == "RuntimeError"
    assert response["error"]["errorMessage"] == "boom"
    assert response["error"]["requestId"] == "req-1"
    assert all("localcloud/worker.py" not in frame for frame in response["error"]["stackTrace"])


def test_unserialisable_result_is_a_marshal_error() -> None:
    response = invoke(lambda event, context: object())
    assert response["error"]["errorType"] == "Runtime.MarshalError"
    assert response["error"]["errorMessage"].startswith("Unable to marshal response: Object of type object")


def test_oversized_result_is_response_size_too_large() -> None:
    response = invoke(lambda event, context: "x" * MAX_RESPONSE_BYTES)
    assert response["error"]["errorType"] == "Function.ResponseSizeTooLarge"


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("nodot", "Runtime.MalformedHandlerName", "Bad handler 'nodot': "),
        (
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
        (
            "no_such_module_xyz.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'no_such_module_xyz'",
        ),
        (
            "json.no_such_function",
            "Runtime.HandlerNotFound",
            "Handler 'no_such_function' missing on module 'json'",
        ),
    ],
)
def test_load_handler_reports_init_errors_as_lambda_does(handler: str, error_type: str, message: str) -> None:
    with pytest.raises(InitError) as raised:
        load_handler(handler)
    assert raised.value.error["errorType"] == error_type
    assert raised.value.error["errorMessage"].startswith(message)


def test_load_handler_imports_a_dotted_module() -> None:
    handler: object = load_handler("json.decoder.JSONDecoder")
    assert handler is json.decoder.JSONDecoder


def test_context_remaining_time_counts_down_to_zero() -> None:
    now_ms = int(time.time() * 1000)
    context = LambdaContext(
        aws_request_id="r",
        deadline_ms=now_ms + 1000,
        invoked_function_arn="arn",
        environ={"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"},
    )
    assert 900 < context.get_remaining_time_in_millis() <= 1000
    assert context.memory_limit_in_mb == 256
    expired = LambdaContext(
        aws_request_id="r", deadline_ms=now_ms - 5, invoked_function_arn="arn", environ={}
    )
    assert expired.get_remaining_time_in_millis() == 0
