"""The template reader: SAM templates resolved into the AppModel the local cloud runs."""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localcloud.model import AppModel, KinesisEventSpec, OtherEventSpec, ScheduleEventSpec
from localcloud.template import TemplateError, load_template

REPO_ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = "123456789012"

Load = Callable[..., AppModel]


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """A project folder named "demo" with code and layer folders the templates point at."""
    root = tmp_path / "demo"
    for folder in ("functions/feed", "functions/enrich", "layers/core", "layers/deps"):
        (root / folder).mkdir(parents=True)
    return root


@pytest.fixture
def load(app_dir: Path) -> Load:
    """Writes ``template.yaml`` (dedented) into the project folder and loads it."""

    def write_and_load(text: str, overrides: dict[str, str] | None = None, **options: Any) -> AppModel:
        path = app_dir / "template.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return load_template(path, overrides, **options)

    return write_and_load


FUNCTION = """
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/feed/
      Handler: app.handler
      Runtime: python3.12
"""

PROJECT_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Globals:
  Function:
    Runtime: python3.12
    Timeout: 30
    MemorySize: 512
    Layers: [!Ref CoreLayer]
    Environment:
      Variables:
        STAGE: !Ref Stage
        TICKS_STREAM: !Ref TicksStream
Resources:
  CoreLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: !Sub core-${Stage}
      ContentUri: layers/core/
  TicksStream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: !Sub ticks-${Stage}
      ShardCount: 2
  DLQ:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
  FeedFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/feed/
      Handler: app.handler
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
  EnrichFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/enrich/
      Handler: app.handler
      Timeout: 60
      Environment:
        Variables:
          DLQ_URL: !Ref DLQ
      Events:
        Ticks:
          Type: Kinesis
          Properties:
            Stream: !GetAtt TicksStream.Arn
            StartingPosition: LATEST
            BatchSize: 500
            MaximumBatchingWindowInSeconds: 1
            BisectBatchOnFunctionError: true
            MaximumRetryAttempts: 3
            MaximumRecordAgeInSeconds: 3600
            FunctionResponseTypes: [ReportBatchItemFailures]
            DestinationConfig:
              OnFailure:
                Destination: !GetAtt DLQ.Arn
Outputs:
  StreamArn:
    Value: !GetAtt TicksStream.Arn
  DlqUrl:
    Value: !Ref DLQ
