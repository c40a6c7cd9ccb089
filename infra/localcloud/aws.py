"""The AWS APIs the local cloud and its functions talk to, and the resources created there.

By default an embedded moto server (``ThreadedMotoServer`` on a free loopback port); with
``AWS_ENDPOINT_URL`` set (LocalStack, or anything else speaking the AWS APIs) that endpoint instead,
untouched. Resources the template declares (Kinesis streams, SQS queues, S3 buckets, DynamoDB tables,
SNS topics, SSM parameters, Secrets Manager secrets) are created there at start-up, idempotently.

The embedded moto runs as a child process (:mod:`localcloud.motoserver`), which keeps its state in
memory and saves it to the state directory when it stops, so a restarted local cloud finds its
streams (and their records and sequence numbers) where checkpoints expect them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from localcloud.model import AppModel, QueueSpec, ResourceSpec, StreamSpec

log = logging.getLogger("localcloud.aws")

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_BOTO_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)


class AwsEndpoint:
    """An AWS API endpoint: the embedded moto server, or an external one (``endpoint_url``)."""

    def __init__(
        self,
        endpoint_url: str | None = None,
        *,
        region: str = "us-east-1",
        state_dir: Path | None = None,
        port: int = 0,
    ) -> None:
        self.region = region
        self.embedded = endpoint_url is None
        self._url = endpoint_url
        self._state_file = (
            state_dir / "moto-state.pickle" if state_dir is not None and self.embedded else None
        )
        self._port = port
        self._server: Any = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the embedded AWS endpoint is not started")
        return self._url

    def start(self) -> None:
        if not self.embedded:
            log.info("AWS APIs: %s (external)", self._url)
            return
        # moto in a process of its own (see localcloud.motoserver): its own core, its own GIL.
        command = [sys.executable, "-m", "localcloud.motoserver", "--port", str(self._port)]
        if self._state_file is not None:
            command += ["--state", str(self._state_file)]
        self._server = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        line = self._server.stdout.readline() if self._server.stdout else ""
        if not line.startswith("ready "):
            self._server.kill()
            self._server.wait()
            raise RuntimeError(f"the embedded AWS endpoint did not start (it said {line.strip()!r})")
        self._url = line.split()[1]
        log.info("AWS APIs: embedded moto server at %s", self._url)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.terminate()  # it saves its state before exiting
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.warning("the embedded AWS endpoint did not stop in 30 s; killing it")
            server.kill()
            server.wait()

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` at this endpoint (one per service: they are thread-safe)."""
        with self._clients_lock:
            client = self._clients.get(service)
            if client is None:
                client = self._clients[service] = boto3.session.Session().client(
                    service,
                    endpoint_url=self.url,
                    region_name=self.region,
                    config=_BOTO_CONFIG,
                    **DUMMY_CREDENTIALS,
                )
            return client

    def function_environment(self) -> dict[str, str]:
        """What every function gets so that its boto3 clients reach this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }


# --- provisioning ----------------------------------------------------------------------------------


def provision(endpoint: AwsEndpoint, model: AppModel) -> list[str]:
    """Create the template's resources on ``endpoint``; returns the logical ids not emulated."""
    kinesis = endpoint.client("kinesis")
    for stream in model.streams.values():
        _create_stream(kinesis, stream)
    if model.queues:
        sqs = endpoint.client("sqs")
        for queue in model.queues.values():
            _create_queue(sqs, queue)
    skipped = []
    for resource in model.resources.values():
        creator = _CREATORS.get(resource.type)
        if creator is None:
            skipped.append(resource.logical_id)
            continue
        creator(endpoint, resource)
    if skipped:
        log.debug("not emulated locally: %s", ", ".join(skipped))
    return skipped


