"""A SAM function's ``Events`` as event specs, validated the way SAM and Lambda validate them.

``Schedule`` (an EventBridge rule) and ``ScheduleV2`` (EventBridge Scheduler) become
:class:`ScheduleEventSpec`; ``Kinesis`` becomes :class:`KinesisEventSpec` with Lambda's
event-source-mapping defaults and limits (CreateEventSourceMapping: BatchSize 1-10000,
MaximumBatchingWindowInSeconds 0-300, MaximumRetryAttempts -1-10000, MaximumRecordAgeInSeconds -1 or
60-604800, ParallelizationFactor 1-10). Any other type is kept as an :class:`OtherEventSpec`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from localcloud.intrinsics import TemplateError, child
from localcloud.model import (
    EventSpec,
    KinesisEventSpec,
    OtherEventSpec,
    ScheduleEventSpec,
    StartingPosition,
)
from localcloud.template_values import as_bool, as_float, as_int, as_mapping, as_str, as_str_list

__all__ = ["event_specs"]

_log = logging.getLogger("localcloud")

_STARTING_POSITIONS: Final[dict[str, StartingPosition]] = {
    "TRIM_HORIZON": "TRIM_HORIZON",
    "LATEST": "LATEST",
    "AT_TIMESTAMP": "AT_TIMESTAMP",
}
_KINESIS_PROPERTIES: Final = frozenset(
    [
        "Stream",
        "StartingPosition",
        "StartingPositionTimestamp",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "BisectBatchOnFunctionError",
        "MaximumRetryAttempts",
        "MaximumRecordAgeInSeconds",
        "FunctionResponseTypes",
        "DestinationConfig",
        "Enabled",
        "ParallelizationFactor",
        "TumblingWindowInSeconds",
        "FilterCriteria",
        "KmsKeyArn",
        "MetricsConfig",
    ]
)
_KINESIS_STREAM_ARN: Final = re.compile(r"^arn:[\w-]+:kinesis:[^:]*:\d*:stream/(?P<name>[^/]+)$")
_SCHEDULE_EXPRESSION: Final = re.compile(r"^(rate|cron|at)\(.+\)$")


def event_specs(events: Any, *, stack_name: str, function_logical_id: str, at: str) -> tuple[EventSpec, ...]:
    """Every entry of a function's resolved ``Events`` mapping, in template order."""
    if events is None:
        return ()
    specs: list[EventSpec] = []
    for name, event in as_mapping(events, at).items():
        where = child(at, name)
        event = as_mapping(event, where)
        event_type = as_str(event.get("Type"), child(where, "Type"))
        properties = as_mapping(event.get("Properties", {}), child(where, "Properties"))
        rule_name = f"{stack_name}-{function_logical_id}{name}"[:64]  # EventBridge's limit
        specs.append(_event_spec(name, event_type, properties, rule_name, child(where, "Properties")))
    return tuple(specs)


def _event_spec(name: str, event_type: str, properties: dict[str, Any], rule_name: str, at: str) -> EventSpec:
    if event_type == "Schedule":
        return _schedule(name, properties, rule_name, at)
    if event_type == "ScheduleV2":
        return _schedule_v2(name, properties, rule_name, at)
    if event_type == "Kinesis":
        return _kinesis(name, properties, at)
    return OtherEventSpec(name=name, type=event_type, properties=properties)


def _required(properties: Mapping[str, Any], key: str, at: str) -> Any:
    if properties.get(key) is None:
        raise TemplateError(f"{key} is required", child(at, key))
    return properties[key]


def _expression(properties: Mapping[str, Any], key: str, at: str) -> str:
    expression = as_str(_required(properties, key, at), child(at, key)).strip()
    if not _SCHEDULE_EXPRESSION.match(expression):
        raise TemplateError(f"expected rate(...), cron(...) or at(...), got {expression!r}", child(at, key))
    return expression


def _input(properties: Mapping[str, Any], at: str) -> str | None:
    """``Input`` is a JSON document passed verbatim as the event (a string, as in EventBridge)."""
    value = properties.get("Input")
    return None if value is None else as_str(value, child(at, "Input"))


def _schedule(name: str, properties: dict[str, Any], rule_name: str, at: str) -> ScheduleEventSpec:
    """SAM ``Schedule``: ``Enabled`` (default true) or ``State`` (ENABLED/DISABLED), not both."""
    if "Enabled" in properties and "State" in properties:
        raise TemplateError("Enabled and State cannot both be set", at)
    if "State" in properties:
        enabled = _state(properties, at)
    else:
        enabled = as_bool(properties.get("Enabled", True), child(at, "Enabled"))
    return ScheduleEventSpec(
        name=name,
        kind="Schedule",
        expression=_expression(properties, "Schedule", at),
        input=_input(properties, at),
        enabled=enabled,
        rule_name=as_str(properties.get("Name", rule_name), child(at, "Name")),
    )


def _state(properties: Mapping[str, Any], at: str) -> bool:
    state = as_str(properties.get("State", "ENABLED"), child(at, "State"))
    if state not in ("ENABLED", "DISABLED"):
        raise TemplateError(f"expected ENABLED or DISABLED, got {state!r}", child(at, "State"))
    return state == "ENABLED"


