"""CloudFormation's template syntax: the YAML short tags and the intrinsic functions.

:func:`parse_template_text` turns YAML (with ``!Ref``, ``!GetAtt``, ``!Sub`` ... short tags) or JSON into
plain data where every intrinsic is in its long form (``{"Fn::Sub": ...}``, ``{"Ref": ...}``), as
CloudFormation itself sees it. :class:`Resolver` then evaluates those functions against a
:class:`Scope` (parameters, resources, conditions, mappings) that :mod:`localcloud.template` provides.
Nothing here knows about resource types.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

import yaml

__all__ = [
    "NO_VALUE",
    "Resolver",
    "Scope",
    "TemplateError",
    "child",
    "is_intrinsic",
    "parse_template_text",
    "scalar_to_str",
]


class TemplateError(Exception):
    """A template CloudFormation (or SAM) would reject, or one the local cloud cannot run.

    The message names the file, the property path and the reason, e.g.
    ``template.yaml: Resources.Feed.Properties.Timeout: expected an integer, got 'abc'``.
    """

    def __init__(self, reason: str, at: str = "", file: str = "") -> None:
        self.reason = reason
        self.at = at
        self.file = file
        super().__init__(": ".join(part for part in (file, at, reason) if part))

    def in_file(self, file: str) -> TemplateError:
        """The same error, naming the template file."""
        return TemplateError(self.reason, self.at, file)


class _NoValue:
    """``AWS::NoValue``: the property (or list item) it is the value of is removed."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()


def child(at: str, key: str | int) -> str:
    """The path of ``key`` under ``at``: ``Resources.X.Properties`` / ``Layers[0]``."""
    if isinstance(key, int):
        return f"{at}[{key}]"
    return f"{at}.{key}" if at else key


# --- parsing -----------------------------------------------------------------------------------------

