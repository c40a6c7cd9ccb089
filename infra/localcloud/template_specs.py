"""Resolved resources as the specs the local cloud runs: functions, streams, queues, the rest.

Defaults are AWS's: a function without ``Timeout`` gets 3 s and 128 MB; a stream one shard kept 24 h
(``ON_DEMAND`` streams start with 4 shards); queue properties become the string attributes
``CreateQueue`` takes (``RedrivePolicy`` as a JSON document).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from localcloud.intrinsics import TemplateError, child, scalar_to_str
from localcloud.model import FunctionSpec, QueueSpec, ResourceSpec, StreamSpec
from localcloud.template_events import event_specs
from localcloud.template_values import as_int, as_mapping, as_str

__all__ = [
    "FUNCTION_TYPES",
    "LAYER_TYPES",
    "ResolvedResource",
    "function_spec",
    "layer_directory",
    "queue_spec",
    "resource_spec",
    "stream_spec",
]

_log = logging.getLogger("localcloud")

FUNCTION_TYPES: Final = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})
LAYER_TYPES: Final = frozenset({"AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"})

# AWS::SQS::Queue properties that are CreateQueue attributes of the same name.
_QUEUE_ATTRIBUTES: Final = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
_QUEUE_JSON_ATTRIBUTES: Final = ("RedrivePolicy", "RedriveAllowPolicy")


@dataclass(frozen=True, slots=True)
class ResolvedResource:
    """A resource with its properties resolved (Globals merged, intrinsics evaluated)."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    name: str  # physical name
    arn: str

    @property
    def at(self) -> str:
        return f"Resources.{self.logical_id}.Properties"


def local_directory(value: Any, base_dir: Path, at: str) -> Path:
    """A ``CodeUri``/``ContentUri`` that is a local path, made absolute against the template's folder."""
    if isinstance(value, dict) or (isinstance(value, str) and value.startswith("s3://")):
        raise TemplateError("must be a local path to run locally (not an S3 location)", at)
    directory = (base_dir / as_str(value, at)).resolve()
    if not directory.is_dir():
        raise TemplateError(f"{directory} is not a directory", at)
    return directory


def layer_directory(resource: ResolvedResource, base_dir: Path) -> Path:
    """A layer's ``ContentUri`` (SAM) or ``Content`` (when a local path) as an absolute directory."""
    key = "ContentUri" if resource.type == "AWS::Serverless::LayerVersion" else "Content"
    return local_directory(resource.properties.get(key), base_dir, child(resource.at, key))


def function_spec(
    resource: ResolvedResource,
    *,
    stack_name: str,
    base_dir: Path,
    layer_directories: Mapping[str, Path],
) -> FunctionSpec:
    """A function (Globals already merged); ``layer_directories`` maps template layer ARNs to folders."""
    properties, at = resource.properties, resource.at
    code_key = "CodeUri" if resource.type == "AWS::Serverless::Function" else "Code"
    if properties.get(code_key) is None:
        raise TemplateError(f"{code_key} is required (a local directory)", child(at, code_key))
    if properties.get("PackageType", "Zip") != "Zip":
        raise TemplateError("only Zip functions run locally (not container images)", child(at, "PackageType"))
    reserved = properties.get("ReservedConcurrentExecutions")
    return FunctionSpec(
        logical_id=resource.logical_id,
        function_name=resource.name,
        arn=resource.arn,
        code_uri=local_directory(properties[code_key], base_dir, child(at, code_key)),
        handler=_handler(properties, at),
        runtime=as_str(_required(properties, "Runtime", at), child(at, "Runtime")),
        timeout_s=as_int(properties.get("Timeout", 3), child(at, "Timeout"), 1, 900),
        memory_mb=as_int(properties.get("MemorySize", 128), child(at, "MemorySize"), 128, 10_240),
        environment=_environment(properties.get("Environment"), child(at, "Environment")),
        layers=_layers(properties.get("Layers", []), layer_directories, child(at, "Layers")),
        events=event_specs(
            properties.get("Events"),
            stack_name=stack_name,
            function_logical_id=resource.logical_id,
            at=child(at, "Events"),
        ),
        reserved_concurrency=None
        if reserved is None
        else as_int(reserved, child(at, "ReservedConcurrentExecutions"), 0),
    )


