"""What ``Ref`` and ``Fn::GetAtt`` return for each resource type, and the physical names behind them.

CloudFormation names a resource that has no explicit name ``<stack>-<LogicalId>-<random>``; locally the
random suffix is dropped so that names, ARNs and queue URLs are the same on every start. Values follow
each type's "Return values" section in the CloudFormation resource reference (e.g. ``AWS::SQS::Queue``:
Ref is the queue URL, ``Arn`` and ``QueueName`` are attributes; ``AWS::SNS::Topic``: Ref is the ARN).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from localcloud.intrinsics import TemplateError, scalar_to_str

__all__ = ["Resource", "StackContext", "arn_of", "get_att_value", "physical_name", "ref_value"]


@dataclass(frozen=True, slots=True)
class StackContext:
    """Where the stack "is deployed": the values of the pseudo parameters and the local endpoint."""

    stack_name: str
    region: str
    account_id: str
    aws_endpoint_url: str

    @property
    def partition(self) -> str:
        """``AWS::Partition``: aws, aws-cn or aws-us-gov, from the region."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def url_suffix(self) -> str:
        """``AWS::URLSuffix``."""
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    @property
    def stack_id(self) -> str:
        """``AWS::StackId``: a stack ARN whose UUID is derived from the stack name (stable)."""
        stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"localcloud:{self.account_id}:{self.stack_name}")
        return self.arn("cloudformation", f"stack/{self.stack_name}/{stack_uuid}")

    def arn(self, service: str, resource: str, *, regional: bool = True, with_account: bool = True) -> str:
        region = self.region if regional else ""
        account = self.account_id if with_account else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource as Ref/GetAtt see it: its identity plus access to its resolved properties."""

    context: StackContext
    logical_id: str
    type: str
    name: str  # the physical name
    prop: Callable[[str], Any] = field(repr=False)  # a resolved property, or None when absent


@dataclass(frozen=True, slots=True)
class _Kind:
    name_property: str | None = None  # the property that sets the physical name
    max_length: int = 255  # generated names are truncated to the type's limit
    lowercase: bool = False  # S3 bucket names
    ref: Callable[[Resource], str] = lambda r: r.name
    attributes: dict[str, Callable[[Resource], Any]] = field(default_factory=dict)
    arn: Callable[[Resource], str] | None = None  # when not the ``Arn`` attribute (SNS: Ref is the ARN)
    named_by_id: bool = False  # APIs: the physical "name" is the generated API id


def _short_id(resource: Resource, salt: str = "") -> str:
    """A stable 10-character id (API Gateway style) for ``resource``."""
    seed = f"{resource.context.stack_name}/{resource.logical_id}{salt}".encode()
    return hashlib.sha256(seed).hexdigest()[:10]


def _function_arn(r: Resource) -> str:
    return r.context.arn("lambda", f"function:{r.name}")


def _layer_arn(r: Resource) -> str:
    return r.context.arn("lambda", f"layer:{r.name}:1")


def _stream_arn(r: Resource) -> str:
    return r.context.arn("kinesis", f"stream/{r.name}")


def _queue_arn(r: Resource) -> str:
    return r.context.arn("sqs", r.name)


def queue_url(context: StackContext, name: str) -> str:
    """A queue's URL on the local endpoint: ``<endpoint>/<account>/<name>``, as moto serves it."""
    return f"{context.aws_endpoint_url.rstrip('/')}/{context.account_id}/{name}"


def _bucket_attributes() -> dict[str, Callable[[Resource], Any]]:
    return {
        "Arn": lambda r: f"arn:{r.context.partition}:s3:::{r.name}",
        "DomainName": lambda r: f"{r.name}.s3.{r.context.url_suffix}",
        "RegionalDomainName": lambda r: f"{r.name}.s3.{r.context.region}.{r.context.url_suffix}",
        "DualStackDomainName": lambda r: f"{r.name}.s3.dualstack.{r.context.region}.{r.context.url_suffix}",
        "WebsiteURL": lambda r: f"http://{r.name}.s3-website-{r.context.region}.{r.context.url_suffix}",
    }


