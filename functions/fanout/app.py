"""FanoutFunction: the enriched stream → the WebSocket clients of each room (ARCHITECTURE §6).

Invalid records are reported as batch item failures with the reason logged (retried, then sent to
the DLQ), as in EnrichFunction; every valid record of the batch is fanned out on the first delivery
(a retry's redeliveries are dropped as stale, see :mod:`deltastream.ws.fanout`). A failed post is
never a batch failure: it is counted (``PostErrors``), the next tick supersedes it. A Redis outage
fails the invocation, so Lambda retries the batch.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from deltastream.adapters.redis_state import redis_client
from deltastream.config import Settings
from deltastream.ws.connections import poster_from_env
from deltastream.ws.fanout import Fanout, InvalidEnrichedRecord, parse_enriched
from deltastream.ws.registry import ConnectionRegistry

logger = Logger(service="fanout")
metrics = Metrics()

# Composition root: built once per sandbox, reused by every invocation.
settings = Settings.from_env()
fanout = Fanout(
    registry=ConnectionRegistry(redis_client(settings.redis_url)),
    poster=poster_from_env(os.environ["WS_MANAGEMENT_URL"], os.environ.get("FANOUT_POSTER")),
)
processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed: list[dict[str, Any]] = []

    def validate(record: KinesisStreamRecord) -> None:
        try:
            parsed.append(parse_enriched(record.kinesis.data_as_bytes()))
        except InvalidEnrichedRecord as error:
            logger.warning(
                "invalid record", sequence_number=record.kinesis.sequence_number, reason=str(error)
            )
            raise

    response = process_partial_response(
        event=event, record_handler=validate, processor=processor, context=context
    )
    result = fanout.publish(parsed)
    report = result.report
    metrics.add_metric(name="PostsSent", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="Gone", unit=MetricUnit.Count, value=len(report.gone))
    metrics.add_metric(name="PostErrors", unit=MetricUnit.Count, value=report.error_count)
    metrics.add_metric(name="MessagesReduced", unit=MetricUnit.Count, value=sum(result.reduced.values()))
    metrics.add_metric(name="MessagesOversize", unit=MetricUnit.Count, value=result.oversize)
    metrics.add_metric(name="FanoutLatency", unit=MetricUnit.Milliseconds, value=result.latency_ms)
    logger.info(
        "batch fanned out",
        records=result.records,
        messages=result.messages,
        waves=result.waves,
        stale=result.stale,
        posts=result.posts,
        sent=report.sent,
        gone=len(report.gone),
        removed=result.removed,
        errors=dict(report.errors),
        reduced=result.reduced,
        latency_ms=round(result.latency_ms, 2),
    )
    return dict(response)
