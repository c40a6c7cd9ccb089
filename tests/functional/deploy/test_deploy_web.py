"""infra/deploy_web.py against a moto server: objects, headers, config.json, stale objects, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import deploy_web
from deploy_web import DeployError

BUCKET = "deltastream-dev-webbucket-abc"
API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/dev"
WS_URL = "wss://def456.execute-api.us-east-1.amazonaws.com/dev"
OUTPUTS = {"ApiUrl": API_URL, "WebSocketUrl": WS_URL, "WebBucketName": BUCKET}
JS = "text/javascript; charset=utf-8"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """What `make web` leaves in web/dist: the page and its hashed assets."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<!doctype html><script src="./assets/app-abc123.js"></script>')
    (root / "assets" / "app-abc123.js").write_text("console.log('Δ');")
    (root / "assets" / "app-abc123.css").write_text("body{margin:0}")
    return root


@pytest.fixture
def s3(aws: Any) -> Any:
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def keys(s3: Any) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def create_stack(aws: Any, name: str, *, without: str = "") -> None:
    """A stack with the template's bucket and the output keys deploy_web reads (but ``without``)."""
    outputs = {
        "ApiUrl": {"Value": API_URL},
        "WebSocketUrl": {"Value": WS_URL},
        "WebBucketName": {"Value": {"Ref": "WebBucket"}},
    }
    outputs.pop(without, None)
    template = {"Resources": {"WebBucket": {"Type": "AWS::S3::Bucket"}}, "Outputs": outputs}
    aws.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


# --- uploads ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "content_type", "cache_control"),
    [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        ("config.json", "application/json", "no-cache"),
        ("assets/app-abc123.js", JS, "public, max-age=31536000, immutable"),
        ("assets/app-abc123.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"),
    ],
)
def test_each_file_is_stored_with_its_content_type_and_cache_control(
    s3: Any, dist: Path, key: str, content_type: str, cache_control: str
) -> None:
    # GIVEN a built dist WHEN it is published
    deploy_web.publish(s3, OUTPUTS, dist)

    # THEN each object carries the headers CloudFront and browsers will see
    stored = s3.head_object(Bucket=BUCKET, Key=key)
    assert (stored["ContentType"], stored["CacheControl"]) == (content_type, cache_control)


def test_the_bodies_are_the_dist_files(s3: Any, dist: Path) -> None:
    deploy_web.publish(s3, OUTPUTS, dist)

    assert keys(s3) == ["assets/app-abc123.css", "assets/app-abc123.js", "config.json", "index.html"]
    body = s3.get_object(Bucket=BUCKET, Key="assets/app-abc123.js")["Body"].read()
    assert body == (dist / "assets" / "app-abc123.js").read_bytes()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("logo.svg", "image/svg+xml"), ("font.woff2", "font/woff2"), ("icon.png", "image/png"),
     ("README", "application/octet-stream")],
)  # fmt: skip
def test_other_files_get_their_content_type(s3: Any, dist: Path, name: str, content_type: str) -> None:
    (dist / "assets" / name).write_bytes(b"\x00")

    deploy_web.publish(s3, OUTPUTS, dist)

    assert s3.head_object(Bucket=BUCKET, Key=f"assets/{name}")["ContentType"] == content_type


def test_config_json_holds_the_stacks_endpoints(s3: Any, dist: Path) -> None:
    # GIVEN an ApiUrl output with a trailing slash (the page appends /api/...)
    outputs = OUTPUTS | {"ApiUrl": API_URL + "/"}

    deploy_web.publish(s3, outputs, dist)

    config = json.loads(s3.get_object(Bucket=BUCKET, Key="config.json")["Body"].read())
    assert config == {"apiUrl": API_URL, "wsUrl": WS_URL}


def test_a_config_json_in_the_dist_is_replaced_by_the_stacks(s3: Any, dist: Path) -> None:
    (dist / "config.json").write_text('{"apiUrl": "http://localhost:3000"}')

    deploy_web.publish(s3, OUTPUTS, dist)

    assert json.loads(s3.get_object(Bucket=BUCKET, Key="config.json")["Body"].read())["apiUrl"] == API_URL


def test_index_html_is_uploaded_last(s3: Any, dist: Path) -> None:
    # GIVEN a dist with a file sorting after index.html, and a record of every S3 call, in order
    (dist / "vite.svg").write_text("<svg/>")
    calls: list[tuple[str, str]] = []
    s3.meta.events.register(
        "before-parameter-build.s3", lambda params, model, **_: calls.append((model.name, params.get("Key")))
    )

    deploy_web.publish(s3, OUTPUTS, dist)

    # THEN the page only appears once what it loads is there
    puts = [key for operation, key in calls if operation == "PutObject"]
    assert puts[-1] == "index.html"
    assert set(puts) == {
        "assets/app-abc123.css",
        "assets/app-abc123.js",
        "config.json",
        "index.html",
        "vite.svg",
    }