def _table_attributes() -> dict[str, Callable[[Resource], Any]]:
    return {
        "Arn": lambda r: r.context.arn("dynamodb", f"table/{r.name}"),
        # A stream label is a creation timestamp; a fixed one keeps the ARN stable.
        "StreamArn": lambda r: r.context.arn("dynamodb", f"table/{r.name}/stream/1970-01-01T00:00:00.000"),
    }


def _role_arn(r: Resource) -> str:
    path = r.prop("Path") or "/"
    return r.context.arn("iam", f"role{path}{r.name}", regional=False)


def _secret_arn(r: Resource) -> str:
    # Secrets Manager appends six random characters to a secret's ARN; here they are derived.
    return r.context.arn("secretsmanager", f"secret:{r.name}-{_short_id(r)[:6]}")


def _api_v2_endpoint(r: Resource) -> str:
    scheme = "wss" if r.prop("ProtocolType") == "WEBSOCKET" else "https"
    return f"{scheme}://{_short_id(r)}.execute-api.{r.context.region}.{r.context.url_suffix}"


def _cloudfront_id(r: Resource) -> str:
    """A stable id shaped like CloudFront's (``E`` and 13 upper-case characters)."""
    seed = f"{r.context.stack_name}/{r.logical_id}".encode()
    return "E" + hashlib.sha256(seed).hexdigest()[:13].upper()


def _distribution_arn(r: Resource) -> str:
    return r.context.arn("cloudfront", f"distribution/{_cloudfront_id(r)}", regional=False)


_FUNCTION: Final = _Kind("FunctionName", 64, attributes={"Arn": _function_arn})
_LAYER: Final = _Kind("LayerName", 140, ref=_layer_arn, arn=_layer_arn)
_REST_API: Final = _Kind(
    ref=_short_id,
    named_by_id=True,
    attributes={"RootResourceId": lambda r: _short_id(r, "/")[:10], "RestApiId": _short_id},
)
_HTTP_API: Final = _Kind(
    ref=_short_id, named_by_id=True, attributes={"ApiEndpoint": _api_v2_endpoint, "ApiId": _short_id}
)
_TABLE: Final = _Kind("TableName", 255, attributes=_table_attributes())

_KINDS: Final[dict[str, _Kind]] = {
    "AWS::Serverless::Function": _FUNCTION,
    "AWS::Lambda::Function": _FUNCTION,
    "AWS::Serverless::LayerVersion": _LAYER,
    "AWS::Lambda::LayerVersion": _LAYER,
    "AWS::Kinesis::Stream": _Kind("Name", 128, attributes={"Arn": _stream_arn}),
    "AWS::SQS::Queue": _Kind(
        "QueueName",
        80,
        ref=lambda r: queue_url(r.context, r.name),
        attributes={
            "Arn": _queue_arn,
            "QueueName": lambda r: r.name,
            "QueueUrl": lambda r: queue_url(r.context, r.name),
        },
    ),
    "AWS::S3::Bucket": _Kind("BucketName", 63, lowercase=True, attributes=_bucket_attributes()),
    "AWS::DynamoDB::Table": _TABLE,
    "AWS::Serverless::SimpleTable": _TABLE,
    "AWS::SNS::Topic": _Kind(
        "TopicName",
        256,
        ref=lambda r: r.context.arn("sns", r.name),
        arn=lambda r: r.context.arn("sns", r.name),
        attributes={"TopicArn": lambda r: r.context.arn("sns", r.name), "TopicName": lambda r: r.name},
    ),
    "AWS::IAM::Role": _Kind(
        "RoleName",
        64,
        attributes={"Arn": _role_arn, "RoleId": lambda r: "AROA" + _short_id(r).upper()},
    ),
    "AWS::Logs::LogGroup": _Kind(
        "LogGroupName",
        512,
        attributes={"Arn": lambda r: r.context.arn("logs", f"log-group:{r.name}:*")},
    ),
    "AWS::SecretsManager::Secret": _Kind(
        "Name", 512, ref=_secret_arn, attributes={"Id": _secret_arn}, arn=_secret_arn
    ),
    "AWS::SSM::Parameter": _Kind(
        "Name",
        2048,
        attributes={"Type": lambda r: r.prop("Type"), "Value": lambda r: r.prop("Value")},
    ),
    "AWS::Serverless::Api": _REST_API,
    "AWS::ApiGateway::RestApi": _REST_API,
    "AWS::ApiGatewayV2::Api": _HTTP_API,
    "AWS::Serverless::HttpApi": _HTTP_API,
    # Not emulated (provisioning skips them); their ids and domain only need to resolve.
    "AWS::CloudFront::Distribution": _Kind(
        ref=_cloudfront_id,
        arn=_distribution_arn,
        attributes={
            "Id": _cloudfront_id,
            "DomainName": lambda r: f"d{_cloudfront_id(r)[1:].lower()}.cloudfront.net",
        },
    ),
    "AWS::CloudFront::OriginAccessControl": _Kind(ref=_cloudfront_id, attributes={"Id": _cloudfront_id}),
    # Ref of a v2 stage is its StageName (e.g. in !Sub https://${Api}.execute-api.../${Stage}).
    "AWS::ApiGatewayV2::Stage": _Kind("StageName", 128),
}


