"""One Lambda execution environment: the child process that imports a handler and runs invocations.

Started by :mod:`localcloud.runtime` as ``python -m localcloud.worker REQUEST_FD RESPONSE_FD [PATH ...]``
with the function's environment (``_HANDLER``, ``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_*``) and its code
directory as the working directory. It copies the Python runtime interface client (``awslambdaric``):

* init phase: the handler module is imported once, at start (the cold start). An import error is
  reported the way Lambda reports it (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ...),
  then the process exits so that the next invocation retries init, as Lambda does;
* invoke phase: one request at a time; an unhandled exception becomes Lambda's error document
  (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``) and is logged as ``[ERROR] ...``;
  a result that is not JSON becomes ``Runtime.MarshalError``;
* the root logger has Lambda's handler and format, so ``logging.getLogger().info`` behaves as in AWS.

Protocol (not stdout, which belongs to the handler): newline-delimited JSON on two pipes.
Requests: ``{"id", "request_id", "deadline_ms", "function_arn", "event"}``.
Responses: first ``{"type": "init", "ok", "max_rss_kb", "error"?}``, then per request
``{"type": "result", "id", "ok", "payload" | "error", "max_rss_kb"}``.

Only the standard library is imported here: the worker must start fast, and the handler's imports
are its own.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

Handler = Callable[[Any, "LambdaContext"], Any]

# Lambda's limit for a synchronous response (the message quotes this figure).
MAX_RESPONSE_BYTES = 6_291_556

# The Python runtime's log format (awslambdaric, text format), timestamps in UTC.
LAMBDA_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"
LAMBDA_LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


# --- messages ---------------------------------------------------------------------------------------


def encode_message(message: Mapping[str, Any]) -> bytes:
    """One protocol message: compact JSON on one line (JSON escapes any newline inside strings)."""
    return json.dumps(message, separators=(",", ":"), default=_json_default).encode() + b"\n"


def decode_message(line: bytes | bytearray) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError(f"protocol message is not a JSON object: {line[:80]!r}")
    return message


def _json_default(value: object) -> object:
    # The Python runtime's marshaller writes Decimal as a number (DynamoDB items are full of them).
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# --- errors, shaped as Lambda reports them -----------------------------------------------------------


def error_document(
    message: str, error_type: str, request_id: str, stack_trace: list[str] | None = None
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace if stack_trace is not None else [],
    }


def error_from_exception(exc: BaseException, request_id: str) -> dict[str, Any]:
    """An unhandled exception as Lambda returns it: the class name and the user's frames only."""
    frames = traceback.extract_tb(exc.__traceback__)
    # awslambdaric drops its own bootstrap frames from the top of the trace.
    while frames and frames[0].filename == __file__:
        del frames[0]
    return error_document(str(exc), type(exc).__name__, request_id, traceback.format_list(frames))


def format_error_log(error: Mapping[str, Any]) -> str:
    """The ``[ERROR] Type: message`` record the Python runtime logs for a failed invocation or init."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    stack_trace = error.get("stackTrace")
    if stack_trace:
        lines.append("Traceback (most recent call last):")
        lines.extend(line for element in stack_trace for line in element.splitlines())
    return "\n".join(lines)


class InitError(Exception):
    """Init failed: carries Lambda's error document (``Runtime.ImportModuleError``, ...)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


