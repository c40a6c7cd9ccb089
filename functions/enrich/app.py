"""EnrichFunction: Kinesis ticks → analytics → MongoDB (history), Redis (latest), enriched stream.

Invalid records (bad JSON, wrong schema version, missing fields) are reported as batch item
failures with the reason logged: Lambda retries from the earliest of them, then sends the range to
the DLQ, while every valid record of the batch is stored on the first delivery (writes are
idempotent, so the retries change nothing). A storage error fails the whole invocation, so Lambda
retries the batch and nothing is lost.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from deltastream.adapters.kinesis import KinesisSink
from deltastream.adapters.mongo import MongoHistory
from deltastream.adapters.redis_latest import RedisLatestState
from deltastream.adapters.redis_state import redis_client
from deltastream.config import Settings
from deltastream.records import InvalidRecord, parse_record
from deltastream.services.enrich import Enricher
from deltastream.services.retry import Retrier

logger = Logger(service="enrich")
metrics = Metrics()
tracer = Tracer(service="enrich")

# Composition root: built once per sandbox, reused by every invocation.
settings = Settings.from_env()
history = MongoHistory.from_settings(settings)
history.ensure_indexes()
enricher = Enricher(
    latest=RedisLatestState(redis_client(settings.redis_url)),
    history=history,
    sink=KinesisSink(boto3.client("kinesis"), settings.enriched_stream),
)
processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    parsed: list[dict[str, Any]] = []

    def validate(record: KinesisStreamRecord) -> None:
        try:
            parsed.append(parse_record(record.kinesis.data_as_bytes()))
        except InvalidRecord as error:
            logger.warning(
                "invalid record", sequence_number=record.kinesis.sequence_number, reason=str(error)
            )
            raise

    response = process_partial_response(
        event=event, record_handler=validate, processor=processor, context=context
    )
    # Storage outages are ridden out inside the invocation until 5 s before its timeout.
    result = enricher.enrich(parsed, Retrier(lambda: context.get_remaining_time_in_millis() / 1000))
    failures = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="RecordsProcessed", unit=MetricUnit.Count, value=result.enriched)
    metrics.add_metric(name="RecordFailures", unit=MetricUnit.Count, value=failures)
    metrics.add_metric(name="Redeliveries", unit=MetricUnit.Count, value=result.redeliveries)
    metrics.add_metric(
        name="BatchLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1e3
    )
    logger.info(
        "batch enriched",
        received=len(event.get("Records", [])),
        enriched=result.enriched,
        redeliveries=result.redeliveries,
        invalid=failures,
        stored=result.stored,
        compute_ms=round(result.compute_ms, 2),
        io_ms=round(result.io_ms, 2),
    )
    return response