"""


# --- the project's templates ---


def test_the_repository_template_loads() -> None:
    model = load_template(REPO_ROOT / "template.yaml", stack_name="deltastream")

    assert (model.stack_name, model.region, model.account_id) == ("deltastream", "us-east-1", ACCOUNT)
    assert all(spec.code_uri.is_dir() for spec in model.functions.values())


def test_a_project_like_template_resolves_functions_streams_queues_and_outputs(
    load: Load, app_dir: Path
) -> None:
    model = load(PROJECT_TEMPLATE)

    dlq_url = f"http://127.0.0.1:4566/{ACCOUNT}/demo-DLQ"
    stream_arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/ticks-dev"
    feed, enrich = model.functions["FeedFunction"], model.functions["EnrichFunction"]
    assert model.stack_name == "demo"
    assert feed.function_name == "demo-FeedFunction"
    assert feed.arn == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:demo-FeedFunction"
    assert feed.code_uri == (app_dir / "functions/feed").resolve()
    assert (feed.timeout_s, feed.memory_mb, enrich.timeout_s) == (30, 512, 60)
    assert feed.layers == ((app_dir / "layers/core").resolve(),)
    assert feed.environment == {"STAGE": "dev", "TICKS_STREAM": "ticks-dev"}
    assert enrich.environment == {"STAGE": "dev", "TICKS_STREAM": "ticks-dev", "DLQ_URL": dlq_url}
    assert feed.events == (
        ScheduleEventSpec(
            name="Tick", kind="Schedule", expression="rate(1 minute)", rule_name="demo-FeedFunctionTick"
        ),
    )
    assert enrich.events == (
        KinesisEventSpec(
            name="Ticks",
            stream_arn=stream_arn,
            stream_name="ticks-dev",
            starting_position="LATEST",
            batch_size=500,
            maximum_batching_window_s=1.0,
            bisect_on_error=True,
            maximum_retry_attempts=3,
            maximum_record_age_s=3600,
            report_batch_item_failures=True,
            on_failure_arn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:demo-DLQ",
        ),
    )
    assert model.streams["TicksStream"].shard_count == 2
    assert model.queues["DLQ"].url == dlq_url
    assert model.queues["DLQ"].attributes == {"MessageRetentionPeriod": "1209600"}
    assert model.resources == {}  # layers, functions, streams and queues have their own specs
    assert model.outputs == {"StreamArn": stream_arn, "DlqUrl": dlq_url}


def test_region_account_stack_and_endpoint_options_flow_into_names(load: Load) -> None:
    model = load(
        PROJECT_TEMPLATE,
        region="eu-west-1",
        account_id="111122223333",
        stack_name="ds",
        aws_endpoint_url="http://localhost:5000/",
    )

    assert model.queues["DLQ"].url == "http://localhost:5000/111122223333/ds-DLQ"
    assert (
        model.functions["FeedFunction"].arn
        == "arn:aws:lambda:eu-west-1:111122223333:function:ds-FeedFunction"
    )


def test_json_templates_load(load: Load, app_dir: Path) -> None:
    template = {
        "Resources": {
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "q-${AWS::Region}"}}}
        }
    }

    model = load(json.dumps(template))

    assert model.queues["Q"].name == "q-us-east-1"


# --- parameters ---

PARAMETERS = """
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Size: {Type: Number, Default: 3, MinValue: 1, MaxValue: 10}
  Zones: {Type: CommaDelimitedList, Default: "a,b"}
  Required: {Type: String}
Resources:
  Topic: {Type: AWS::SNS::Topic}
Outputs:
  Stage: {Value: !Ref Stage}
  Size: {Value: !Ref Size}
  SecondZone: {Value: !Select [1, !Ref Zones]}
  Required: {Value: !Ref Required}
"""


def test_parameter_defaults_and_overrides(load: Load) -> None:
    model = load(PARAMETERS, {"Required": "x", "Stage": "prod", "Zones": "c,d,e"})

    assert model.outputs == {"Stage": "prod", "Size": "3", "SecondZone": "d", "Required": "x"}
    assert model.parameters == {"Stage": "prod", "Size": "3", "Zones": "c,d,e", "Required": "x"}


def test_a_parameter_without_default_or_override_is_an_error_naming_it(load: Load) -> None:
    with pytest.raises(
        TemplateError, match=r"template.yaml: Parameters.Required: parameter Required has no value"
    ):
        load(PARAMETERS)


def test_a_value_outside_allowed_values_is_an_error(load: Load) -> None:
    with pytest.raises(
        TemplateError, match=r"Parameters.Stage: parameter Stage: 'qa' is not one of the AllowedValues"
    ):
        load(PARAMETERS, {"Required": "x", "Stage": "qa"})


def test_a_number_parameter_is_validated(load: Load) -> None:
    with pytest.raises(TemplateError, match="'many' is not a Number"):
        load(PARAMETERS, {"Required": "x", "Size": "many"})
    with pytest.raises(TemplateError, match=r"outside \[MinValue, MaxValue\]"):
        load(PARAMETERS, {"Required": "x", "Size": "11"})


def test_an_override_for_an_undeclared_parameter_is_an_error(load: Load) -> None:
    with pytest.raises(TemplateError, match=r"does not declare: \['Typo'\]"):
        load(PARAMETERS, {"Required": "x", "Typo": "y"})


def test_pseudo_parameters(load: Load) -> None:
    model = load(
        """
        Resources:
          Topic: {Type: AWS::SNS::Topic}
        Outputs:
          All: {Value: !Sub "${AWS::Region} ${AWS::AccountId} ${AWS::StackName} ${AWS::Partition}"}
          Suffix: {Value: !Ref AWS::URLSuffix}
          StackId: {Value: !Ref AWS::StackId}
        """,
        stack_name="s1",
    )

    assert model.outputs["All"] == f"us-east-1 {ACCOUNT} s1 aws"
    assert model.outputs["Suffix"] == "amazonaws.com"
    assert model.outputs["StackId"].startswith(f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/s1/")
    again = load(
        "Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  I: {Value: !Ref AWS::StackId}\n",
        stack_name="s1",
    )
    assert again.outputs["I"] == model.outputs["StackId"]  # stable across loads


# --- conditions and mappings ---

CONDITIONS = """
Parameters:
  Stage: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  DevOrQa: !Or [!Condition IsDev, !Equals [!Ref Stage, qa]]
