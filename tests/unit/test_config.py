"""Settings come from the environment once, with local defaults and clear errors."""

from __future__ import annotations

import pytest

from deltastream.config import ConfigError, Settings


def test_an_empty_environment_gives_the_local_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.ticks_stream == "deltastream-ticks"
    assert settings.mongo_db == "deltastream"
    assert settings.mongo_url == ""
    assert "NIFTY" in settings.products


def test_values_are_read_and_normalised() -> None:
    settings = Settings.from_env(
        {"PRODUCTS": " nifty, spy ,", "TICK_INTERVAL": "0.5", "CHAIN_EVERY": "3", "FEED_PROVIDER": "Replay"}
    )
    assert settings.products == ("NIFTY", "SPY")
    assert settings.tick_interval_s == 0.5
    assert settings.chain_every == 3
    assert settings.feed_provider == "replay"


@pytest.mark.parametrize(
    ("name", "value"),
    [("TICK_INTERVAL", "fast"), ("TICK_INTERVAL", "0"), ("CHAIN_EVERY", "1.5"), ("FEED_PROVIDER", "kafka")],
)
def test_a_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
