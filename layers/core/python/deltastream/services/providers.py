"""Where the feed's market data comes from: a simulated market or a recording.

A provider answers, once per feed tick, "what does the market look like now?" with a
:class:`ProviderTick`: the underlying price per product and, when chains are due, the option chain
fields per product and expiry. The feed service (:mod:`deltastream.services.feed`) decides the pace
and the chain cadence, assigns tick ids and timestamps, and builds the stream records.

- :class:`SyntheticProvider` simulates: a geometric Brownian motion per product and chains whose
  quotes, volume and open interest evolve (:mod:`deltastream.domain.market`). The walk, the chain
  states and the random generators continue across invocations through ``ports.FeedState``.
- :class:`ReplayProvider` plays a recording back, so real market data can flow through the pipeline.

Replay file format
------------------
**JSON lines** (``.jsonl``, ``.ndjson``, ``.json``): one JSON object per line, in the stream-record
shape of ARCHITECTURE §3 without ``v`` and ``tick_id`` (both are ignored when present; the feed
assigns its own tick ids); blank lines are skipped::

    {"type": "underlying", "product": "NIFTY", "price": 25012.35, "ts": "2025-11-03T04:00:00Z"}
    {"type": "chain", "product": "NIFTY", "expiry": "2025-11-04", "spot": 25012.35, "r": 0.065,
     "q": 0.012, "ts": "2025-11-03T04:00:00Z", "strikes": [...], "calls": [{"strike", "bid", "ask",
     "last", "volume", "oi"}, ...], "puts": [...]}          (one line in the file)

**CSV** (``.csv``), underlying ticks only: a header row naming the columns ``ts,product,price`` (any
order; other columns are ignored), then one tick per row. Chains can only be replayed from JSON lines.

``ts`` is ISO-8601 with a time zone (``Z`` or an offset). Every line is validated as it is read; a bad
one raises :class:`ReplayFormatError` naming the file and line number.

Grouping into ticks: the records are read in file order, and a feed tick takes the longest run of
lines in which no product has two underlying records and no (product, expiry) two chains. Record the
products of one instant on consecutive lines, chains after their underlying.

Timestamps: by default (``restamp=True``) records are re-stamped with the feed's clock, so the
pipeline sees live-looking data, and each chain's expiry date moves forward by the smallest number of
whole weeks that keeps it at or after its recorded distance from the tick (weekday kept; time to
expiry is never negative). With ``restamp=False`` the recorded ``ts`` of a tick's first line is used
for all its records and expiries are untouched (for one-shot replays of a historical session; a looped
replay would repeat timestamps). Either way, playback is paced by the feed's tick interval, not by the
recorded spacing.

End of file: ``loop=True`` (default) starts over from the first line; ``loop=False`` ends the replay
(the provider returns None and the feed stops). The position lives in memory: a new process (a cold
Lambda start) starts from the first line again.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np

from deltastream.config import ConfigError, Settings
from deltastream.domain.expiries import SECONDS_PER_YEAR, upcoming_expiries
from deltastream.domain.market import ChainState, evolve_chain, gbm_step
from deltastream.domain.products import Product, get_product
from deltastream.ports import FeedState
from deltastream.records import InvalidRecord, encode, parse_record

logger = logging.getLogger(__name__)

CHAIN_FIELDS: Final = ("product", "expiry", "spot", "r", "q", "strikes", "calls", "puts")
JSON_LINES_SUFFIXES: Final = (".jsonl", ".ndjson", ".json")
CSV_COLUMNS: Final = ("ts", "product", "price")


@dataclass(frozen=True, slots=True)
class ProviderTick:
    """The market at one feed tick.

    ``prices``: product → underlying price (currency units). ``chains``: product → the chain record
    fields (:data:`CHAIN_FIELDS`, as ``ChainSnapshot.as_record_fields()`` gives them) of each expiry.
    ``recorded_at``: the time to stamp the records with, or None for "now" (the feed's clock).
    """

    prices: Mapping[str, float]
    chains: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    recorded_at: datetime | None = None

    @property
    def products(self) -> tuple[str, ...]:
        """Every product in the tick, underlying prices first, in order of appearance."""
        return tuple(dict.fromkeys([*self.prices, *self.chains]))


class MarketDataProvider(Protocol):
    """A source of market data for the feed (see the module docstring)."""

    def start(self, now: datetime) -> None:
        """Begin an invocation: (re)load whatever continues across invocations."""
        ...

    def step(self, now: datetime, *, chains_due: bool) -> ProviderTick | None:
        """The market at ``now`` (aware); chains only when ``chains_due`` (a recording decides for
        itself). None when there is no more data (a replay that does not loop)."""
        ...

    def save(self) -> None:
        """Persist what must continue in the next invocation."""
        ...


def build_provider(settings: Settings, state: FeedState) -> MarketDataProvider:
    """The provider ``settings.feed_provider`` names (FEED_PROVIDER), built from the settings."""
    if settings.feed_provider == "replay":
        if not settings.replay_path:
            raise ConfigError("REPLAY_PATH must name a replay file when FEED_PROVIDER is 'replay'")
        return ReplayProvider(settings.replay_path)
    return SyntheticProvider(
        [get_product(symbol) for symbol in settings.products],
        state,
        expiries_per_product=settings.expiries_per_product,
        tick_interval_s=settings.tick_interval_s,
        seed=settings.seed,
    )


# --- synthetic ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Walk:
    """One product's simulated market between ticks (what FeedState keeps for it)."""

    spot: float
    last_tick: datetime | None
    chains: dict[date, ChainState]
    rng: np.random.Generator

    def as_record(self) -> dict[str, Any]:
        return {
            "spot": self.spot,
            "ts": None if self.last_tick is None else self.last_tick.isoformat(),
            "chains": {expiry.isoformat(): chain.as_record() for expiry, chain in self.chains.items()},
            "rng": self.rng.bit_generator.state,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], rng: np.random.Generator) -> _Walk:
        """The walk saved in ``record``; its generator state, when saved, is restored into ``rng``."""
        spot = float(record["spot"])
        if not (math.isfinite(spot) and spot > 0):
            raise ValueError(f"spot must be a finite positive number, got {spot}")
        ts = record.get("ts")
        if "rng" in record:
            rng.bit_generator.state = record["rng"]
        return cls(
            spot=spot,
            last_tick=None if ts is None else datetime.fromisoformat(ts),
            chains={
                date.fromisoformat(expiry): ChainState.from_record(chain)
                for expiry, chain in record.get("chains", {}).items()
            },
            rng=rng,
        )


