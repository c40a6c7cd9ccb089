"""The template reader: an AWS SAM template resolved into the :class:`AppModel` the local cloud runs.

:func:`load_template` reads YAML or JSON, takes parameter values (defaults and overrides, validated
as CloudFormation validates them), evaluates Conditions once, merges SAM Globals, resolves every
intrinsic function, and builds a spec per function, stream and queue (and a generic one for every
other resource). Names and ARNs are deterministic (no random suffixes) so restarts agree.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from localcloud.intrinsics import NO_VALUE, Resolver, TemplateError, child, parse_template_text
from localcloud.model import AppModel, FunctionSpec, QueueSpec, ResourceSpec, StreamSpec
from localcloud.template_globals import SamGlobals
from localcloud.template_parameters import ParameterValue, parameter_values
from localcloud.template_refs import (
    Resource,
    StackContext,
    arn_of,
    get_att_value,
    physical_name,
    queue_url,
    ref_value,
)
from localcloud.template_specs import (
    FUNCTION_TYPES,
    LAYER_TYPES,
    ResolvedResource,
    function_spec,
    layer_directory,
    queue_spec,
    resource_spec,
    stream_spec,
)

__all__ = ["TemplateError", "load_template"]

_log = logging.getLogger("localcloud")

_KNOWN_TRANSFORMS: Final = frozenset({"AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"})
# Unexpected shapes (a list where a mapping belongs ...) surface as these; they become TemplateErrors.
_MALFORMED: Final = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def load_template(
    path: Path,
    parameter_overrides: Mapping[str, str] | None = None,
    *,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    stack_name: str | None = None,
    aws_endpoint_url: str = "http://127.0.0.1:4566",
) -> AppModel:
    """Read the SAM template at ``path`` and resolve it as CloudFormation would deploy it.

    ``stack_name`` defaults to the template folder's name. ``CodeUri``/``ContentUri`` are resolved
    against the template's folder. Raises :class:`TemplateError` naming the file and property path.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read the template: {exc.strerror}", file=str(path)) from None
    context = StackContext(
        stack_name=stack_name or default_stack_name(path),
        region=region,
        account_id=account_id,
        aws_endpoint_url=aws_endpoint_url,
    )
    stack = _Stack(context, path.resolve().parent, dict(parameter_overrides or {}))
    try:
        return stack.build(parse_template_text(text))
    except TemplateError as exc:
        raise exc.in_file(path.name) from None
    except _MALFORMED as exc:
        reason = f"malformed template ({type(exc).__name__}: {exc})"
        raise TemplateError(reason, stack.current, path.name) from None


