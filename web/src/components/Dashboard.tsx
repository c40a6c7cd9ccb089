import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Api } from "../api";
import { coalesce } from "../events";
import { num, pct, time } from "../format";
import { Live, type LiveEvent, type LiveStatus } from "../live";
import { WINDOWS, type Bar, type Chain, type Product, type Underlying, type Window } from "../types";
import { Buildup } from "./Buildup";
import { ChainTable } from "./ChainTable";
import { Metrics } from "./Metrics";
import { OiChart } from "./OiChart";
import { PriceChart } from "./PriceChart";
import { SmileChart } from "./SmileChart";
import { OiHeatmaps, Surface } from "./Surface";

// The page: REST for the first picture (chains of every expiry, bars), then the WebSocket
// keeps it live — `product:SYM` (ticks with their OHLC bars) and `chain:SYM` (every expiry's chain);
// `general` feeds the ticker of all products. Events are applied once per animation frame, so a
// burst costs one render.

interface Ticker {
  price: number;
  previous: number | null;
}

export function Dashboard({ api, wsUrl, onSignOut }: { api: Api; wsUrl: string; onSignOut: () => void }) {
  const [products, setProducts] = useState<Product[]>([]);
  const [product, setProduct] = useState(() => new URLSearchParams(location.search).get("product") ?? "NIFTY");
  const [expiries, setExpiries] = useState<string[]>([]);
  const [expiry, setExpiry] = useState<string | null>(null);
  const [chains, setChains] = useState<Map<string, Chain>>(new Map());
  const [tick, setTick] = useState<Underlying | null>(null);
  const [ticker, setTicker] = useState<Map<string, Ticker>>(new Map());
  const [window_, setWindow] = useState<Window>(1);
  const [bars, setBars] = useState<Bar[]>([]);
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [connection, setConnection] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const productRef = useRef(product);
  productRef.current = product;

  // --- live: one socket for the page's life. Events are coalesced per record (the newest tick of
  // each product, chain of each expiry) and applied once per animation frame: a hidden tab, where
  // frames pause, holds one event per key instead of piling up every update.
  const live = useMemo(() => {
    let pending = new Map<string, LiveEvent>();
    let frame = 0;
    const flush = () => {
      frame = 0;
      const events = [...pending.values()];
      pending = new Map();
      apply(events);
    };
    const connection = new Live(
      wsUrl,
      (force) => api.freshToken(force),
      (event) => {
        coalesce(pending, event);
        frame ||= requestAnimationFrame(flush);
      },
      setStatus,
    );
    connection.onStop = () => {
      cancelAnimationFrame(frame);
      frame = 0;
      pending = new Map();
    };
    return connection;
  }, [api, wsUrl]);

  function apply(events: LiveEvent[]) {
    const current = productRef.current;
    let newTick: Underlying | null = null;
    const newChains: Chain[] = [];
    const prices = new Map<string, number>();
    for (const { event, data } of events) {
      if (event === "connected") setConnection(data?.connection_id ?? null);
      const record = event === "subscribed" ? data?.snapshot : data;
      if (!record || typeof record !== "object") continue;
      if (event === "underlying_update" || (event === "subscribed" && record.type === "enriched_underlying")) {
        prices.set(record.product, record.price);
        if (record.product === current) newTick = record as Underlying;
      } else if (event === "chain_update" || (event === "subscribed" && record.type === "enriched_chain")) {
        if (record.product === current) newChains.push(record as Chain);
      }
    }
    if (prices.size) {
      setTicker((old) => {
        const next = new Map(old);
        for (const [symbol, price] of prices) next.set(symbol, { price, previous: old.get(symbol)?.price ?? null });
        return next;
      });
    }
    if (newTick) setTick((old) => (!old || old.product !== newTick!.product || newTick!.tick_id >= old.tick_id ? newTick : old));
    if (newChains.length) {
      setChains((old) => {
        const next = new Map(old);
        for (const chain of newChains) {
          const before = next.get(chain.expiry);
          if (!before || chain.tick_id >= before.tick_id) next.set(chain.expiry, chain);
        }
        return next;
      });
      setExpiries((old) => {
        const known = new Set(old);
        const added = newChains.map((c) => c.expiry).filter((e) => !known.has(e));
        return added.length ? [...old, ...new Set(added)].sort() : old;
      });
      // live chains stand in for a first load that failed (e.g. signed in before the first chain)
      setExpiry((e) => e ?? newChains.map((c) => c.expiry).sort()[0]);
      setProblem((p) => (p?.startsWith("Could not load") ? null : p));
    }
  }

  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);

  useEffect(() => {
    api.products().then(setProducts, (e) => setProblem(String(e.message ?? e)));
  }, [api]);

  // --- product change: first picture over REST, then the product's rooms
  useEffect(() => {
    let cancelled = false;
    setChains(new Map());
    setExpiries([]);
    setTick(null);
    setExpiry(null);
    setProblem(null);
    const url = new URL(location.href);
    url.searchParams.set("product", product);
    history.replaceState(null, "", url);
    live.watch([
      { type: "product", symbol: product },
      { type: "chain", symbol: product },
    ]);
    (async () => {
      try {
        const [list, latest] = await Promise.all([api.expiries(product), api.underlying(product)]);
        if (cancelled) return;
        setExpiries(list);
        setExpiry((e) => e ?? list[0] ?? null);
        if (latest) setTick((old) => old ?? latest);
        const fetched = await Promise.all(list.map((e) => api.chain(product, e).catch(() => null)));
        if (cancelled) return;
        setChains((old) => {
          const next = new Map(old);
          for (const chain of fetched) {
            if (chain && (!next.get(chain.expiry) || chain.tick_id > next.get(chain.expiry)!.tick_id)) next.set(chain.expiry, chain);
          }
          return next;
        });
      } catch (e) {
        if (!cancelled) setProblem(`Could not load ${product}: ${(e as Error).message}`);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, live, product]);

  useEffect(() => {
    let cancelled = false;
    api.ohlc(product, window_).then(
      (b) => !cancelled && setBars(b),
      () => !cancelled && setBars([]),
    );
    return () => {
      cancelled = true;
    };
  }, [api, product, window_]);

  const selected = expiry ? chains.get(expiry) ?? null : null;
  const ordered = useMemo(() => [...chains.values()].sort((a, b) => a.expiry.localeCompare(b.expiry)), [chains]);
  const liveBar = tick?.product === product ? tick.ohlc?.[`${window_}m`] ?? null : null;
  const info = products.find((p) => p.symbol === product);
  const move = ticker.get(product);
  const first = useRef(false);
  if (selected && !first.current) {
    first.current = true;
    performance.mark("first-chain");
  }

  return (
    <div class="dashboard">
      <header class="topbar">
        <h1>
          Delta<span>Stream</span>
        </h1>
        <label>
          Product
          <select aria-label="Product" value={product} onChange={(e) => setProduct(e.currentTarget.value)}>
            {(products.length ? products : [{ symbol: product, name: product } as Product]).map((p) => (
              <option key={p.symbol} value={p.symbol}>
                {p.symbol}
              </option>
            ))}
          </select>
        </label>
        <label>
          Expiry
          <select aria-label="Expiry" value={expiry ?? ""} onChange={(e) => setExpiry(e.currentTarget.value)}>
            {expiries.map((e) => (
              <option key={e} value={e}>
                {e}
              </option>
            ))}
          </select>
        </label>
        <div class="spot" aria-live="polite">
          <span class="muted">{info?.name ?? product}</span>
          <strong data-testid="spot" data-tick={tick?.tick_id} class={move?.previous != null ? (move.price > move.previous ? "up" : move.price < move.previous ? "down" : "") : ""}>
            {tick ? num(tick.price) : "—"}
          </strong>
          <span class="muted" data-testid="tick-time">{tick ? time(tick.ts) : ""}</span>
        </div>
        <div class={`status ${status}`} data-testid="status" data-connection={connection ?? undefined} title="Live connection">
          <i /> {status}
        </div>
        <span class="muted user">{api.user?.name}</span>
        <button class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav class="ticker" aria-label="All products">
        {[...ticker.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([symbol, t]) => (
          <button key={symbol} class={`tick ${symbol === product ? "current" : ""}`} onClick={() => setProduct(symbol)}>
            {symbol} <span class={t.previous == null ? "" : t.price >= t.previous ? "up" : "down"}>{num(t.price)}</span>
          </button>
        ))}
      </nav>
      {problem && (
        <p class="error banner" role="alert">
          {problem}
        </p>
      )}
      <Metrics chain={selected} />
      <div class="grid">
        <section class="panel price" aria-label="Price">
          <header>
            <h2>
              {product} <span class="muted">{selected ? `ATM IV ${pct(selected.atm_iv)}` : ""}</span>
            </h2>
            <div class="segmented" role="group" aria-label="Candle window">
              {WINDOWS.map((w) => (
                <button key={w} class={w === window_ ? "on" : ""} aria-pressed={w === window_} onClick={() => setWindow(w)}>
                  {w}m
                </button>
              ))}
            </div>
          </header>
          <PriceChart bars={bars} live={liveBar} />
        </section>
        <Buildup chain={selected} />
      </div>
      <ChainTable chain={selected} />
      <OiChart chain={selected} />
      <div class="grid">
        <SmileChart chains={ordered} />
        <Surface chains={ordered} />
      </div>
      <OiHeatmaps chains={ordered} />
    </div>
  );
}