def _required(properties: Mapping[str, Any], key: str, at: str) -> Any:
    if properties.get(key) is None:
        raise TemplateError(f"{key} is required", child(at, key))
    return properties[key]


def _handler(properties: Mapping[str, Any], at: str) -> str:
    handler = as_str(_required(properties, "Handler", at), child(at, "Handler"))
    if "." not in handler:
        raise TemplateError(f"expected module.function, got {handler!r}", child(at, "Handler"))
    return handler


def _environment(environment: Any, at: str) -> dict[str, str]:
    """``Environment.Variables``; Lambda's values are strings, so numbers and booleans are stringified."""
    if environment is None:
        return {}
    variables = as_mapping(environment, at).get("Variables", {})
    where = child(at, "Variables")
    return {
        str(name): scalar_to_str(value, child(where, str(name)))
        for name, value in as_mapping(variables, where).items()
    }


def _layers(layers: Any, layer_directories: Mapping[str, Path], at: str) -> tuple[Path, ...]:
    """Template layers as their folders, in order; external layer ARNs are skipped (no code here)."""
    if not isinstance(layers, list):
        raise TemplateError("expected a list of layer ARNs", at)
    directories: list[Path] = []
    for index, layer in enumerate(layers):
        arn = as_str(layer, child(at, index))
        if arn in layer_directories:
            directories.append(layer_directories[arn])
        else:
            _log.warning("%s: layer %s is not in the template; skipped locally", child(at, index), arn)
    return tuple(directories)


def stream_spec(resource: ResolvedResource) -> StreamSpec:
    """``AWS::Kinesis::Stream``: ShardCount (default 1; ON_DEMAND streams get 4), retention 24-8760 h."""
    properties, at = resource.properties, resource.at
    mode = as_mapping(properties.get("StreamModeDetails", {}), child(at, "StreamModeDetails")).get(
        "StreamMode"
    )
    if mode == "ON_DEMAND":
        shard_count = 4
    else:
        shard_count = as_int(properties.get("ShardCount", 1), child(at, "ShardCount"), 1)
    return StreamSpec(
        logical_id=resource.logical_id,
        name=resource.name,
        arn=resource.arn,
        shard_count=shard_count,
        retention_hours=as_int(
            properties.get("RetentionPeriodHours", 24), child(at, "RetentionPeriodHours"), 24, 8760
        ),
    )


def queue_spec(resource: ResolvedResource, url: str) -> QueueSpec:
    """``AWS::SQS::Queue`` as CreateQueue's name and string attributes."""
    properties, at = resource.properties, resource.at
    attributes: dict[str, str] = {
        key: scalar_to_str(properties[key], child(at, key)) for key in _QUEUE_ATTRIBUTES if key in properties
    }
    for key in _QUEUE_JSON_ATTRIBUTES:
        if key in properties:
            attributes[key] = _json_attribute(properties[key], child(at, key))
    return QueueSpec(
        logical_id=resource.logical_id,
        name=resource.name,
        arn=resource.arn,
        url=url,
        fifo=resource.name.endswith(".fifo"),
        attributes=attributes,
    )


def _json_attribute(value: Any, at: str) -> str:
    """CloudFormation takes ``RedrivePolicy`` as an object; SQS as a JSON string."""
    if isinstance(value, str):
        return value
    return json.dumps(as_mapping(value, at), separators=(",", ":"))


def resource_spec(resource: ResolvedResource) -> ResourceSpec:
    return ResourceSpec(
        logical_id=resource.logical_id,
        type=resource.type,
        physical_name=resource.name,
        arn=resource.arn,
        properties=resource.properties,
    )