def load_handler(handler_name: str) -> Handler:
    """Import ``module.function`` as awslambdaric's ``_get_handler`` does, raising :class:`InitError`."""
    module_name, _, function_name = handler_name.rpartition(".")
    if not module_name:
        raise InitError(
            error_document(
                f"Bad handler '{handler_name}': not enough values to unpack (expected 2, got 1)",
                "Runtime.MalformedHandlerName",
                "",
            )
        )
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise InitError(
            error_document(
                f"Cannot use built-in module {module_name} as a handler module",
                "Runtime.BuiltInModuleConflict",
                "",
            )
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise InitError(
            error_document(f"Unable to import module '{module_name}': {exc}", "Runtime.ImportModuleError", "")
        ) from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise InitError(
            error_document(
                f"Syntax error in module '{module_name}': {exc}", "Runtime.UserCodeSyntaxError", "", trace
            )
        ) from exc
    except Exception as exc:  # anything raised at module scope: reported under its own class name
        raise InitError(error_from_exception(exc, "")) from exc
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise InitError(
            error_document(
                f"Handler '{function_name}' missing on module '{module_name}'", "Runtime.HandlerNotFound", ""
            )
        )
    return handler  # type: ignore[no-any-return]


# --- the context object -----------------------------------------------------------------------------


class LambdaContext:
    """The handler's second argument, with the attributes and method of the Python runtime's context."""

    def __init__(
        self,
        *,
        aws_request_id: str,
        deadline_ms: int,
        invoked_function_arn: str,
        environ: Mapping[str, str],
    ) -> None:
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity: object | None = None
        self.client_context: object | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(message)

    def __repr__(self) -> str:
        return f"LambdaContext(aws_request_id={self.aws_request_id!r}, function_name={self.function_name!r})"


# --- logging as the Python runtime sets it up --------------------------------------------------------


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


class _LambdaLogHandler(logging.StreamHandler[IO[str]]):
    """Writes each record as one line; its own newlines become carriage returns so that a multi-line
    record (a traceback) stays one log event, as in CloudWatch. The parent turns them back."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record).replace("\n", "\r") + "\n")
        except Exception:
            self.handleError(record)


def install_lambda_logging() -> _RequestIdFilter:
    formatter = logging.Formatter(LAMBDA_LOG_FORMAT, LAMBDA_LOG_DATE_FORMAT)
    formatter.converter = time.gmtime
    request_ids = _RequestIdFilter()
    handler = _LambdaLogHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(request_ids)
    # The root logger already has a handler in Lambda, which is why logging.basicConfig() is a no-op there.
    logging.getLogger().handlers = [handler]
    return request_ids


def log_event(text: str) -> None:
    """One log event on stdout (newlines folded as the log handler does)."""
    sys.stdout.write(text.replace("\n", "\r") + "\n")
    sys.stdout.flush()


# --- the loop -----------------------------------------------------------------------------------------


def max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


class Worker:
    """Answers invocation requests with one handler, one at a time."""

    def __init__(self, handler: Handler, request_ids: _RequestIdFilter, environ: Mapping[str, str]) -> None:
        self._handler = handler
        self._request_ids = request_ids
        self._environ = dict(environ)  # read at start, as the runtime does: a handler may change os.environ

    def invoke(self, request: Mapping[str, Any]) -> bytes:
        request_id = str(request["request_id"])
        context = LambdaContext(
            aws_request_id=request_id,
            deadline_ms=int(request["deadline_ms"]),
            invoked_function_arn=str(request["function_arn"]),
            environ=self._environ,
        )
        self._request_ids.request_id = request_id
        try:
            result = self._handler(request["event"], context)
        except Exception as exc:
            return self._failure(request["id"], error_from_exception(exc, request_id))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        try:
            response = encode_message(
                {
                    "type": "result",
                    "id": request["id"],
                    "ok": True,
                    "payload": result,
                    "max_rss_kb": max_rss_kb(),
                }
            )
        except (TypeError, ValueError) as exc:
            # awslambdaric: FaultException(MARSHAL_ERROR, "Unable to marshal response: ...")
            return self._failure(
                request["id"],
                error_document(f"Unable to marshal response: {exc}", "Runtime.MarshalError", request_id),
            )
        if len(response) > MAX_RESPONSE_BYTES:
            return self._failure(
                request["id"],
                error_document(
                    "Response payload size exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE_BYTES} bytes).",
                    "Function.ResponseSizeTooLarge",
                    request_id,
                ),
            )
        return response

    def serve(self, requests: Iterable[bytes], responses: IO[bytes]) -> None:
        for line in requests:
            responses.write(self.invoke(decode_message(line)))
            responses.flush()

    @staticmethod
    def _failure(request_id: object, error: dict[str, Any]) -> bytes:
        log_event(format_error_log(error))
        return encode_message(
            {"type": "result", "id": request_id, "ok": False, "error": error, "max_rss_kb": max_rss_kb()}
        )


def prepend_sys_path(entries: list[str]) -> None:
    """The task root, then the layers, then the interpreter's own paths (Lambda: /var/task, /opt/python)."""
    first = [os.path.abspath(entry) for entry in entries]
    rest = [entry for entry in sys.path if entry not in ("", os.getcwd()) and entry not in first]
    sys.path[:] = first + rest


def main(argv: list[str]) -> int:
    request_fd, response_fd, *layer_entries = argv
    requests = os.fdopen(int(request_fd), "rb")
    responses = os.fdopen(int(response_fd), "wb")
    sys.argv = [sys.argv[0]]
    prepend_sys_path([os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()), *layer_entries])
    request_ids = install_lambda_logging()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except InitError as exc:
        log_event(format_error_log(exc.error))
        responses.write(
            encode_message({"type": "init", "ok": False, "error": exc.error, "max_rss_kb": max_rss_kb()})
        )
        responses.flush()
        return 0  # Lambda discards an environment whose init failed; the next invocation starts anew
    responses.write(encode_message({"type": "init", "ok": True, "max_rss_kb": max_rss_kb()}))
    responses.flush()
    Worker(handler, request_ids, os.environ).serve(requests, responses)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
