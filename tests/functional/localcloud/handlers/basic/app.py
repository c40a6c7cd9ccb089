"""Handlers for the runtime's functional tests: one behaviour per function, chosen by ``Handler``."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

INVOCATIONS = 0  # module state: survives between warm invocations of one worker

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def echo(event: Any, context: Any) -> Any:
    return event


def context_info(event: Any, context: Any) -> dict[str, Any]:
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": context.identity,
        "client_context": context.client_context,
        "remaining_ms": [first, context.get_remaining_time_in_millis()],
    }


def environment(event: Any, context: Any) -> dict[str, str]:
    return dict(os.environ)


def prints(event: Any, context: Any) -> str:
    print(f"hello from the handler: {event['word']}")
    logger.info("logged %s", event["word"])
    return "printed"


def raises(event: Any, context: Any) -> None:
    raise ValueError(f"bad input: {event}")


def sleeps(event: Any, context: Any) -> float:
    seconds = float(event["seconds"])
    time.sleep(seconds)
    return seconds


def exits(event: Any, context: Any) -> None:
    os._exit(int(event["status"]))


def unserialisable(event: Any, context: Any) -> set[int]:
    return {1, 2, 3}


def counts(event: Any, context: Any) -> dict[str, int]:
    global INVOCATIONS
    INVOCATIONS += 1
    return {"invocations": INVOCATIONS, "pid": os.getpid()}


def which_app(event: Any, context: Any) -> str:
    return "basic"