def default_stack_name(path: Path) -> str:
    """The template folder's name made a valid stack name ([A-Za-z][-A-Za-z0-9]*), else "local"."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", path.resolve().parent.name).strip("-")
    return name if name[:1].isalpha() else "local"


class _Stack:
    """One template being resolved; the :class:`~localcloud.intrinsics.Scope` its intrinsics see."""

    def __init__(self, context: StackContext, base_dir: Path, overrides: dict[str, str]) -> None:
        self.context = context
        self.region = context.region
        self.current = ""  # the section or resource being read, for errors on malformed input
        self._base_dir = base_dir
        self._overrides = overrides
        self._resolver = Resolver(self)
        self._parameters: dict[str, ParameterValue] = {}
        self._condition_expressions: dict[str, Any] = {}
        self._conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()  # conditions and properties being resolved (cycle check)
        self._mappings: dict[str, Any] = {}
        self._resources: dict[str, dict[str, Any]] = {}
        self._implicit: dict[str, str] = {}  # resources SAM generates: logical id -> type
        self._merged: dict[str, dict[str, Any]] = {}
        self._properties: dict[tuple[str, str], Any] = {}
        self._names: dict[str, str] = {}

    # -- sections --

    def build(self, template: dict[str, Any]) -> AppModel:
        self._check_transform(template.get("Transform"))
        self.current = "Parameters"
        self._parameters = parameter_values(template.get("Parameters"), self._overrides)
        self.current = "Mappings"
        self._mappings = _section(template, "Mappings")
        self.current = "Conditions"
        self._condition_expressions = _section(template, "Conditions")
        for name in self._condition_expressions:
            self.condition(name, "Conditions")
        self.current = "Globals"
        sam_globals = SamGlobals(template.get("Globals"))
        self.current = "Resources"
        self._resources = _resources(template)
        self._merged = {
            logical_id: sam_globals.merge(logical_id, resource)
            for logical_id, resource in self._resources.items()
        }
        self._implicit = _implicit_resources(self._resources, self._merged)
        return self._model(template)

    def _check_transform(self, transform: Any) -> None:
        transforms = transform if isinstance(transform, list) else [transform] if transform else []
        for name in transforms:
            if not isinstance(name, str):
                raise TemplateError("Transform must be a name or a list of names", "Transform")
            if name not in _KNOWN_TRANSFORMS:
                _log.warning("Transform %s is not applied locally", name)

    def _model(self, template: dict[str, Any]) -> AppModel:
        included = [logical_id for logical_id in self._resources if self._included(logical_id)]
        resolved = {logical_id: self._resolved(logical_id) for logical_id in included}
        layer_directories = {
            resource.arn: layer_directory(resource, self._base_dir)
            for resource in resolved.values()
            if resource.type in LAYER_TYPES
        }
        functions: dict[str, FunctionSpec] = {}
        streams: dict[str, StreamSpec] = {}
        queues: dict[str, QueueSpec] = {}
        others: dict[str, ResourceSpec] = {}
        for logical_id, resource in resolved.items():
            self.current = f"Resources.{logical_id}"
            if resource.type in FUNCTION_TYPES:
                functions[logical_id] = function_spec(
                    resource,
                    stack_name=self.context.stack_name,
                    base_dir=self._base_dir,
                    layer_directories=layer_directories,
                )
            elif resource.type == "AWS::Kinesis::Stream":
                streams[logical_id] = stream_spec(resource)
            elif resource.type == "AWS::SQS::Queue":
                queues[logical_id] = queue_spec(resource, queue_url(self.context, resource.name))
            elif resource.type not in LAYER_TYPES:
                others[logical_id] = resource_spec(resource)
        return AppModel(
            stack_name=self.context.stack_name,
            region=self.context.region,
            account_id=self.context.account_id,
            parameters={name: value.text for name, value in self._parameters.items()},
            functions=functions,
            streams=streams,
            queues=queues,
            resources=others,
            outputs=self._outputs(template.get("Outputs")),
        )

    def _outputs(self, outputs: Any) -> dict[str, Any]:
        """Each output's resolved ``Value``; outputs whose ``Condition`` is false are left out."""
        if outputs is None:
            return {}
        if not isinstance(outputs, dict):
            raise TemplateError("must be a mapping", "Outputs")
        values: dict[str, Any] = {}
        for name, output in outputs.items():
            at = self.current = f"Outputs.{name}"
            if not isinstance(output, dict) or "Value" not in output:
                raise TemplateError("an output needs a Value", at)
            if "Condition" in output and not self.condition(output["Condition"], child(at, "Condition")):
                continue
            value = self._resolver.resolve(output["Value"], child(at, "Value"))
            if value is not NO_VALUE:
                values[str(name)] = value
        return values

    # -- resources --

    def _included(self, logical_id: str) -> bool:
        """A resource is created unless its ``Condition`` is false."""
        condition = self._resources[logical_id].get("Condition")
        return condition is None or self.condition(condition, f"Resources.{logical_id}.Condition")

    def _resolved(self, logical_id: str) -> ResolvedResource:
        at = self.current = f"Resources.{logical_id}.Properties"
        properties = self._resolver.resolve(self._merged[logical_id], at)
        handle = self._handle(logical_id, at)
        return ResolvedResource(
            logical_id=logical_id,
            type=handle.type,
            properties=properties if isinstance(properties, dict) else {},
            name=handle.name,
            arn=arn_of(handle),
        )

    def _type(self, logical_id: str) -> str:
        if logical_id in self._implicit:
            return self._implicit[logical_id]
        return str(self._resources[logical_id]["Type"])

    def _handle(self, logical_id: str, at: str) -> Resource:
        """The resource as Ref/GetAtt see it; its physical name is computed once."""

        def prop(key: str) -> Any:
            return self._property(logical_id, key)

        resource_type = self._type(logical_id)
        if logical_id not in self._names:
            self._names[logical_id] = physical_name(
                self.context, logical_id, resource_type, prop, f"Resources.{logical_id}.Properties"
            )
        return Resource(self.context, logical_id, resource_type, self._names[logical_id], prop)

    def _property(self, logical_id: str, key: str) -> Any:
        """One resolved property (None when absent): what names, ARNs and attributes are made of."""
        if (logical_id, key) in self._properties:
            return self._properties[(logical_id, key)]
        raw = self._merged.get(logical_id, {}).get(key)
        at = f"Resources.{logical_id}.Properties.{key}"
        if at in self._evaluating:
            raise TemplateError("circular reference: the property refers back to itself", at)
        self._evaluating.add(at)
        try:
            value = self._resolver.resolve(raw, at)
        finally:
            self._evaluating.discard(at)
        self._properties[(logical_id, key)] = None if value is NO_VALUE else value
        return self._properties[(logical_id, key)]

    def _referable(self, logical_id: str, at: str) -> None:
        if logical_id in self._implicit:
            return
        if logical_id not in self._resources:
            raise TemplateError(f"{logical_id} is not a parameter or resource of this template", at)
        if not self._included(logical_id):
            condition = self._resources[logical_id]["Condition"]
            raise TemplateError(f"{logical_id} is not created (its Condition {condition} is false)", at)

    # -- Scope --

    def ref(self, name: str, at: str) -> Any:
        """``Ref``: pseudo parameters, then parameters, then resources."""
        if name.startswith("AWS::"):
            return self._pseudo_parameter(name, at)
        if name in self._parameters:
            return self._parameters[name].value
        self._referable(name, at)
        return ref_value(self._handle(name, at))

    def _pseudo_parameter(self, name: str, at: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": self.context.region,
            "AWS::AccountId": self.context.account_id,
            "AWS::StackName": self.context.stack_name,
            "AWS::StackId": self.context.stack_id,
            "AWS::Partition": self.context.partition,
            "AWS::URLSuffix": self.context.url_suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in values:
            raise TemplateError(f"unknown pseudo parameter {name}", at)
        return values[name]

    def get_att(self, logical_id: str, attribute: str, at: str) -> Any:
        self._referable(logical_id, at)
        return get_att_value(self._handle(logical_id, at), attribute, at)

    def condition(self, name: str, at: str) -> bool:
        """A condition's value, evaluated once; conditions may refer to each other (not in a cycle)."""
        if not isinstance(name, str) or name not in self._condition_expressions:
            raise TemplateError(f"unknown condition {name!r}", at)
        if name not in self._conditions:
            where = f"Conditions.{name}"
            if where in self._evaluating:
                raise TemplateError("circular reference between conditions", where)
            self._evaluating.add(where)
            try:
                self._conditions[name] = self._resolver.condition_value(
                    self._condition_expressions[name], where
                )
            finally:
                self._evaluating.discard(where)
        return self._conditions[name]

    def mapping(self, name: str, at: str) -> Mapping[str, Any]:
        mapping = self._mappings.get(name)
        if not isinstance(mapping, dict):
            raise TemplateError(f"Fn::FindInMap: no mapping named {name!r}", at)
        return mapping


def _section(template: Mapping[str, Any], name: str) -> dict[str, Any]:
    section = template.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise TemplateError("must be a mapping", name)
    return section


def _resources(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The Resources section, each entry checked for a ``Type`` and mapping ``Properties``."""
    resources = _section(template, "Resources")
    if not resources:
        raise TemplateError("a template needs at least one resource", "Resources")
    for logical_id, resource in resources.items():
        at = f"Resources.{logical_id}"
        if not isinstance(logical_id, str) or not logical_id.isalnum():
            raise TemplateError("logical ids are alphanumeric", at)
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError("a resource needs a Type", at)
        if not isinstance(resource.get("Properties") or {}, dict):
            raise TemplateError("Properties must be a mapping", child(at, "Properties"))
    return resources


def _implicit_resources(
    resources: Mapping[str, dict[str, Any]], merged: Mapping[str, dict[str, Any]]
) -> dict[str, str]:
    """Resources SAM adds that templates refer to: ``<Function>Role``, ``ServerlessRestApi``, ..."""
    implicit: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = merged[logical_id]
        if properties.get("Role") is None:
            implicit[f"{logical_id}Role"] = "AWS::IAM::Role"
        events = properties.get("Events")
        for event in events.values() if isinstance(events, dict) else ():
            if not isinstance(event, dict):
                continue
            event_properties = event.get("Properties") or {}
            if event.get("Type") == "Api" and "RestApiId" not in event_properties:
                implicit["ServerlessRestApi"] = "AWS::Serverless::Api"
            if event.get("Type") == "HttpApi" and "ApiId" not in event_properties:
                implicit["ServerlessHttpApi"] = "AWS::Serverless::HttpApi"
    return {logical_id: kind for logical_id, kind in implicit.items() if logical_id not in resources}
