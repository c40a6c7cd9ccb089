"""Client messages are parsed strictly and every fault maps to an error code; events are compact."""

from __future__ import annotations

import pytest

from deltastream.api.errors import ApiError
from deltastream.ws.protocol import (
    GetProducts,
    Ping,
    Subscribe,
    Unsubscribe,
    decode_event,
    encode_event,
    error_event,
    parse_message,
)

SYMBOLS = ("NIFTY", "AAPL")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"action":"ping"}', Ping()),
        ('{"action":"get_products"}', GetProducts()),
        ('{"action":"subscribe","type":"product","symbol":"NIFTY"}', Subscribe("product", "NIFTY")),
        ('{"action":"subscribe","type":"chain","symbol":" nifty "}', Subscribe("chain", "NIFTY")),
        ('{"action":"unsubscribe","type":"chain","symbol":"AAPL"}', Unsubscribe("chain", "AAPL")),
        (b'{"action":"subscribe","symbol":"AAPL"}', Subscribe("product", "AAPL")),
    ],
)
def test_valid_messages_parse(body: str | bytes, expected: object) -> None:
    assert parse_message(body, SYMBOLS) == expected


def test_rooms_are_named_by_type_and_symbol() -> None:
    assert Subscribe("product", "NIFTY").room == "product:NIFTY"
    assert Unsubscribe("chain", "NIFTY").room == "chain:NIFTY"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, "bad_request"),
        ("", "bad_request"),
        ("{not json", "bad_request"),
        ("[1, 2]", "bad_request"),
        ('{"action":"dance"}', "bad_request"),
        ("{}", "bad_request"),
        ('{"action":"subscribe","type":"futures","symbol":"NIFTY"}', "validation_error"),
        ('{"action":"subscribe","type":"product"}', "validation_error"),
        ('{"action":"subscribe","type":"product","symbol":42}', "validation_error"),
        ('{"action":"subscribe","type":"product","symbol":"DOGE"}', "not_found"),
    ],
)
def test_bad_messages_raise_the_matching_error_code(body: str | None, code: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_message(body, SYMBOLS)
    assert caught.value.code == code
    event, data = decode_event(error_event(caught.value))
    assert event == "error"
    assert data["code"] == code
    assert data["message"]


def test_events_are_compact_json_with_event_and_data() -> None:
    assert encode_event("pong", {"ts": 1.5}) == b'{"event":"pong","data":{"ts":1.5}}'
    assert decode_event(b'{"event":"pong","data":{"ts":1.5}}') == ("pong", {"ts": 1.5})


def test_decoding_a_non_event_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not a server event"):
        decode_event(b'{"data":1}')