class SyntheticProvider:
    """A simulated market: one GBM walk per product and chains for its nearest expiries.

    Underlying: an exact GBM step (:func:`~deltastream.domain.market.gbm_step`) per tick with the
    product's rate as drift (risk-neutral), its volatility and dividend yield; ``dt`` is the time
    since the product's previous tick in years (ACT/365), the tick interval for the very first tick,
    and at most ``max_step_s`` seconds so a feed resumed after a long pause does not jump. Published
    prices are rounded to the product's tick size; the walk keeps full precision.

    Chains: :func:`~deltastream.domain.market.evolve_chain` for the nearest ``expiries_per_product``
    expiries (:func:`~deltastream.domain.expiries.upcoming_expiries`) at the published price, so
    volume and open interest evolve from one snapshot to the next; an expired expiry's state is
    dropped and the next expiry is seeded.

    Random numbers: one generator per product, seeded from (``seed``, product) when a seed is given
    (fresh OS entropy otherwise), its state saved with the walk, so the simulation continues exactly
    across invocations and does not depend on which other products are simulated.
    """

    def __init__(
        self,
        products: Sequence[Product],
        state: FeedState,
        *,
        expiries_per_product: int = 2,
        tick_interval_s: float = 1.0,
        seed: int | None = None,
        max_step_s: float = 3600.0,
    ) -> None:
        if not products:
            raise ValueError("a synthetic market needs at least one product")
        if not (tick_interval_s > 0 and max_step_s > 0):
            raise ValueError("tick_interval_s and max_step_s must be > 0 seconds")
        self._products = tuple(products)
        self._state = state
        self._expiries_per_product = expiries_per_product
        self._tick_interval_s = tick_interval_s
        self._seed = seed
        self._max_step_s = max_step_s
        self._walks: dict[str, _Walk] = {}

    @property
    def products(self) -> tuple[str, ...]:
        return tuple(product.symbol for product in self._products)

    def spot(self, product: str) -> float:
        """The walk's current (unrounded) spot of ``product``; KeyError before :meth:`start`."""
        return self._walks[product].spot

    def start(self, now: datetime) -> None:
        """Load every product's walk from FeedState (a fresh one at the catalogue's base price when
        none is saved or the saved one is unreadable), discarding what this process held in memory:
        another process may have moved the market since."""
        self._walks = {product.symbol: self._load(product) for product in self._products}

    def step(self, now: datetime, *, chains_due: bool) -> ProviderTick:
        """Advance every product to ``now`` (aware) and, when ``chains_due``, snapshot its chains."""
        if not self._walks:
            self.start(now)
        prices: dict[str, float] = {}
        chains: dict[str, list[dict[str, object]]] = {}
        for product in self._products:
            walk = self._walks[product.symbol]
            price = self._advance(product, walk, now)
            prices[product.symbol] = price
            if chains_due:
                chains[product.symbol] = self._snapshot_chains(product, walk, price, now)
        return ProviderTick(prices=prices, chains=chains)

    def save(self) -> None:
        for symbol, walk in self._walks.items():
            self._state.save(symbol, walk.as_record())

    def _new_rng(self, product: Product) -> np.random.Generator:
        if self._seed is None:
            return np.random.default_rng()
        return np.random.default_rng([self._seed, zlib.crc32(product.symbol.encode())])

    def _load(self, product: Product) -> _Walk:
        rng = self._new_rng(product)
        record = self._state.load(product.symbol)
        if record is not None:
            try:
                return _Walk.from_record(record, rng)
            except (KeyError, TypeError, ValueError) as error:
                logger.warning("unusable feed state for %s (%s); starting afresh", product.symbol, error)
                rng = self._new_rng(product)
        return _Walk(spot=product.base_price, last_tick=None, chains={}, rng=rng)

    def _advance(self, product: Product, walk: _Walk, now: datetime) -> float:
        elapsed_s = self._tick_interval_s
        if walk.last_tick is not None:
            elapsed_s = (now - walk.last_tick).total_seconds()
            if elapsed_s <= 0:  # a clock that went backwards: take one nominal step
                elapsed_s = self._tick_interval_s
        dt = min(elapsed_s, self._max_step_s) / SECONDS_PER_YEAR
        spot = gbm_step(walk.spot, product.rate, product.volatility, dt, walk.rng, q=product.dividend_yield)
        walk.spot = float(spot)
        walk.last_tick = now
        return round_to_tick(walk.spot, product.tick_size)

    def _snapshot_chains(
        self, product: Product, walk: _Walk, price: float, now: datetime
    ) -> list[dict[str, object]]:
        fields: list[dict[str, object]] = []
        chains: dict[date, ChainState] = {}
        for expiry in upcoming_expiries(product, now, self._expiries_per_product):
            snapshot, chains[expiry] = evolve_chain(
                walk.chains.get(expiry), product, price, expiry, now, walk.rng
            )
            fields.append(snapshot.as_record_fields())
        walk.chains = chains  # expiries that closed are dropped here
        return fields


