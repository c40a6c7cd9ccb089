"""The deploy tests' boto3 session, on the functional tier's moto server (tests/functional/conftest.py)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

REGION = "us-east-1"


@pytest.fixture
def aws(aws_env: str) -> Any:
    """A boto3 session on an emptied moto server; the environment points default sessions there too."""
    return boto3.session.Session(region_name=REGION)
