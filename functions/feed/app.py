"""FeedFunction: every minute (EventBridge schedule), a minute of market data onto the ticks stream.

One invocation holds the feed lease in Redis and emits ``FEED_DURATION`` seconds of ticks paced at
``TICK_INTERVAL`` (see :mod:`deltastream.services.feed`); an overlapping invocation that cannot get the
lease within a few seconds is skipped and counted (``FeedSkipped``).
"""

from __future__ import annotations

from typing import Any, Final

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from deltastream.adapters.kinesis import KinesisSink
from deltastream.adapters.redis_state import RedisFeedState, redis_client
from deltastream.config import Settings
from deltastream.services.feed import SystemClock, run_feed
from deltastream.services.providers import build_provider

DEADLINE_MARGIN_S: Final = 3.0  # stop this long before the Lambda timeout: save state, release lease

logger = Logger(service="feed")
metrics = Metrics()  # namespace: POWERTOOLS_METRICS_NAMESPACE
tracer = Tracer(service="feed")
copy_config_to_registered_loggers(source_logger=logger, include={"deltastream"})

# Composition root: built once per sandbox, reused by every invocation.
settings = Settings.from_env()
state = RedisFeedState(redis_client(settings.redis_url))
sink = KinesisSink(boto3.client("kinesis"), settings.ticks_stream)
provider = build_provider(settings, state)
clock = SystemClock()


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run_feed(
        provider,
        sink,
        state,
        settings,
        clock=clock,
        deadline=lambda: context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN_S,
        owner=context.aws_request_id,
    )
    metrics.add_metric(name="RecordsProduced", unit=MetricUnit.Count, value=result.records)
    metrics.add_metric(name="ChainsProduced", unit=MetricUnit.Count, value=result.chains)
    metrics.add_metric(name="FeedSkipped", unit=MetricUnit.Count, value=int(result.status == "skipped"))
    return result.as_dict()