def round_to_tick(price: float, tick_size: float) -> float:
    """``price`` rounded to the nearest multiple of ``tick_size`` (at least one tick), printed cleanly."""
    decimals = max(0, -int(Decimal(repr(float(tick_size))).normalize().as_tuple().exponent))
    return round(max(round(price / tick_size), 1) * tick_size, decimals)


# --- replay ------------------------------------------------------------------------------------------


class ReplayFormatError(ValueError):
    """A replay file that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class _Recorded:
    line: int
    record: dict[str, Any]
    ts: datetime


class ReplayProvider:
    """Plays a recorded file back, one group of lines per feed tick (format: module docstring)."""

    def __init__(self, path: str | Path, *, loop: bool = True, restamp: bool = True) -> None:
        self._path = Path(path)
        if self._path.suffix.lower() not in (*JSON_LINES_SUFFIXES, ".csv"):
            raise ReplayFormatError(
                f"{self._path}: unknown replay format {self._path.suffix!r} "
                f"(expected {', '.join(JSON_LINES_SUFFIXES)} or .csv)"
            )
        if not self._path.is_file():
            raise ReplayFormatError(f"{self._path}: no such replay file")
        self._loop = loop
        self._restamp = restamp
        self._records: Iterator[_Recorded] = self._read()
        self._pending: _Recorded | None = None

    def start(self, now: datetime) -> None:
        """Nothing to load: the position in the file lives in memory."""

    def save(self) -> None:
        """Nothing to persist (see :meth:`start`)."""

    def step(self, now: datetime, *, chains_due: bool) -> ProviderTick | None:
        """The next group of recorded lines (chains whenever recorded: ``chains_due`` is ignored)."""
        group = self._next_group()
        if not group:
            return None
        first_ts = group[0].ts
        shift = _expiry_shift(first_ts, now) if self._restamp else timedelta(0)
        prices: dict[str, float] = {}
        chains: dict[str, list[dict[str, Any]]] = {}
        for item in group:
            record = item.record
            if record["type"] == "underlying":
                prices[record["product"]] = float(record["price"])
                continue
            fields = {name: record[name] for name in CHAIN_FIELDS}
            if shift:
                fields["expiry"] = (date.fromisoformat(fields["expiry"]) + shift).isoformat()
            chains.setdefault(record["product"], []).append(fields)
        return ProviderTick(prices=prices, chains=chains, recorded_at=None if self._restamp else first_ts)

    def _next_group(self) -> list[_Recorded]:
        group: list[_Recorded] = []
        seen: set[tuple[str, str | None]] = set()
        while True:
            item = self._pending or next(self._records, None)
            self._pending = None
            if item is None:
                return group
            identity = (item.record["product"], item.record.get("expiry"))
            if identity in seen:
                self._pending = item
                return group
            seen.add(identity)
            group.append(item)

    def _read(self) -> Iterator[_Recorded]:
        while True:
            count = 0
            for item in self._read_once():
                count += 1
                yield item
            if count == 0:
                raise ReplayFormatError(f"{self._path}: no records to replay")
            if not self._loop:
                return
            logger.info("replay of %s reached the end after %d records; starting over", self._path, count)

    def _read_once(self) -> Iterator[_Recorded]:
        if self._path.suffix.lower() == ".csv":
            yield from _read_csv(self._path)
        else:
            yield from _read_json_lines(self._path)


def _read_json_lines(path: Path) -> Iterator[_Recorded]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise ReplayFormatError(f"{path}:{number}: not JSON: {error}") from None
            if not isinstance(record, dict):
                raise ReplayFormatError(
                    f"{path}:{number}: expected a JSON object, got {type(record).__name__}"
                )
            yield _validated(path, number, record)


def _read_csv(path: Path) -> Iterator[_Recorded]:
    with path.open(encoding="utf-8", newline="") as rows:
        reader = csv.DictReader(rows)
        missing = [column for column in CSV_COLUMNS if column not in (reader.fieldnames or ())]
        if missing:
            raise ReplayFormatError(
                f"{path}:1: the header must name the columns {','.join(CSV_COLUMNS)}; missing {missing}"
            )
        for row in reader:
            try:
                price = float(row["price"])
            except (TypeError, ValueError):
                raise ReplayFormatError(
                    f"{path}:{reader.line_num}: price must be a number, got {row['price']!r}"
                ) from None
            record = {"type": "underlying", "product": row["product"], "price": price, "ts": row["ts"]}
            yield _validated(path, reader.line_num, record)


def _validated(path: Path, line: int, record: dict[str, Any]) -> _Recorded:
    """Check ``record`` against the stream-record schema (with placeholder v and tick_id)."""
    body = {key: value for key, value in record.items() if key not in ("v", "tick_id")}
    try:
        parse_record(encode({"v": 1, "tick_id": 0, **body}))
    except (InvalidRecord, TypeError, ValueError) as error:
        raise ReplayFormatError(f"{path}:{line}: {error}") from None
    if body["type"] == "chain":
        try:
            date.fromisoformat(body["expiry"])
        except ValueError:
            raise ReplayFormatError(
                f"{path}:{line}: expiry is not a YYYY-MM-DD date: {body['expiry']!r}"
            ) from None
    ts = datetime.fromisoformat(body["ts"].replace("Z", "+00:00"))
    return _Recorded(line=line, record=body, ts=ts)


def _expiry_shift(recorded: datetime, now: datetime) -> timedelta:
    """Whole weeks that move a recorded expiry at least as far ahead of ``now`` as it was of the tick."""
    days = (now.astimezone(UTC).date() - recorded.astimezone(UTC).date()).days
    return timedelta(weeks=math.ceil(days / 7)) if days > 0 else timedelta(0)
