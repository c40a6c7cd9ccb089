"""Settings read once from the environment (ARCHITECTURE §8). Handlers build them at module scope.

Every variable has a local default, so nothing needs setting to run locally or test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_PRODUCTS = ("NIFTY", "BANKNIFTY", "FINNIFTY", "SENSEX", "AAPL", "TSLA", "SPY", "QQQ")


class ConfigError(ValueError):
    """A setting with a value the application cannot use; the message names the variable."""


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be > 0, got {raw!r}")
    return value


def positive_int(env: Mapping[str, str], name: str, default: int, *, unit: str = "") -> int:
    """``env[name]`` as a whole number > 0 (``default`` when unset or blank), else :class:`ConfigError`
    naming the variable (and the ``unit`` expected, e.g. "seconds")."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        kind = f"a whole number of {unit}" if unit else "a whole number"
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {raw!r}")
    return value


DEFAULT_CORS_ALLOW_ORIGIN = "http://localhost:5173"  # the template's default: the web app's dev server


def cors_allow_origin(env: Mapping[str, str]) -> str:
    """The one origin browsers may call the API from (``CORS_ALLOW_ORIGIN``); never ``*``."""
    origin = env.get("CORS_ALLOW_ORIGIN", "").strip() or DEFAULT_CORS_ALLOW_ORIGIN
    if origin == "*":
        raise ConfigError("CORS_ALLOW_ORIGIN must name one origin, not '*'")
    return origin


@dataclass(frozen=True, slots=True)
class Settings:
    """What the functions need to know about their environment."""

    ticks_stream: str = "deltastream-ticks"
    enriched_stream: str = "deltastream-enriched"
    mongo_url: str = ""  # "" → in-process mongomock; mongomock://host:port → the shared embedded one
    mongo_db: str = "deltastream"
    redis_url: str = "redis://127.0.0.1:6379/0"
    products: tuple[str, ...] = DEFAULT_PRODUCTS
    tick_interval_s: float = 1.0  # feed: seconds between underlying ticks
    chain_every: int = 5  # feed: a chain snapshot per product and expiry every N ticks
    expiries_per_product: int = 2  # feed: nearest N expiries
    feed_duration_s: float = 60.0  # feed: market data emitted per invocation
    feed_provider: str = "synthetic"  # synthetic | replay
    replay_path: str = ""  # replay provider: JSON lines or CSV file
    raw_tick_retention_days: int = 7  # TTL of raw underlying ticks in MongoDB
    seed: int | None = None  # synthetic provider: random seed (None: fresh entropy)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        products = tuple(p.strip().upper() for p in env.get("PRODUCTS", "").split(",") if p.strip())
        provider = env.get("FEED_PROVIDER", "synthetic").strip().lower() or "synthetic"
        if provider not in ("synthetic", "replay"):
            raise ConfigError(f"FEED_PROVIDER must be 'synthetic' or 'replay', got {provider!r}")
        seed = env.get("FEED_SEED", "")
        try:
            seed_value = int(seed) if seed else None
        except ValueError:
            raise ConfigError(f"FEED_SEED must be a whole number, got {seed!r}") from None
        return cls(
            ticks_stream=env.get("TICKS_STREAM") or DEFAULTS.ticks_stream,
            enriched_stream=env.get("ENRICHED_STREAM") or DEFAULTS.enriched_stream,
            mongo_url=env.get("MONGO_URL", ""),
            mongo_db=env.get("MONGO_DB") or DEFAULTS.mongo_db,
            redis_url=env.get("REDIS_URL") or DEFAULTS.redis_url,
            products=products or DEFAULT_PRODUCTS,
            tick_interval_s=_positive_float(env, "TICK_INTERVAL", 1.0),
            chain_every=positive_int(env, "CHAIN_EVERY", 5),
            expiries_per_product=positive_int(env, "EXPIRIES_PER_PRODUCT", 2),
            feed_duration_s=_positive_float(env, "FEED_DURATION", 60.0),
            feed_provider=provider,
            replay_path=env.get("REPLAY_PATH", ""),
            raw_tick_retention_days=positive_int(env, "RAW_TICK_RETENTION_DAYS", 7),
            seed=seed_value,
        )


DEFAULTS = Settings()
"""The defaults, for fields an environment leaves empty."""