def _kind(resource_type: str) -> _Kind:
    return _KINDS.get(resource_type, _Kind())


def physical_name(
    context: StackContext, logical_id: str, resource_type: str, prop: Callable[[str], Any], at: str
) -> str:
    """The resource's name: its name property, else ``<stack>-<LogicalId>`` cut to the type's limit.

    FIFO queues get the ``.fifo`` suffix SQS requires; bucket names are lower case.
    """
    kind = _kind(resource_type)
    explicit = prop(kind.name_property) if kind.name_property else None
    if explicit is not None:
        return scalar_to_str(explicit, f"{at}.{kind.name_property}")
    if kind.named_by_id:
        return _short_id(Resource(context, logical_id, resource_type, "", prop))
    generated = f"{context.stack_name}-{logical_id}"
    if kind.lowercase:
        generated = generated.lower()
    if resource_type == "AWS::SQS::Queue" and _is_true(prop("FifoQueue")):
        return generated[: kind.max_length - len(".fifo")] + ".fifo"
    return generated[: kind.max_length]


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def ref_value(resource: Resource) -> str:
    """What ``!Ref <LogicalId>`` returns for the resource."""
    return _kind(resource.type).ref(resource)


def arn_of(resource: Resource) -> str:
    """The resource's ARN (``Fn::GetAtt X.Arn``, or its Ref where the type's Ref is the ARN)."""
    kind = _kind(resource.type)
    if kind.arn is not None:
        return kind.arn(resource)
    if "Arn" in kind.attributes:
        return str(kind.attributes["Arn"](resource))
    return _generic_arn(resource)


def _generic_arn(r: Resource) -> str:
    """Types the local cloud has no table for: ``arn:aws:<service>:<region>:<account>:<LogicalId>``."""
    parts = r.type.split("::")
    service = parts[1].lower() if len(parts) == 3 and parts[0] == "AWS" else "cloudformation"
    return r.context.arn(service, r.logical_id)


def get_att_value(resource: Resource, attribute: str, at: str) -> Any:
    """What ``!GetAtt <LogicalId>.<attribute>`` returns; unknown attributes are errors."""
    kind = _kind(resource.type)
    getter = kind.attributes.get(attribute)
    if getter is not None:
        return getter(resource)
    if attribute == "Arn" and resource.type not in _KINDS:
        return _generic_arn(resource)
    known = ", ".join(sorted(kind.attributes)) or "none"
    raise TemplateError(
        f"Fn::GetAtt {resource.logical_id}.{attribute}: {resource.type} has no attribute "
        f"{attribute!r} the local cloud knows (known: {known})",
        at,
    )
