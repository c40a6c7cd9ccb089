import { useMemo } from "preact/hooks";
import type uPlot from "uplot";
import { otmSmiles } from "../smile";
import type { Chain } from "../types";
import { AXIS, Plot } from "./Plot";

// The IV smile of each expiry (out-of-the-money IV by strike), one line per expiry.

const COLORS = ["#4fc3f7", "#ffb74d", "#ba68c8", "#81c784", "#f06292", "#fff176"];

export function SmileChart({ chains }: { chains: Chain[] }) {
  const expiries = chains.map((c) => c.expiry).join(",");
  const options = useMemo<Omit<uPlot.Options, "width" | "height">>(
    () => ({
      title: "IV smile by expiry",
      scales: { x: { time: false } },
      axes: [{ ...AXIS }, { ...AXIS, size: 50, values: (_u, v) => v.map((x) => `${(x * 100).toFixed(0)}%`) }],
      series: [{ label: "Strike" }, ...chains.map((c, i) => ({ label: c.expiry, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true }))],
    }),
    [expiries], // eslint-disable-line react-hooks/exhaustive-deps -- rebuilt when the set of expiries changes
  );
  const data = useMemo<uPlot.AlignedData>(() => {
    const { strikes, iv } = otmSmiles(chains);
    return [strikes, ...iv] as uPlot.AlignedData;
  }, [chains]);
  return (
    <section class="panel" aria-label="IV smile">
      <Plot options={options} data={data} label="Implied volatility smile per expiry" />
    </section>
  );
}