def _schedule_v2(name: str, properties: dict[str, Any], rule_name: str, at: str) -> ScheduleEventSpec:
    """SAM ``ScheduleV2`` (EventBridge Scheduler): ``State``, ``ScheduleExpressionTimezone``."""
    timezone = properties.get("ScheduleExpressionTimezone")
    return ScheduleEventSpec(
        name=name,
        kind="ScheduleV2",
        expression=_expression(properties, "ScheduleExpression", at),
        input=_input(properties, at),
        enabled=_state(properties, at),
        timezone=None if timezone is None else as_str(timezone, child(at, "ScheduleExpressionTimezone")),
        rule_name=as_str(properties.get("Name", rule_name), child(at, "Name")),
    )


def _kinesis(name: str, properties: dict[str, Any], at: str) -> KinesisEventSpec:
    """SAM ``Kinesis``: an event-source mapping with Lambda's defaults and limits."""
    for key in properties.keys() - _KINESIS_PROPERTIES:
        _log.warning("%s: %s is not a Kinesis event property; ignored", at, key)
    stream_arn = as_str(_required(properties, "Stream", at), child(at, "Stream"))
    stream = _KINESIS_STREAM_ARN.match(stream_arn)
    if stream is None:
        raise TemplateError(f"expected a Kinesis stream ARN, got {stream_arn!r}", child(at, "Stream"))
    starting_position = _starting_position(properties, at)
    return KinesisEventSpec(
        name=name,
        stream_arn=stream_arn,
        stream_name=stream.group("name"),
        starting_position=starting_position,
        starting_position_timestamp=_starting_timestamp(properties, starting_position, at),
        batch_size=_int(properties, "BatchSize", 100, at, 1, 10_000),
        maximum_batching_window_s=_float(properties, "MaximumBatchingWindowInSeconds", 0.0, at, 0, 300),
        bisect_on_error=_bool(properties, "BisectBatchOnFunctionError", False, at),
        maximum_retry_attempts=_int(properties, "MaximumRetryAttempts", -1, at, -1, 10_000),
        maximum_record_age_s=_record_age(properties, at),
        report_batch_item_failures=_report_batch_item_failures(properties, at),
        on_failure_arn=_on_failure_destination(properties, at),
        enabled=_bool(properties, "Enabled", True, at),
        parallelization_factor=_int(properties, "ParallelizationFactor", 1, at, 1, 10),
    )


def _int(properties: Mapping[str, Any], key: str, default: int, at: str, low: int, high: int) -> int:
    return as_int(properties.get(key, default), child(at, key), low, high)


def _float(
    properties: Mapping[str, Any], key: str, default: float, at: str, low: float, high: float
) -> float:
    return as_float(properties.get(key, default), child(at, key), low, high)


def _bool(properties: Mapping[str, Any], key: str, default: bool, at: str) -> bool:
    return as_bool(properties.get(key, default), child(at, key))


def _starting_position(properties: Mapping[str, Any], at: str) -> StartingPosition:
    value = as_str(_required(properties, "StartingPosition", at), child(at, "StartingPosition"))
    if value not in _STARTING_POSITIONS:
        raise TemplateError(
            f"expected one of {', '.join(_STARTING_POSITIONS)}, got {value!r}", child(at, "StartingPosition")
        )
    return _STARTING_POSITIONS[value]


def _starting_timestamp(properties: Mapping[str, Any], position: StartingPosition, at: str) -> float | None:
    """``StartingPositionTimestamp``: Unix seconds (an ISO 8601 string is accepted too)."""
    where = child(at, "StartingPositionTimestamp")
    value = properties.get("StartingPositionTimestamp")
    if value is None:
        if position == "AT_TIMESTAMP":
            raise TemplateError("required when StartingPosition is AT_TIMESTAMP", where)
        return None
    if isinstance(value, str) and not value.replace(".", "", 1).isdigit():
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            raise TemplateError(f"expected Unix seconds or an ISO 8601 time, got {value!r}", where) from None
    return as_float(value, where, 0)


def _record_age(properties: Mapping[str, Any], at: str) -> int:
    """``MaximumRecordAgeInSeconds``: -1 (no limit) or 60..604800."""
    age = _int(properties, "MaximumRecordAgeInSeconds", -1, at, -1, 604_800)
    if 0 <= age < 60:
        raise TemplateError(
            f"must be -1 or between 60 and 604800, got {age}", child(at, "MaximumRecordAgeInSeconds")
        )
    return age


def _report_batch_item_failures(properties: Mapping[str, Any], at: str) -> bool:
    where = child(at, "FunctionResponseTypes")
    types = as_str_list(properties.get("FunctionResponseTypes", []), where)
    unknown = set(types) - {"ReportBatchItemFailures"}
    if unknown:
        raise TemplateError(f"only ReportBatchItemFailures is allowed, got {sorted(unknown)}", where)
    return "ReportBatchItemFailures" in types


def _on_failure_destination(properties: Mapping[str, Any], at: str) -> str | None:
    """``DestinationConfig.OnFailure.Destination``: the ARN of an SQS queue or SNS topic."""
    config = properties.get("DestinationConfig")
    if config is None:
        return None
    where = child(child(at, "DestinationConfig"), "OnFailure")
    on_failure = as_mapping(as_mapping(config, child(at, "DestinationConfig")).get("OnFailure", {}), where)
    destination = on_failure.get("Destination")
    if destination is None:
        return None
    arn = as_str(destination, child(where, "Destination"))
    if not arn.startswith("arn:"):
        raise TemplateError(f"expected an ARN, got {arn!r}", child(where, "Destination"))
    return arn