Mappings:
  Sizes:
    dev: {Shards: 1}
    prod: {Shards: 4}
Resources:
  ProdOnlyQueue:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: !FindInMap [Sizes, !Ref Stage, Shards]
      RetentionPeriodHours: !If [DevOrQa, 24, 168]
Outputs:
  Queue:
    Condition: IsProd
    Value: !Ref ProdOnlyQueue
  Mode:
    Value: !If [IsDev, development, production]
"""


def test_conditions_drop_resources_and_outputs_and_pick_if_branches(load: Load) -> None:
    model = load(CONDITIONS)

    assert model.queues == {}
    assert model.streams["Stream"].shard_count == 1
    assert model.streams["Stream"].retention_hours == 24
    assert model.outputs == {"Mode": "development"}


def test_conditions_hold_for_other_parameter_values(load: Load) -> None:
    model = load(CONDITIONS, {"Stage": "prod"})

    assert set(model.queues) == {"ProdOnlyQueue"}
    assert (model.streams["Stream"].shard_count, model.streams["Stream"].retention_hours) == (4, 168)
    assert model.outputs == {
        "Queue": f"http://127.0.0.1:4566/{ACCOUNT}/demo-ProdOnlyQueue",
        "Mode": "production",
    }


def test_referring_to_a_resource_whose_condition_is_false_is_an_error(load: Load) -> None:
    with pytest.raises(
        TemplateError, match=r"Outputs.Url.Value.Ref: ProdOnlyQueue is not created \(its Condition IsProd"
    ):
        load(CONDITIONS + "  Url: {Value: !Ref ProdOnlyQueue}\n")


def test_circular_conditions_are_an_error(load: Load) -> None:
    with pytest.raises(TemplateError, match="circular reference between conditions"):
        load(
            """
            Conditions:
              A: !Condition B
              B: !Not [!Condition A]
            Resources:
              T: {Type: AWS::SNS::Topic}
            """
        )


# --- Globals ---


def test_globals_merge_like_sam(load: Load, app_dir: Path) -> None:
    model = load(
        """
        Globals:
          Function:
            Runtime: python3.12
            Handler: app.handler
            Timeout: 10
            Layers: [!Ref CoreLayer]
            ReservedConcurrentExecutions: 5
            Environment:
              Variables: {SHARED: g, OVERRIDDEN: g}
        Resources:
          CoreLayer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layers/core}}
          DepsLayer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layers/deps}}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/feed
              Timeout: 20
              Layers: [!Ref DepsLayer]
              Environment:
                Variables: {OVERRIDDEN: local, OWN: 1}
          Plain:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: functions/enrich}
        """
    )

    fn, plain = model.functions["Fn"], model.functions["Plain"]
    assert fn.timeout_s == 20  # primitives: the resource wins
    assert fn.environment == {"SHARED": "g", "OVERRIDDEN": "local", "OWN": "1"}  # maps merge
    assert fn.layers == (
        (app_dir / "layers/core").resolve(),
        (app_dir / "layers/deps").resolve(),
    )  # lists: globals first
    assert (plain.timeout_s, plain.handler, plain.reserved_concurrency) == (10, "app.handler", 5)
    assert plain.layers == ((app_dir / "layers/core").resolve(),)


def test_ignore_globals_opts_a_function_out(load: Load) -> None:
    model = load(
        """
        Globals:
          Function: {Timeout: 10, MemorySize: 1024}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            IgnoreGlobals: [Timeout]
            Properties: {CodeUri: functions/feed, Handler: app.handler, Runtime: python3.12}
        """
    )

    assert (model.functions["Fn"].timeout_s, model.functions["Fn"].memory_mb) == (3, 1024)


def test_a_property_sam_does_not_allow_in_globals_is_an_error(load: Load) -> None:
    with pytest.raises(
        TemplateError, match=r"Globals.Function.FunctionName: 'FunctionName' is not a property SAM allows"
    ):
        load("Globals:\n  Function: {FunctionName: x}\nResources:\n" + FUNCTION)


# --- functions ---


def test_function_defaults_are_aws_defaults(load: Load) -> None:
    fn = load("Resources:" + FUNCTION).functions["Fn"]

    assert (fn.timeout_s, fn.memory_mb, fn.environment, fn.layers, fn.events) == (3, 128, {}, (), ())
    assert fn.reserved_concurrency is None


def test_environment_values_become_strings_like_cloudformation(load: Load) -> None:
    model = load(
        "Resources:"
        + FUNCTION
        + "      Environment:\n        Variables:\n"
        + "          {N: 5, F: 1.5, T: true, B: false, S: text, Drop: !Ref AWS::NoValue}\n"
    )

    assert model.functions["Fn"].environment == {"N": "5", "F": "1.5", "T": "true", "B": "false", "S": "text"}


def test_function_name_is_truncated_to_64_characters(load: Load) -> None:
    model = load("Resources:" + FUNCTION, stack_name="s" * 70)

    assert model.functions["Fn"].function_name == ("s" * 70 + "-Fn")[:64]


def test_external_layer_arns_are_skipped_with_a_warning(load: Load, caplog: pytest.LogCaptureFixture) -> None:
    external = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:1"

    with caplog.at_level(logging.WARNING, logger="localcloud"):
        model = load("Resources:" + FUNCTION + f"      Layers: [{external}]\n")

    assert model.functions["Fn"].layers == ()
    assert "is not in the template; skipped locally" in caplog.text


def test_a_missing_code_directory_is_an_error(load: Load) -> None:
    with pytest.raises(
        TemplateError, match=r"Resources.Fn.Properties.CodeUri: .*functions/nope is not a directory"
    ):
        load("Resources:" + FUNCTION.replace("functions/feed/", "functions/nope"))


def test_an_invalid_timeout_names_the_property(load: Load) -> None:
    with pytest.raises(
        TemplateError, match=r"Resources.Fn.Properties.Timeout: must be between 1 and 900, got 901"
    ):
        load("Resources:" + FUNCTION + "      Timeout: 901\n")


# --- events ---


def kinesis_function(properties: str) -> str:
    return (
        "Resources:\n  Ticks: {Type: AWS::Kinesis::Stream}\n"
        + FUNCTION
        + "      Events:\n        Ticks:\n          Type: Kinesis\n          Properties:\n"
        + textwrap.indent(textwrap.dedent(properties), " " * 12)
    )


def test_kinesis_event_defaults_are_lambdas(load: Load) -> None:
    model = load(kinesis_function("Stream: !GetAtt Ticks.Arn\nStartingPosition: TRIM_HORIZON\n"))

    assert model.functions["Fn"].events == (
        KinesisEventSpec(
            name="Ticks",
            stream_arn=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/demo-Ticks",
            stream_name="demo-Ticks",
            starting_position="TRIM_HORIZON",
        ),
    )


def test_kinesis_at_timestamp_takes_a_timestamp(load: Load) -> None:
    model = load(
        kinesis_function(
            "Stream: !GetAtt Ticks.Arn\nStartingPosition: AT_TIMESTAMP\n"
            "StartingPositionTimestamp: 1700000000\n"
        )
    )

    event = model.functions["Fn"].events[0]
    assert isinstance(event, KinesisEventSpec)
    assert event.starting_position_timestamp == 1_700_000_000.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("BatchSize: 0", r"Events.Ticks.Properties.BatchSize: must be between 1 and 10000, got 0"),
        ("BatchSize: 10001", r"BatchSize: must be between 1 and 10000"),
        ("MaximumBatchingWindowInSeconds: 301", r"MaximumBatchingWindowInSeconds: must be between 0 and 300"),
        ("MaximumRetryAttempts: -2", r"MaximumRetryAttempts: must be between -1 and 10000"),
        ("MaximumRecordAgeInSeconds: 59", r"MaximumRecordAgeInSeconds: must be -1 or between 60 and 604800"),
        ("MaximumRecordAgeInSeconds: 604801", r"MaximumRecordAgeInSeconds: must be between -1 and 604800"),
        ("FunctionResponseTypes: [Everything]", r"only ReportBatchItemFailures is allowed"),
        ("BisectBatchOnFunctionError: maybe", r"BisectBatchOnFunctionError: expected a boolean"),
        ("ParallelizationFactor: 11", r"ParallelizationFactor: must be between 1 and 10"),
    ],
)
def test_kinesis_event_values_outside_lambdas_limits_are_errors(load: Load, extra: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message) as raised:
        load(kinesis_function(f"Stream: !GetAtt Ticks.Arn\nStartingPosition: LATEST\n{extra}\n"))

    assert "Resources.Fn.Properties.Events.Ticks.Properties." in str(raised.value)


def test_kinesis_event_without_starting_position_is_an_error(load: Load) -> None:
    with pytest.raises(
        TemplateError, match=r"Events.Ticks.Properties.StartingPosition: StartingPosition is required"
    ):
        load(kinesis_function("Stream: !GetAtt Ticks.Arn\n"))


def test_kinesis_at_timestamp_without_a_timestamp_is_an_error(load: Load) -> None:
    with pytest.raises(
        TemplateError, match="StartingPositionTimestamp: required when StartingPosition is AT_TIMESTAMP"
    ):
        load(kinesis_function("Stream: !GetAtt Ticks.Arn\nStartingPosition: AT_TIMESTAMP\n"))


def test_kinesis_stream_must_be_a_stream_arn(load: Load) -> None:
    with pytest.raises(TemplateError, match="Stream: expected a Kinesis stream ARN, got 'demo-Ticks'"):
        load(kinesis_function("Stream: !Ref Ticks\nStartingPosition: LATEST\n"))


def test_kinesis_event_values_from_parameters_are_converted(load: Load) -> None:
    template = "Parameters:\n  Batch: {Type: Number, Default: 25}\n" + kinesis_function(
        "Stream: !GetAtt Ticks.Arn\nStartingPosition: LATEST\nBatchSize: !Ref Batch\nEnabled: 'false'\n"
    )

    event = load(template).functions["Fn"].events[0]

    assert isinstance(event, KinesisEventSpec)
    assert (event.batch_size, event.enabled) == (25, False)


def schedule_function(event_type: str, properties: str) -> str:
    return (
        "Resources:"
        + FUNCTION
        + f"      Events:\n        Every:\n          Type: {event_type}\n          Properties:\n"
        + textwrap.indent(textwrap.dedent(properties), " " * 12)
    )


def test_schedule_event_with_input_name_and_disabled_state(load: Load) -> None:
    model = load(
        schedule_function(
            "Schedule", "Schedule: cron(0/5 * * * ? *)\nInput: '{\"a\": 1}'\nName: every5\nState: DISABLED\n"
        )
    )

    assert model.functions["Fn"].events == (
        ScheduleEventSpec(
            name="Every",
            kind="Schedule",
            expression="cron(0/5 * * * ? *)",
            input='{"a": 1}',
            enabled=False,
            rule_name="every5",
        ),
    )


def test_schedule_event_enabled_false_disables_it(load: Load) -> None:
    event = (
        load(schedule_function("Schedule", "Schedule: rate(5 minutes)\nEnabled: false\n"))
        .functions["Fn"]
        .events[0]
    )

    assert isinstance(event, ScheduleEventSpec)
    assert event.enabled is False


def test_schedule_v2_event(load: Load) -> None:
    event = (
        load(
            schedule_function(
                "ScheduleV2", "ScheduleExpression: rate(1 hour)\nScheduleExpressionTimezone: Europe/Paris\n"
            )
        )
        .functions["Fn"]
        .events[0]
    )

    assert event == ScheduleEventSpec(
        name="Every",
        kind="ScheduleV2",
        expression="rate(1 hour)",
        timezone="Europe/Paris",
        rule_name="demo-FnEvery",
    )


def test_a_schedule_that_is_not_rate_or_cron_is_an_error(load: Load) -> None:
    with pytest.raises(
        TemplateError, match=r"Events.Every.Properties.Schedule: expected rate\(...\), cron\(...\)"
    ):
        load(schedule_function("Schedule", "Schedule: every minute\n"))


def test_other_event_types_are_kept_resolved(load: Load) -> None:
    event = (
        load(schedule_function("Api", "Path: !Sub /${AWS::Region}/x\nMethod: get\n"))
        .functions["Fn"]
        .events[0]
    )

    assert event == OtherEventSpec(
        name="Every", type="Api", properties={"Path": "/us-east-1/x", "Method": "get"}
    )


# --- streams, queues, other resources ---


def test_on_demand_streams_start_with_four_shards(load: Load) -> None:
    model = load(
        "Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n"
        "    Properties: {StreamModeDetails: {StreamMode: ON_DEMAND}}\n"
    )

    assert model.streams["S"].shard_count == 4


def test_fifo_queue_names_and_createqueue_attributes(load: Load) -> None:
    model = load(
        """
        Resources:
          Dlq: {Type: AWS::SQS::Queue}
          Orders:
            Type: AWS::SQS::Queue
            Properties:
              FifoQueue: true
              ContentBasedDeduplication: true
              VisibilityTimeout: 60
              RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}
        Outputs:
          Name: {Value: !GetAtt Orders.QueueName}
          Url: {Value: !GetAtt Orders.QueueUrl}
        """
    )

    orders = model.queues["Orders"]
    assert (orders.name, orders.fifo) == ("demo-Orders.fifo", True)
    assert orders.attributes == {
        "FifoQueue": "true",
        "ContentBasedDeduplication": "true",
        "VisibilityTimeout": "60",
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:demo-Dlq", "maxReceiveCount": 3},
            separators=(",", ":"),
        ),
    }
    assert model.outputs == {
        "Name": "demo-Orders.fifo",
        "Url": f"http://127.0.0.1:4566/{ACCOUNT}/demo-Orders.fifo",
    }


def test_ref_and_getatt_of_other_resource_types(load: Load) -> None:
    model = load(
        """
        Resources:
          Bucket: {Type: AWS::S3::Bucket}
          Table: {Type: AWS::DynamoDB::Table, Properties: {TableName: prices}}
          Topic: {Type: AWS::SNS::Topic}
          Role: {Type: AWS::IAM::Role}
          Secret: {Type: AWS::SecretsManager::Secret, Properties: {Name: db}}
          Param: {Type: AWS::SSM::Parameter, Properties: {Name: /ds/x, Type: String, Value: v}}
          Rest: {Type: AWS::Serverless::Api, Properties: {StageName: Prod}}
          Ws: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET}}
          Alarm: {Type: AWS::CloudWatch::Alarm}
        Outputs:
          Bucket: {Value: !Ref Bucket}
          BucketArn: {Value: !GetAtt Bucket.Arn}
          TableStream: {Value: !GetAtt Table.StreamArn}
          Topic: {Value: !Ref Topic}
          TopicName: {Value: !GetAtt Topic.TopicName}
          RoleArn: {Value: !GetAtt Role.Arn}
          Secret: {Value: !Ref Secret}
          ParamValue: {Value: !GetAtt Param.Value}
          Param: {Value: !Ref Param}
          Rest: {Value: !Ref Rest}
          WsEndpoint: {Value: !GetAtt Ws.ApiEndpoint}
          Alarm: {Value: !Ref Alarm}
          AlarmArn: {Value: !GetAtt Alarm.Arn}
        """,
        stack_name="Demo",
    )

    out = model.outputs
    assert out["Bucket"] == "demo-bucket"
    assert out["BucketArn"] == "arn:aws:s3:::demo-bucket"
    assert out["TableStream"].startswith(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/prices/stream/")
    assert out["Topic"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:Demo-Topic"
    assert out["TopicName"] == "Demo-Topic"
    assert out["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/Demo-Role"
    assert out["Secret"].startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-")
    assert (out["Param"], out["ParamValue"]) == ("/ds/x", "v")
    assert len(out["Rest"]) == 10
    assert out["Rest"].isalnum()
    assert out["WsEndpoint"].startswith("wss://")
    assert out["WsEndpoint"].endswith(".execute-api.us-east-1.amazonaws.com")
    assert out["Alarm"] == "Demo-Alarm"
    assert out["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:Alarm"
    assert model.resources["Topic"].arn == out["Topic"]
    assert model.resources["Param"].properties == {"Name": "/ds/x", "Type": "String", "Value": "v"}


def test_cloudfront_ids_and_domain_resolve_though_not_emulated(load: Load) -> None:
    model = load(
        """
        Resources:
          Oac: {Type: AWS::CloudFront::OriginAccessControl}
          Cdn:
            Type: AWS::CloudFront::Distribution
            Properties: {DistributionConfig: {Origins: [{Id: o, OriginAccessControlId: !GetAtt Oac.Id}]}}
        Outputs:
          Cdn: {Value: !Ref Cdn}
          CdnId: {Value: !GetAtt Cdn.Id}
          Url: {Value: !Sub "https://${Cdn.DomainName}/"}
          SourceArn: {Value: !Sub "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Cdn}"}
          Oac: {Value: !Ref Oac}
        """
    )

    out = model.outputs
    assert out["Cdn"] == out["CdnId"]
    assert out["Cdn"].startswith("E")
    assert len(out["Cdn"]) == 14
    assert out["Url"] == f"https://d{out['Cdn'][1:].lower()}.cloudfront.net/"
    assert out["SourceArn"] == f"arn:aws:cloudfront::{ACCOUNT}:distribution/{out['Cdn']}"
    assert model.resources["Cdn"].arn == out["SourceArn"]
    origin = model.resources["Cdn"].properties["DistributionConfig"]["Origins"][0]
    assert origin["OriginAccessControlId"] == out["Oac"] != out["Cdn"]


def test_names_and_ids_are_the_same_on_every_load(load: Load) -> None:
    template = (
        "Resources:\n  Rest: {Type: AWS::Serverless::Api}\n  S: {Type: AWS::SecretsManager::Secret}\n"
        "Outputs:\n  R: {Value: !Ref Rest}\n  S: {Value: !Ref S}\n"
    )

    assert load(template).outputs == load(template).outputs


def test_sam_implicit_resources_can_be_referred_to(load: Load) -> None:
    model = load(
        "Resources:"
        + FUNCTION
        + "      Events:\n        Get: {Type: Api, Properties: {Path: /, Method: get}}\n"
        + "Outputs:\n  Url: {Value: !Sub 'https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod'}\n"
        + "  Role: {Value: !GetAtt FnRole.Arn}\n"
    )

    assert model.outputs["Url"].endswith(".execute-api.us-east-1.amazonaws.com/Prod")
    assert model.outputs["Role"] == f"arn:aws:iam::{ACCOUNT}:role/demo-FnRole"


# --- errors name the file, the resource and the property path ---


def test_an_unknown_intrinsic_names_the_file_resource_and_path(load: Load) -> None:
    with pytest.raises(TemplateError) as raised:
        load(
            "Resources:" + FUNCTION + '      Environment:\n        Variables:\n          X: {"Fn::Foo": 1}\n'
        )

    assert str(raised.value) == (
        "template.yaml: Resources.Fn.Properties.Environment.Variables.X.Fn::Foo: unknown intrinsic Fn::Foo"
    )


def test_a_ref_to_an_unknown_name_names_the_path(load: Load) -> None:
    with pytest.raises(TemplateError) as raised:
        load("Resources:" + FUNCTION + "      Environment:\n        Variables:\n          X: !Ref Nope\n")

    assert str(raised.value) == (
        "template.yaml: Resources.Fn.Properties.Environment.Variables.X.Ref: "
        "Nope is not a parameter or resource of this template"
    )


def test_an_unknown_attribute_names_the_resource_attribute_and_type(load: Load) -> None:
    with pytest.raises(TemplateError, match=r"Fn::GetAtt Q.Nope: AWS::SQS::Queue has no attribute 'Nope'"):
        load("Resources:\n  Q: {Type: AWS::SQS::Queue}\nOutputs:\n  X: {Value: !GetAtt Q.Nope}\n")


def test_a_generic_resources_non_arn_attribute_is_an_error(load: Load) -> None:
    with pytest.raises(TemplateError, match=r"AWS::CloudWatch::Alarm has no attribute 'Whatever'"):
        load("Resources:\n  A: {Type: AWS::CloudWatch::Alarm}\nOutputs:\n  X: {Value: !GetAtt A.Whatever}\n")


def test_import_value_is_a_clear_error(load: Load) -> None:
    with pytest.raises(
        TemplateError,
        match=r"Resources.Fn.Properties.Environment.Variables.V.Fn::ImportValue: .*not supported",
    ):
        load(
            "Resources:"
            + FUNCTION
            + "      Environment:\n        Variables:\n          V: !ImportValue shared\n"
        )


def test_circular_names_are_an_error(load: Load) -> None:
    with pytest.raises(TemplateError, match="circular reference"):
        load(
            "Resources:\n"
            "  A: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt B.QueueName}}\n"
            "  B: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt A.QueueName}}\n"
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources: []\n", "template.yaml: Resources: must be a mapping"),
        ("Resources:\n  A: 5\n", "template.yaml: Resources.A: a resource needs a Type"),
        (
            "Resources:\n  A: {Type: AWS::SNS::Topic, Properties: [1]}\n",
            "Resources.A.Properties: Properties must be a mapping",
        ),
        ("- just a list\n", "template.yaml: a template must be a mapping"),
        (
            "Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  O: {Value: !Select [a, [1]]}\n",
            "index must be",
        ),
        (
            "Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  O: {Value: !FindInMap [M, a, b, 7]}\n",
            "Outputs.O.Value.Fn::FindInMap[3]: ",
        ),
    ],
)
def test_malformed_templates_are_template_errors(load: Load, text: str, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        load(text)

    assert message in str(raised.value)


def test_a_missing_file_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read the template"):
        load_template(tmp_path / "absent.yaml")
