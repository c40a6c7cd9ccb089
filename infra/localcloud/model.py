"""What the local cloud runs: the template's resources resolved to concrete local values.

These are plain values produced by :mod:`localcloud.template` and consumed by the runtime, the
scheduler and the event-source mappings. Defaults are AWS's (Lambda timeout 3 s, memory 128 MB,
Kinesis batch size 100, ...), so a template that relies on them behaves as it would in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

StartingPosition = Literal["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"]


@dataclass(frozen=True, slots=True)
class ScheduleEventSpec:
    """A ``Schedule`` (EventBridge rule) or ``ScheduleV2`` (EventBridge Scheduler) event."""

    name: str  # the event's key under the function's Events
    kind: Literal["Schedule", "ScheduleV2"]
    expression: str  # "rate(1 minute)" or "cron(0/5 * * * ? *)"
    input: str | None = None  # the Input property: a JSON document sent as the event, verbatim
    enabled: bool = True  # Enabled: false / State: DISABLED
    timezone: str | None = None  # ScheduleExpressionTimezone (ScheduleV2); UTC otherwise
    rule_name: str = ""  # the rule's / schedule's physical name, for the event's resources


@dataclass(frozen=True, slots=True)
class KinesisEventSpec:
    """A ``Kinesis`` event: an event-source mapping from a stream to the function."""

    name: str
    stream_arn: str
    stream_name: str
    starting_position: StartingPosition
    starting_position_timestamp: float | None = None  # Unix seconds, for AT_TIMESTAMP
    batch_size: int = 100
    maximum_batching_window_s: float = 0.0
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1  # -1: until the records expire
    maximum_record_age_s: int = -1  # -1: no limit (the stream's retention still applies)
    report_batch_item_failures: bool = False
    on_failure_arn: str | None = None  # DestinationConfig.OnFailure.Destination (an SQS queue ARN)
    enabled: bool = True
    parallelization_factor: int = 1


@dataclass(frozen=True, slots=True)
class OtherEventSpec:
    """An event type this part of the local cloud does not run (Api, WebSocket, SQS, ...), kept as is."""

    name: str
    type: str
    properties: dict[str, Any] = field(default_factory=dict)


EventSpec = ScheduleEventSpec | KinesisEventSpec | OtherEventSpec


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """An ``AWS::Serverless::Function`` with Globals applied and every intrinsic resolved."""

    logical_id: str
    function_name: str  # FunctionName, or "<stack>-<LogicalId>" as SAM would generate
    arn: str
    code_uri: Path  # absolute
    handler: str  # "module.function" (module may be dotted: "pkg.app.handler")
    runtime: str = "python3.12"
    timeout_s: float = 3.0
    memory_mb: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    layers: tuple[Path, ...] = ()  # local layer directories (ContentUri), in template order
    events: tuple[EventSpec, ...] = ()
    reserved_concurrency: int | None = None


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """An ``AWS::Kinesis::Stream``."""

    logical_id: str
    name: str
    arn: str
    shard_count: int = 1
    retention_hours: int = 24


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """An ``AWS::SQS::Queue``."""

    logical_id: str
    name: str
    arn: str
    url: str
    fifo: bool = False
    attributes: dict[str, str] = field(default_factory=dict)  # as CreateQueue takes them


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """Any other resource: its type and resolved properties (provisioned when the local cloud can)."""

    logical_id: str
    type: str
    physical_name: str
    arn: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AppModel:
    """A whole template, resolved: what ``localcloud up`` runs."""

    stack_name: str
    region: str
    account_id: str
    parameters: dict[str, str]
    functions: dict[str, FunctionSpec]
    streams: dict[str, StreamSpec]
    queues: dict[str, QueueSpec]
    resources: dict[str, ResourceSpec]  # everything else, by logical id
    outputs: dict[str, Any]
