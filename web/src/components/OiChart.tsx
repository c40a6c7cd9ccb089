import { useMemo } from "preact/hooks";
import uPlot from "uplot";
import type { Chain } from "../types";
import { AXIS, Plot } from "./Plot";

// Open interest by strike (calls vs puts) and its change since the previous chain, as grouped bars.

const bars = uPlot.paths.bars!;

function options(title: string): Omit<uPlot.Options, "width" | "height"> {
  return {
    title,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false } },
    axes: [{ ...AXIS }, { ...AXIS, size: 56, values: (_u, v) => v.map((x) => (Math.abs(x) >= 1e3 ? `${x / 1e3}k` : `${x}`)) }],
    series: [
      { label: "Strike" },
      { label: "Calls", stroke: "#26a69a", fill: "#26a69a99", paths: bars({ size: [0.4, 40], align: -1 }) },
      { label: "Puts", stroke: "#ef5350", fill: "#ef535099", paths: bars({ size: [0.4, 40], align: 1 }) },
    ],
  };
}

const OI = options("Open interest by strike");
const CHANGE = options("Change in OI by strike");

export function OiChart({ chain }: { chain: Chain | null }) {
  const oi = useMemo<uPlot.AlignedData>(
    () => (chain ? [chain.strikes, chain.calls.map((q) => q.oi), chain.puts.map((q) => q.oi)] : [[], [], []]),
    [chain],
  );
  const change = useMemo<uPlot.AlignedData>(
    () =>
      chain
        ? [chain.buildup.map((b) => b.strike), chain.buildup.map((b) => b.call_oi_change), chain.buildup.map((b) => b.put_oi_change)]
        : [[], [], []],
    [chain],
  );
  return (
    <section class="panel charts-2" aria-label="Open interest">
      <Plot options={OI} data={oi} label="Open interest by strike, calls and puts" />
      <Plot options={CHANGE} data={change} label="Change in open interest by strike" />
    </section>
  );
}
