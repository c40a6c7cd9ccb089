"""CloudFormation's YAML short tags and intrinsic functions, evaluated against a fake scope."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pytest

from localcloud.intrinsics import NO_VALUE, Resolver, TemplateError, parse_template_text


class FakeScope:
    """Parameters, resources and conditions as plain dicts."""

    region = "eu-west-1"

    def __init__(self) -> None:
        self.refs: dict[str, Any] = {
            "AWS::Region": "eu-west-1",
            "AWS::NoValue": NO_VALUE,
            "Stage": "dev",
            "Subnets": ["a", "b", "c"],
            "Queue": "http://q",
        }
        self.attributes = {("Stream", "Arn"): "arn:aws:kinesis:eu-west-1:1:stream/ticks"}
        self.conditions = {"IsProd": False, "IsDev": True}
        self.mappings = {"Sizes": {"dev": {"Memory": 256}, "prod": {"Memory": 1024}}}

    def ref(self, name: str, at: str) -> Any:
        if name not in self.refs:
            raise TemplateError(f"unknown {name}", at)
        return self.refs[name]

    def get_att(self, logical_id: str, attribute: str, at: str) -> Any:
        return self.attributes[(logical_id, attribute)]

    def condition(self, name: str, at: str) -> bool:
        return self.conditions[name]

    def mapping(self, name: str, at: str) -> Mapping[str, Any]:
        return self.mappings[name]


def resolve_yaml(text: str) -> Any:
    """GIVEN a YAML document ``Value: ...`` WHEN resolved THEN the value."""
    document = parse_template_text(text)
    return Resolver(FakeScope()).resolve(document["Value"], "Outputs.X.Value")


# --- parsing ---


def test_short_tags_become_long_form_intrinsics() -> None:
    document = parse_template_text(
        "A: !Ref X\nB: !GetAtt R.Arn\nC: !GetAtt [R, Arn]\n"
        "D: !Sub '${X}'\nE: !Join [',', [a, b]]\nF: !Condition C\n"
    )

    assert document == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["R", "Arn"]},
        "C": {"Fn::GetAtt": ["R", "Arn"]},
        "D": {"Fn::Sub": "${X}"},
        "E": {"Fn::Join": [",", ["a", "b"]]},
        "F": {"Condition": "C"},
    }


def test_getatt_with_a_dotted_attribute_splits_at_the_first_dot() -> None:
    assert parse_template_text("A: !GetAtt Db.Endpoint.Address") == {
        "A": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}
    }


def test_dates_stay_strings_as_in_cloudformation() -> None:
    assert parse_template_text("AWSTemplateFormatVersion: 2010-09-09") == {
        "AWSTemplateFormatVersion": "2010-09-09"
    }


def test_json_templates_are_read() -> None:
    assert parse_template_text('{"A": {"Fn::Sub": "x"}}') == {"A": {"Fn::Sub": "x"}}


def test_duplicate_keys_are_an_error() -> None:
    with pytest.raises(TemplateError, match="duplicate key 'A'"):
        parse_template_text("A: 1\nA: 2\n")


def test_invalid_yaml_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="invalid YAML"):
        parse_template_text("A: [unclosed\n")


# --- functions ---


def test_ref_returns_a_parameter_value() -> None:
    assert resolve_yaml("Value: !Ref Stage") == "dev"


def test_sub_replaces_pseudo_parameters_refs_and_attributes() -> None:
    assert resolve_yaml("Value: !Sub '${AWS::Region}/${Stage}/${Stream.Arn}'") == (
        "eu-west-1/dev/arn:aws:kinesis:eu-west-1:1:stream/ticks"
    )


def test_sub_keeps_escaped_literals() -> None:
    assert resolve_yaml("Value: !Sub '${!Literal}-${Stage}'") == "${Literal}-dev"


def test_sub_with_variables_uses_them_first() -> None:
    assert (
        resolve_yaml("Value: !Sub ['${Stage}-${Name}', {Name: !Ref Queue, Stage: prod}]") == "prod-http://q"
    )


def test_sub_with_a_list_variable_is_an_error() -> None:
    with pytest.raises(TemplateError, match=r"\$\{Subnets\} is a list"):
        resolve_yaml("Value: !Sub '${Subnets}'")


def test_long_form_sub_and_ref_resolve_like_short_tags() -> None:
    assert resolve_yaml('Value: {"Fn::Sub": "${Stage}-x"}') == "dev-x"
    assert resolve_yaml('Value: {"Ref": "Stage"}') == "dev"


def test_a_mapping_with_two_keys_is_data_not_an_intrinsic() -> None:
    assert resolve_yaml("Value: {Ref: a, Other: b}") == {"Ref": "a", "Other": "b"}


def test_join_nested_intrinsics_and_numbers() -> None:
    assert (
        resolve_yaml("Value: !Join ['-', [!Ref Stage, !Select [1, !Ref Subnets], 42, true]]")
        == "dev-b-42-true"
    )


def test_split_then_select() -> None:
    assert resolve_yaml("Value: !Select [2, !Split [',', 'x,y,z']]") == "z"


def test_select_out_of_range_is_an_error() -> None:
    with pytest.raises(TemplateError, match="index 5 is out of range"):
        resolve_yaml("Value: !Select [5, [a, b]]")


def test_if_picks_the_branch_of_the_condition_and_never_evaluates_the_other() -> None:
    assert resolve_yaml("Value: !If [IsDev, small, !Ref DoesNotExist]") == "small"


def test_if_with_novalue_removes_the_key_and_list_item() -> None:
    resolved = resolve_yaml(
        "Value: {Keep: 1, Drop: !If [IsProd, x, !Ref AWS::NoValue], List: [a, !Ref AWS::NoValue, b]}"
    )

    assert resolved == {"Keep": 1, "List": ["a", "b"]}


def test_equals_compares_as_strings() -> None:
    assert resolve_yaml("Value: !Equals [!Ref Stage, dev]") is True
    assert resolve_yaml("Value: !Equals ['1', 1]") is True


def test_and_or_not_and_condition_references_combine() -> None:
    expression = parse_template_text(
        "C: !And [!Condition IsDev, !Not [!Condition IsProd], !Or [!Equals [a, b], !Equals [c, c]]]"
    )

    assert Resolver(FakeScope()).condition_value(expression["C"], "Conditions.C") is True


def test_a_condition_operand_that_is_not_a_condition_is_an_error() -> None:
    expression = parse_template_text("C: !Or [!Equals [a, b], yes-please]")

    with pytest.raises(TemplateError, match=r"Conditions.C.Fn::Or\[1\]: a condition must be"):
        Resolver(FakeScope()).condition_value(expression["C"], "Conditions.C")


def test_find_in_map_with_intrinsic_keys() -> None:
    assert resolve_yaml("Value: !FindInMap [Sizes, !Ref Stage, Memory]") == 256


def test_find_in_map_missing_key_is_an_error() -> None:
    with pytest.raises(TemplateError, match=r"Mappings.Sizes has no qa.Memory"):
        resolve_yaml("Value: !FindInMap [Sizes, qa, Memory]")


def test_find_in_map_default_value() -> None:
    assert resolve_yaml("Value: !FindInMap [Sizes, qa, Memory, {DefaultValue: 128}]") == 128


def test_base64_encodes_the_resolved_string() -> None:
    assert base64.b64decode(resolve_yaml("Value: !Base64 {'Fn::Sub': 'stage=${Stage}'}")) == b"stage=dev"


def test_get_azs_defaults_to_the_region() -> None:
    assert resolve_yaml("Value: !GetAZs ''") == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def test_import_value_is_not_supported_locally() -> None:
    with pytest.raises(TemplateError, match="Fn::ImportValue is not supported locally"):
        resolve_yaml("Value: !ImportValue shared-vpc")


def test_unknown_intrinsic_names_the_function_and_the_path() -> None:
    with pytest.raises(TemplateError) as raised:
        resolve_yaml('Value: {Env: {X: {"Fn::Foo": 1}}}')

    assert str(raised.value) == "Outputs.X.Value.Env.X.Fn::Foo: unknown intrinsic Fn::Foo"


def test_wrong_argument_shapes_are_clear_errors() -> None:
    with pytest.raises(TemplateError, match=r"Fn::Join: expected \[Delimiter, \[Values\]\]"):
        resolve_yaml("Value: !Join ','")