def _create_stream(kinesis: Any, stream: StreamSpec) -> None:
    try:
        kinesis.create_stream(StreamName=stream.name, ShardCount=stream.shard_count)
        log.info("created Kinesis stream %s (%d shards)", stream.name, stream.shard_count)
    except kinesis.exceptions.ResourceInUseException:
        log.info("Kinesis stream %s exists", stream.name)
    kinesis.get_waiter("stream_exists").wait(
        StreamName=stream.name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    if stream.retention_hours > 24:
        with contextlib.suppress(kinesis.exceptions.InvalidArgumentException):
            kinesis.increase_stream_retention_period(
                StreamName=stream.name, RetentionPeriodHours=stream.retention_hours
            )


def _create_queue(sqs: Any, queue: QueueSpec) -> None:
    attributes = dict(queue.attributes)
    if queue.fifo:
        attributes["FifoQueue"] = "true"
    sqs.create_queue(QueueName=queue.name, Attributes=attributes)
    log.info("created SQS queue %s", queue.name)


def _create_bucket(endpoint: AwsEndpoint, resource: ResourceSpec) -> None:
    s3 = endpoint.client("s3")
    try:
        s3.head_bucket(Bucket=resource.physical_name)
        return  # kept from a previous run: CreateBucket in us-east-1 would answer 200 and empty it in moto
    except s3.exceptions.ClientError:
        pass
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        if endpoint.region == "us-east-1":
            s3.create_bucket(Bucket=resource.physical_name)
        else:
            s3.create_bucket(
                Bucket=resource.physical_name,
                CreateBucketConfiguration={"LocationConstraint": endpoint.region},
            )


_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)


def _create_table(endpoint: AwsEndpoint, resource: ResourceSpec) -> None:
    dynamodb = endpoint.client("dynamodb")
    arguments = {key: resource.properties[key] for key in _TABLE_KEYS if key in resource.properties}
    arguments.setdefault("BillingMode", "PAY_PER_REQUEST")
    with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
        dynamodb.create_table(TableName=resource.physical_name, **arguments)


def _create_topic(endpoint: AwsEndpoint, resource: ResourceSpec) -> None:
    endpoint.client("sns").create_topic(Name=resource.physical_name)


def _create_parameter(endpoint: AwsEndpoint, resource: ResourceSpec) -> None:
    properties = resource.properties
    endpoint.client("ssm").put_parameter(
        Name=resource.physical_name,
        Value=str(properties.get("Value", "")),
        Type=str(properties.get("Type", "String")),
        Overwrite=True,
    )


def _create_secret(endpoint: AwsEndpoint, resource: ResourceSpec) -> None:
    client = endpoint.client("secretsmanager")
    properties = resource.properties
    value = properties.get("SecretString")
    if value is None:
        generate = properties.get("GenerateSecretString") or {}
        generated = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
        template = generate.get("SecretStringTemplate")
        key = generate.get("GenerateStringKey")
        value = json.dumps({**json.loads(template), key: generated}) if template and key else generated
    with contextlib.suppress(client.exceptions.ResourceExistsException):
        client.create_secret(Name=resource.physical_name, SecretString=str(value))


_CREATORS = {
    "AWS::S3::Bucket": _create_bucket,
    "AWS::DynamoDB::Table": _create_table,
    "AWS::SNS::Topic": _create_topic,
    "AWS::SSM::Parameter": _create_parameter,
    "AWS::SecretsManager::Secret": _create_secret,
}


# --- destinations ----------------------------------------------------------------------------------


class Destinations:
    """Sends documents to destination ARNs (SQS queues, SNS topics), as Lambda's destinations do."""

    def __init__(self, endpoint: AwsEndpoint) -> None:
        self._endpoint = endpoint
        self._queue_urls: dict[str, str] = {}

    def send(self, arn: str, document: dict[str, Any]) -> None:
        service, name = _service_and_name(arn)
        body = json.dumps(document)
        if service == "sqs":
            sqs = self._endpoint.client("sqs")
            url = self._queue_urls.get(arn)
            if url is None:
                url = self._queue_urls[arn] = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif service == "sns":
            self._endpoint.client("sns").publish(TopicArn=arn, Message=body)
        else:
            raise ValueError(f"unsupported destination {arn}: only SQS queues and SNS topics")


def _service_and_name(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[2], parts[5]


def queue_depths(endpoint: AwsEndpoint, queues: dict[str, QueueSpec]) -> Iterator[tuple[str, int | None]]:
    """(logical id, approximate number of visible messages) for each queue; None if unreadable."""
    if not queues:
        return
    sqs = endpoint.client("sqs")
    for logical_id, queue in queues.items():
        try:
            url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )
            yield logical_id, int(attributes["Attributes"]["ApproximateNumberOfMessages"])
        except Exception:  # status must answer even when a queue is gone
            yield logical_id, None
