"""The fan-out's SigV4 signer gives exactly botocore's headers (botocore is the reference AWS checks
signatures against), with and without a session token, for awkward paths and across a UTC day."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from deltastream.ws.connections import SigV4Signer, connection_url

MOMENTS = [datetime(2026, 11, 22, 3, 4, 5, tzinfo=UTC), datetime(2026, 11, 23, 0, 0, 1, tzinfo=UTC)]


def botocore_headers(
    credentials: Credentials, region: str, url: str, data: bytes, now: datetime
) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url, data=data)
    with mock.patch("botocore.auth.get_current_datetime", return_value=now.replace(tzinfo=None)):
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEJr//session+token="])
@pytest.mark.parametrize(
    "url",
    [
        connection_url("https://abc123.execute-api.eu-west-1.amazonaws.com/prod", "L0SM9cOFvHcCIhw="),
        connection_url("http://127.0.0.1:3001/dev/", "a/b c+d"),
        "https://abc123.execute-api.eu-west-1.amazonaws.com:443/prod/./x/../@connections/id",
        "http://localhost/dev//@connections/id",
    ],
)
def test_signature_matches_botocore(token: str | None, url: str) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    signer = SigV4Signer(credentials, "eu-west-1")
    data = b'{"event":"tick","data":{"price":25000.5}}'
    for now in MOMENTS:  # the second moment is the next UTC day: the signing key must be re-derived
        assert signer.headers(url, data, now) == botocore_headers(credentials, "eu-west-1", url, data, now)


def test_a_different_body_or_time_changes_the_signature() -> None:
    signer = SigV4Signer(Credentials("AKIDEXAMPLE", "secret"), "us-east-1")
    url = connection_url("https://x.execute-api.us-east-1.amazonaws.com/prod", "id=")
    first = signer.headers(url, b"a", MOMENTS[0])["Authorization"]
    assert signer.headers(url, b"b", MOMENTS[0])["Authorization"] != first
    assert signer.headers(url, b"a", MOMENTS[1])["Authorization"] != first