def test_objects_of_a_previous_deploy_are_removed_after_the_upload(s3: Any, dist: Path) -> None:
    # GIVEN the bucket holding a previous deploy's assets, one of which the new build still has
    for key in ("assets/app-old999.js", "assets/app-abc123.css", "old.html"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"old")
    calls: list[str] = []
    s3.meta.events.register("before-parameter-build.s3", lambda model, **_: calls.append(model.name))

    # WHEN the new build is published
    published = deploy_web.publish(s3, OUTPUTS, dist)

    # THEN only the new build is left, and nothing was deleted before the last upload
    assert keys(s3) == ["assets/app-abc123.css", "assets/app-abc123.js", "config.json", "index.html"]
    assert sorted(published.removed) == ["assets/app-old999.js", "old.html"]
    assert calls.index("DeleteObjects") > max(i for i, name in enumerate(calls) if name == "PutObject")


# --- refusals -----------------------------------------------------------------------------------------


def test_a_dist_without_index_html_is_an_error_and_uploads_nothing(s3: Any, dist: Path) -> None:
    (dist / "index.html").unlink()

    with pytest.raises(DeployError, match=r"has no index.html: run `make web` first"):
        deploy_web.publish(s3, OUTPUTS, dist)
    assert keys(s3) == []


def test_a_missing_dist_is_the_same_error(s3: Any, tmp_path: Path) -> None:
    with pytest.raises(DeployError, match=r"run `make web` first"):
        deploy_web.publish(s3, OUTPUTS, tmp_path / "nowhere")


@pytest.mark.parametrize("missing", sorted(OUTPUTS))
def test_a_missing_output_is_an_error_naming_it_and_uploads_nothing(
    s3: Any, dist: Path, missing: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"live")
    outputs = {key: value for key, value in OUTPUTS.items() if key != missing}

    with pytest.raises(DeployError, match=rf"the stack has no output {missing}: deploy"):
        deploy_web.publish(s3, outputs, dist)
    assert keys(s3) == ["index.html"]


# --- the stack -----------------------------------------------------------------------------------------


def test_outputs_are_read_from_the_stack(aws: Any) -> None:
    # GIVEN a stack with the template's output keys
    create_stack(aws, "deltastream-test")

    outputs = deploy_web.stack_outputs(aws.client("cloudformation"), "deltastream-test")

    assert (outputs["ApiUrl"], outputs["WebSocketUrl"]) == (API_URL, WS_URL)
    assert outputs["WebBucketName"].startswith("deltastream-test-webbucket-")


def test_a_stack_that_does_not_exist_is_an_error(aws: Any) -> None:
    with pytest.raises(DeployError, match=r"^stack nope does not exist: `make deploy` creates it$"):
        deploy_web.stack_outputs(aws.client("cloudformation"), "nope")


def test_the_command_publishes_a_stack_without_a_distribution(aws: Any, dist: Path) -> None:
    # GIVEN a stack deployed with WebCdn=false (no DashboardUrl output)
    create_stack(aws, "no-cdn")

    # WHEN `make deploy-web` runs THEN the bucket holds the site
    assert deploy_web.main(["--stack-name", "no-cdn", "--dist", str(dist)]) == 0
    s3 = aws.client("s3")
    bucket = deploy_web.stack_outputs(aws.client("cloudformation"), "no-cdn")["WebBucketName"]
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 4


def test_the_command_fails_with_a_message_when_the_stack_does_not_exist(
    aws: Any, dist: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert deploy_web.main(["--stack-name", "nope", "--dist", str(dist)]) == 1
    assert "deploy-web: stack nope does not exist" in caplog.text


def test_the_command_fails_with_a_message_when_an_output_is_missing(
    aws: Any, dist: Path, caplog: pytest.LogCaptureFixture
) -> None:
    create_stack(aws, "old", without="WebSocketUrl")

    assert deploy_web.main(["--stack-name", "old", "--dist", str(dist)]) == 1
    assert "deploy-web: the stack has no output WebSocketUrl" in caplog.text


# --- CloudFront -----------------------------------------------------------------------------------------


def test_the_entry_points_are_invalidated(aws: Any) -> None:
    # GIVEN a distribution
    cloudfront = aws.client("cloudfront")
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "web",
                        "DomainName": f"{BUCKET}.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "web", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )["Distribution"]["Id"]

    # WHEN it is invalidated
    invalidation = deploy_web.invalidate(cloudfront, distribution)

    # THEN the unhashed paths are
    batch = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation)["Invalidation"]
    assert sorted(batch["InvalidationBatch"]["Paths"]["Items"]) == ["/", "/config.json", "/index.html"]