_SHORT_TAGS: Final = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short tags; dates stay strings; duplicate keys are errors."""


def _construct_plain(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node.tag}", node.start_mark)


def _long_form(name: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {name: _construct_plain(loader, node)}

    return construct


def _construct_getatt(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    """``!GetAtt A.B`` and ``!GetAtt [A, B]``; "A.B.C" splits at the first dot (attribute "B.C")."""
    value = _construct_plain(loader, node)
    if isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {"Fn::GetAtt": value}


def _construct_mapping_unique(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """CloudFormation rejects duplicate keys; PyYAML would keep the last one silently."""
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _construct_timestamp_as_str(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    """CloudFormation passes ``2024-01-01`` through as a string, not a date."""
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


for _tag in _SHORT_TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _long_form(f"Fn::{_tag}"))
_CfnLoader.add_constructor("!Ref", _long_form("Ref"))
_CfnLoader.add_constructor("!Condition", _long_form("Condition"))
_CfnLoader.add_constructor("!GetAtt", _construct_getatt)
_CfnLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_unique)
_CfnLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_str)


def parse_template_text(text: str) -> dict[str, Any]:
    """A template's text (JSON or YAML with short tags) as data with long-form intrinsics."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_CfnLoader)
    except yaml.YAMLError as exc:
        raise TemplateError(f"invalid YAML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise TemplateError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateError("a template must be a mapping (with a Resources section)")
    return data


# --- evaluation --------------------------------------------------------------------------------------


def is_intrinsic(value: Any) -> bool:
    """A one-key mapping whose key is ``Ref`` or ``Fn::*``: CloudFormation treats it as a function."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


def scalar_to_str(value: Any, at: str) -> str:
    """A scalar as CloudFormation stringifies it: numbers as written, booleans "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"expected a string, got {_describe(value)}", at)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return repr(value)


class Scope(Protocol):
    """What intrinsics look up: implemented by the template reader."""

    region: str

    def ref(self, name: str, at: str) -> Any:
        """``Ref``: a parameter's value, a pseudo parameter, or a resource's Ref value."""
        ...

    def get_att(self, logical_id: str, attribute: str, at: str) -> Any:
        """``Fn::GetAtt``: a resource attribute."""
        ...

    def condition(self, name: str, at: str) -> bool:
        """A condition's value (from the Conditions section)."""
        ...

    def mapping(self, name: str, at: str) -> Mapping[str, Any]:
        """A Mappings entry."""
        ...


_SUB_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsic functions the way CloudFormation does when it creates a stack.

    ``Fn::If`` evaluates only the chosen branch, so the other may name resources that are not created.
    ``AWS::NoValue`` removes the mapping key or list item it is the value of.
    """

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self._functions: dict[str, Callable[[Any, str], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::If": self._if,
            "Fn::Equals": lambda args, at: self.condition_value({"Fn::Equals": args}, at),
            "Fn::And": lambda args, at: self.condition_value({"Fn::And": args}, at),
            "Fn::Or": lambda args, at: self.condition_value({"Fn::Or": args}, at),
            "Fn::Not": lambda args, at: self.condition_value({"Fn::Not": args}, at),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::Base64": self._base64,
            "Fn::GetAZs": self._get_azs,
            "Fn::Length": self._length,
            "Fn::ToJsonString": self._to_json_string,
            "Fn::ImportValue": self._import_value,
        }

    # -- the walk --

    def resolve(self, value: Any, at: str) -> Any:
        """``value`` with every intrinsic evaluated; may be :data:`NO_VALUE`."""
        if isinstance(value, dict):
            if is_intrinsic(value):
                ((name, args),) = value.items()
                return self._call(name, args, child(at, name))
            return self._resolve_mapping(value, at)
        if isinstance(value, list):
            return self._resolve_list(value, at)
        return value

    def _resolve_mapping(self, value: dict[Any, Any], at: str) -> dict[str, Any]:
        resolved: dict[str, Any] = {}
        for key, item in value.items():
            result = self.resolve(item, child(at, str(key)))
            if result is not NO_VALUE:
                resolved[str(key)] = result
        return resolved

    def _resolve_list(self, value: list[Any], at: str) -> list[Any]:
        resolved = (self.resolve(item, child(at, index)) for index, item in enumerate(value))
        return [item for item in resolved if item is not NO_VALUE]

    def _call(self, name: str, args: Any, at: str) -> Any:
        function = self._functions.get(name)
        if function is None:
            raise TemplateError(f"unknown intrinsic {name}", at)
        return function(args, at)

    def resolve_str(self, value: Any, at: str) -> str:
        """``value`` resolved to a string (numbers and booleans stringified)."""
        return scalar_to_str(self.resolve(value, at), at)

    def resolve_list(self, value: Any, at: str) -> list[Any]:
        """``value`` resolved to a list (a literal list, ``!Split``, a CommaDelimitedList ``!Ref`` ...)."""
        resolved = self.resolve(value, at)
        if not isinstance(resolved, list):
            raise TemplateError(f"expected a list, got {_describe(resolved)}", at)
        return resolved

    def _arguments(self, args: Any, at: str, count: int | tuple[int, int], usage: str) -> list[Any]:
        low, high = (count, count) if isinstance(count, int) else count
        if not isinstance(args, list) or not low <= len(args) <= high:
            raise TemplateError(f"expected {usage}", at)
        return args

    # -- Ref, GetAtt, Sub --

    def _ref(self, args: Any, at: str) -> Any:
        if not isinstance(args, str):
            raise TemplateError("Ref takes a logical id or parameter name (a string)", at)
        return self._scope.ref(args, at)

    def _get_att(self, args: Any, at: str) -> Any:
        if isinstance(args, str):
            args = args.split(".", 1)
        logical_id, attribute = self._arguments(args, at, 2, "[LogicalId, Attribute]")
        if not isinstance(logical_id, str):
            raise TemplateError("Fn::GetAtt's logical id must be a string", at)
        return self._scope.get_att(logical_id, self.resolve_str(attribute, child(at, 1)), at)

    def _sub(self, args: Any, at: str) -> str:
        """``Fn::Sub``: ``${Name}`` is a Ref, ``${Res.Attr}`` a GetAtt, ``${!Literal}`` is ``${Literal}``."""
        variables: dict[str, Any] = {}
        if isinstance(args, list):
            template, raw_variables = self._arguments(args, at, 2, "[String, {Variables}]")
            if not isinstance(raw_variables, dict):
                raise TemplateError("Fn::Sub's variables must be a mapping", child(at, 1))
            variables = {
                str(key): self.resolve(value, child(child(at, 1), str(key)))
                for key, value in raw_variables.items()
            }
        else:
            template = args
        if not isinstance(template, str):
            raise TemplateError("Fn::Sub takes a string or [String, {Variables}]", at)

        def substitute(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            return self._sub_variable(expression.strip(), variables, at)

        return _SUB_VARIABLE.sub(substitute, template)

    def _sub_variable(self, expression: str, variables: Mapping[str, Any], at: str) -> str:
        if expression in variables:
            value = variables[expression]
        elif "." in expression and not expression.startswith("AWS::"):
            logical_id, attribute = expression.split(".", 1)
            value = self._scope.get_att(logical_id, attribute, at)
        else:
            value = self._scope.ref(expression, at)
        if isinstance(value, list):
            raise TemplateError(f"Fn::Sub variable ${{{expression}}} is a list, not a string", at)
        return scalar_to_str(value, at)

    # -- strings and lists --

    def _join(self, args: Any, at: str) -> str:
        delimiter, items = self._arguments(args, at, 2, "[Delimiter, [Values]]")
        if not isinstance(delimiter, str):
            raise TemplateError("Fn::Join's delimiter must be a string", child(at, 0))
        values = self.resolve_list(items, child(at, 1))
        return delimiter.join(scalar_to_str(value, child(child(at, 1), i)) for i, value in enumerate(values))

    def _select(self, args: Any, at: str) -> Any:
        raw_index, items = self._arguments(args, at, 2, "[Index, [Values]]")
        index_text = self.resolve_str(raw_index, child(at, 0))
        if not index_text.isdigit():
            raise TemplateError(f"Fn::Select's index must be a non-negative integer, got {index_text!r}", at)
        values = self.resolve_list(items, child(at, 1))
        index = int(index_text)
        if index >= len(values):
            raise TemplateError(f"Fn::Select index {index} is out of range for {len(values)} values", at)
        return values[index]

    def _split(self, args: Any, at: str) -> list[str]:
        delimiter, source = self._arguments(args, at, 2, "[Delimiter, String]")
        if not isinstance(delimiter, str) or not delimiter:
            raise TemplateError("Fn::Split's delimiter must be a non-empty string", child(at, 0))
        return self.resolve_str(source, child(at, 1)).split(delimiter)

    def _base64(self, args: Any, at: str) -> str:
        return base64.b64encode(self.resolve_str(args, at).encode()).decode("ascii")

    def _get_azs(self, args: Any, at: str) -> list[str]:
        """``Fn::GetAZs``: the region's zones; locally always ``<region>a``..``c``."""
        region = self.resolve_str(args, at) or self._scope.region
        return [f"{region}{zone}" for zone in "abc"]

    def _length(self, args: Any, at: str) -> int:
        """``Fn::Length`` (AWS::LanguageExtensions): the number of items in a list."""
        return len(self.resolve_list(args, at))

    def _to_json_string(self, args: Any, at: str) -> str:
        """``Fn::ToJsonString`` (AWS::LanguageExtensions): compact JSON of a mapping or list."""
        return json.dumps(self.resolve(args, at), separators=(",", ":"))

    def _import_value(self, args: Any, at: str) -> Any:
        raise TemplateError("Fn::ImportValue is not supported locally (no other stacks exist)", at)

    def _find_in_map(self, args: Any, at: str) -> Any:
        """``Fn::FindInMap``: [MapName, TopLevelKey, SecondLevelKey(, {DefaultValue: x})]."""
        arguments = self._arguments(args, at, (3, 4), "[MapName, TopLevelKey, SecondLevelKey]")
        map_name, top_key, second_key = (
            self.resolve_str(argument, child(at, i)) for i, argument in enumerate(arguments[:3])
        )
        default: Any = NO_VALUE
        if len(arguments) == 4:
            if not isinstance(arguments[3], dict) or set(arguments[3]) != {"DefaultValue"}:
                raise TemplateError(
                    "Fn::FindInMap's fourth argument must be {DefaultValue: ...}", child(at, 3)
                )
            default = arguments[3]["DefaultValue"]
        top = self._scope.mapping(map_name, at).get(top_key)
        if isinstance(top, dict) and second_key in top:
            return top[second_key]
        if default is not NO_VALUE:
            return self.resolve(default, child(at, 3))
        raise TemplateError(f"Fn::FindInMap: Mappings.{map_name} has no {top_key}.{second_key}", at)

    # -- conditions --

    def _if(self, args: Any, at: str) -> Any:
        name, when_true, when_false = self._arguments(args, at, 3, "[ConditionName, IfTrue, IfFalse]")
        if not isinstance(name, str):
            raise TemplateError("Fn::If's first argument must be a condition name", child(at, 0))
        if self._scope.condition(name, child(at, 0)):
            return self.resolve(when_true, child(at, 1))
        return self.resolve(when_false, child(at, 2))

    def condition_value(self, expression: Any, at: str) -> bool:
        """A condition expression: Fn::Equals/And/Or/Not and ``{"Condition": Name}``."""
        if isinstance(expression, dict) and len(expression) == 1:
            ((name, args),) = expression.items()
            where = child(at, str(name))
            if name == "Condition":
                if not isinstance(args, str):
                    raise TemplateError("Condition takes a condition name", where)
                return self._scope.condition(args, where)
            if name == "Fn::Equals":
                left, right = self._arguments(args, where, 2, "[Value1, Value2]")
                return bool(
                    self._comparable(left, child(where, 0)) == self._comparable(right, child(where, 1))
                )
            if name in ("Fn::And", "Fn::Or"):
                operands = self._arguments(args, where, (2, 10), "a list of 2 to 10 conditions")
                values = [self.condition_value(item, child(where, i)) for i, item in enumerate(operands)]
                return all(values) if name == "Fn::And" else any(values)
            if name == "Fn::Not":
                (operand,) = self._arguments(args, where, 1, "[Condition]")
                return not self.condition_value(operand, child(where, 0))
        raise TemplateError(
            "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or {Condition: Name}", at
        )

    def _comparable(self, value: Any, at: str) -> Any:
        """Fn::Equals compares values as strings: ``!Equals [!Ref Count, 1]`` holds when Count is "1"."""
        resolved = self.resolve(value, at)
        if isinstance(resolved, list):
            return [scalar_to_str(item, at) for item in resolved]
        if isinstance(resolved, dict):
            return resolved
        return scalar_to_str(resolved, at)
