import { useMemo } from "preact/hooks";
import { compact } from "../format";
import { otmSmiles } from "../smile";
import type { Chain } from "../types";
import { Heatmap, type HeatmapData } from "./Heatmap";

// The volatility surface (expiries down, strikes across with K/S, out-of-the-money IV as colour) and
// the open interest of calls and of puts on the same grid — built from the live chains of every
// expiry, so they move with every update.

export function Surface({ chains }: { chains: Chain[] }) {
  const data = useMemo<HeatmapData>(() => {
    const { strikes, iv } = otmSmiles(chains);
    const spot = chains[0]?.spot;
    return {
      rows: chains.map((c) => c.expiry),
      columns: strikes,
      values: iv,
      format: (v) => `${(v * 100).toFixed(0)}%`,
      subLabel: spot ? (k) => (k / spot).toFixed(3) : undefined,
    };
  }, [chains]);
  return <Heatmap title="Volatility surface" label="Implied volatility by expiry and strike" data={data} empty="Waiting for chains…" />;
}

export function OiHeatmaps({ chains }: { chains: Chain[] }) {
  const [calls, puts] = useMemo(() => {
    const strikes = [...new Set(chains.flatMap((c) => c.strikes))].sort((a, b) => a - b);
    const grid = (side: "calls" | "puts") =>
      chains.map((c) => {
        const oi = new Map(c[side].map((q) => [q.strike, q.oi]));
        return strikes.map((k) => oi.get(k) ?? null);
      });
    const of = (side: "calls" | "puts"): HeatmapData => ({
      rows: chains.map((c) => c.expiry),
      columns: strikes,
      values: grid(side),
      format: compact,
    });
    return [of("calls"), of("puts")];
  }, [chains]);
  return (
    <div class="grid">
      <Heatmap title="Call OI heatmap" label="Call open interest by expiry and strike" data={calls} empty="Waiting for chains…" />
      <Heatmap title="Put OI heatmap" label="Put open interest by expiry and strike" data={puts} empty="Waiting for chains…" />
    </div>
  );
}
