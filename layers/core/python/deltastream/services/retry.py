"""Riding out a storage outage inside one invocation.

A Kinesis batch that fails is retried by Lambda only ``MaximumRetryAttempts`` times before its records
go to the DLQ, and that budget is kept small so invalid records reach the DLQ quickly. An outage of
Redis, MongoDB or the enriched stream is a different failure: the records are fine and must not be
discarded. So each storage step retries transient errors itself, with capped exponential backoff,
until shortly before the invocation's deadline; only then does the invocation fail, and Lambda's own
retries (and bisection, which does not consume them) take over. Together they absorb outages of
several minutes per batch.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def transient_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the dependency is unreachable or busy", not "this data is wrong"."""
    import botocore.exceptions
    import pymongo.errors
    import redis.exceptions

    from deltastream.adapters.kinesis import RecordsNotDelivered

    return (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        redis.exceptions.BusyLoadingError,
        pymongo.errors.AutoReconnect,  # includes ConnectionFailure's network errors
        pymongo.errors.ConnectionFailure,
        pymongo.errors.NetworkTimeout,
        pymongo.errors.ServerSelectionTimeoutError,
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ReadTimeoutError,
        RecordsNotDelivered,
        ConnectionError,
        TimeoutError,
    )


class Retrier:
    """Runs an operation, retrying transient errors until ``time_left()`` drops below ``reserve_s``."""

    def __init__(
        self,
        time_left: Callable[[], float],
        *,
        reserve_s: float = 5.0,
        first_backoff_s: float = 0.1,
        max_backoff_s: float = 2.0,
        errors: tuple[type[BaseException], ...] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._time_left = time_left
        self._reserve = reserve_s
        self._first = first_backoff_s
        self._max = max_backoff_s
        self._errors = errors if errors is not None else transient_errors()
        self._sleep = sleep

    def __call__(self, operation: Callable[[], T], what: str) -> T:
        backoff = self._first
        attempt = 1
        while True:
            try:
                return operation()
            except self._errors as error:
                wait = min(self._max, backoff) * random.uniform(0.5, 1.0)
                if self._time_left() - wait < self._reserve:
                    log.error("%s: still failing after %d attempts (%s); giving up", what, attempt, error)
                    raise
                log.warning("%s failed (attempt %d: %s); retrying in %.2f s", what, attempt, error, wait)
                self._sleep(wait)
                backoff *= 2
                attempt += 1


def no_retry(operation: Callable[[], T], what: str) -> T:
    return operation()
