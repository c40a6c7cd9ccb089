"""Publishes the dashboard to a deployed stack: ``PYTHONPATH=infra python -m deploy_web --stack-name S``.

``make deploy-web STACK=<name>`` runs it after ``make web`` has built ``web/dist``. It reads the stack's
Outputs, writes ``config.json`` (the endpoints the page reads at run time, so one build serves every
stage), uploads the dist directory to the ``WebBucketName`` bucket, removes the objects a previous
deploy left there, and invalidates the unhashed entry points when the stack has a CloudFront
distribution (``WebCdn=true``).

Hashed files under ``assets/`` never change under their name: browsers and CloudFront keep them a
year. Everything else (``index.html``, ``config.json``) is ``no-cache``: revalidated on every load.
"""

from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

__all__ = [
    "DeployError",
    "Published",
    "SiteObject",
    "deploy",
    "distribution_id",
    "invalidate",
    "main",
    "publish",
    "require_build",
    "site_config",
    "site_objects",
    "stack_outputs",
]

log = logging.getLogger("deploy_web")

ROOT = Path(__file__).resolve().parents[1]
CONFIG_KEY: Final = "config.json"
INDEX_KEY: Final = "index.html"
DISTRIBUTION: Final = "WebDistribution"  # the template's logical id of the CloudFront distribution
# Requests for "/" are cached apart from "/index.html" (the default root object).
INVALIDATED_PATHS: Final = ("/", f"/{INDEX_KEY}", f"/{CONFIG_KEY}")
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"
# Pinned: mimetypes reads the OS's tables, which differ (.js is application/javascript on some
# systems, .woff2 is missing on others). Other suffixes fall back to mimetypes, then octet-stream.
CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}


class DeployError(Exception):
    """The deploy cannot go on; the message says what to do."""


@dataclass(frozen=True, slots=True)
class SiteObject:
    """One object of the site as it is stored in the bucket."""

    key: str
    body: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True, slots=True)
class Published:
    bucket: str
    uploaded: list[str]
    removed: list[str]


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The stack's Outputs by key (``describe_stacks``)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise DeployError(f"stack {stack_name} does not exist: `make deploy` creates it") from None
        raise
    return {str(o["OutputKey"]): str(o["OutputValue"]) for o in stacks[0].get("Outputs", [])}


def _output(outputs: Mapping[str, str], key: str) -> str:
    value = outputs.get(key)
    if not value:
        raise DeployError(
            f"the stack has no output {key}: deploy the current template.yaml first (`make deploy`)"
        )
    return value


def site_config(outputs: Mapping[str, str]) -> dict[str, str]:
    """``config.json``: the page calls ``${apiUrl}/api/...`` and opens ``${wsUrl}?token=...``."""
    return {"apiUrl": _output(outputs, "ApiUrl").rstrip("/"), "wsUrl": _output(outputs, "WebSocketUrl")}


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    return IMMUTABLE if key.startswith("assets/") else REVALIDATE


def require_build(dist: Path) -> None:
    if not (dist / INDEX_KEY).is_file():
        raise DeployError(f"{dist} has no {INDEX_KEY}: run `make web` first")


def site_objects(dist: Path, config: Mapping[str, str]) -> list[SiteObject]:
    """Every file of ``dist`` plus ``config.json``, in upload order: ``index.html`` last, so the page
    a browser fetches never names an asset or a config that is not there yet."""
    require_build(dist)
    bodies = {
        path.relative_to(dist).as_posix(): path.read_bytes() for path in dist.rglob("*") if path.is_file()
    }
    if CONFIG_KEY in bodies:
        log.warning("%s/%s is replaced by the stack's endpoints", dist, CONFIG_KEY)
    bodies[CONFIG_KEY] = json.dumps(dict(config), indent=2).encode() + b"\n"
    return [
        SiteObject(key, bodies[key], content_type(key), cache_control(key))
        for key in sorted(bodies, key=lambda key: (key == INDEX_KEY, key))
    ]


def publish(s3: Any, outputs: Mapping[str, str], dist: Path) -> Published:
    """Upload ``dist`` and ``config.json`` to the stack's bucket, then delete the objects no longer in
    it (afterwards, so the site is whole at every moment of the deploy)."""
    bucket = _output(outputs, "WebBucketName")
    objects = site_objects(dist, site_config(outputs))
    for site_object in objects:
        s3.put_object(
            Bucket=bucket,
            Key=site_object.key,
            Body=site_object.body,
            ContentType=site_object.content_type,
            CacheControl=site_object.cache_control,
        )
    uploaded = [site_object.key for site_object in objects]
    return Published(bucket, uploaded, _remove_stale(s3, bucket, keep=set(uploaded)))


def _remove_stale(s3: Any, bucket: str, keep: set[str]) -> list[str]:
    stale = [
        str(item["Key"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
        if item["Key"] not in keep
    ]
    for start in range(0, len(stale), 1000):  # DeleteObjects takes 1,000 keys at most
        batch = [{"Key": key} for key in stale[start : start + 1000]]
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if result.get("Errors"):
            raise DeployError(f"could not delete stale objects from {bucket}: {result['Errors']}")
    return stale


def distribution_id(cloudformation: Any, stack_name: str) -> str:
    """The id of the stack's CloudFront distribution (its physical resource id)."""
    detail = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=DISTRIBUTION)
    return str(detail["StackResourceDetail"]["PhysicalResourceId"])


def invalidate(cloudfront: Any, distribution: str, paths: Sequence[str] = INVALIDATED_PATHS) -> str:
    """Drop ``paths`` from the distribution's edge caches; returns the invalidation's id."""
    batch = {"Paths": {"Quantity": len(paths), "Items": list(paths)}, "CallerReference": uuid.uuid4().hex}
    result = cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch=batch)
    return str(result["Invalidation"]["Id"])


def deploy(session: Any, stack_name: str, dist: Path) -> Published:
    require_build(dist)  # before any AWS call: the likelier mistake is a missing build
    cloudformation = session.client("cloudformation")
    outputs = stack_outputs(cloudformation, stack_name)
    published = publish(session.client("s3"), outputs, dist)
    log.info(
        "uploaded %d files to s3://%s, removed %d stale",
        len(published.uploaded),
        published.bucket,
        len(published.removed),
    )
    if "DashboardUrl" in outputs:  # the output exists when the distribution does (WebCdn=true)
        distribution = distribution_id(cloudformation, stack_name)
        invalidation = invalidate(session.client("cloudfront"), distribution)
        log.info("invalidated %s on %s (%s)", " ".join(INVALIDATED_PATHS), distribution, invalidation)
        log.info("dashboard: %s", outputs["DashboardUrl"])
    else:
        log.info("no CloudFront distribution (WebCdn=false): serve s3://%s your own way", published.bucket)
    return published


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy_web", description="Publish web/dist and config.json to a deployed stack."
    )
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", default=None, help="the stack's region (default: the AWS config's)")
    parser.add_argument("--dist", type=Path, default=ROOT / "web" / "dist", help="the built dashboard")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        deploy(boto3.session.Session(region_name=args.region), args.stack_name, args.dist)
    except DeployError as error:
        log.error("deploy-web: %s", error)
        return 1
    except (BotoCoreError, ClientError) as error:
        log.error("deploy-web: AWS call failed: %s", error)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
