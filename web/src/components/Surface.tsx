import { useEffect, useMemo, useRef } from "preact/hooks";
import { otmSmiles } from "../smile";
import type { Chain } from "../types";

// The volatility surface as a heatmap: expiries down, strikes across (moneyness K/S under them), the
// out-of-the-money IV of every live chain as colour on a perceptual scale (viridis); blank where a
// chain has no quote. Built from the chains the page already holds, so it moves with every update.

const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];

export function Surface({ chains }: { chains: Chain[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const surface = useMemo(() => ({ ...otmSmiles(chains), expiries: chains.map((c) => c.expiry), spot: chains[0]?.spot ?? null }), [chains]);

  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const draw = () => paint(el, surface);
    draw();
    const resize = new ResizeObserver(draw);
    resize.observe(el);
    return () => resize.disconnect();
  }, [surface]);

  return (
    <section class="panel" aria-label="Volatility surface">
      <h2>Volatility surface</h2>
      <canvas ref={canvas} class="surface" data-testid="surface" role="img" aria-label="Implied volatility by expiry and strike" />
    </section>
  );
}

interface Grid {
  expiries: string[];
  strikes: number[];
  iv: (number | null)[][];
  spot: number | null;
}

function paint(el: HTMLCanvasElement, surface: Grid) {
  const ratio = window.devicePixelRatio || 1;
  const width = el.clientWidth;
  const height = el.clientHeight;
  el.width = Math.round(width * ratio);
  el.height = Math.round(height * ratio);
  const g = el.getContext("2d")!;
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#9aa4b2";
  const cells = surface.iv.flat().filter((v): v is number => v !== null);
  if (cells.length === 0) {
    g.fillText("Waiting for chains…", 12, 20);
    return;
  }
  const lo = Math.min(...cells);
  const hi = Math.max(...cells);
  const left = 78;
  const bottom = 40;
  const legend = 46;
  const plotW = width - left - legend;
  const plotH = height - bottom - 8;
  const cols = surface.strikes.length;
  const cw = plotW / cols;
  const ch = plotH / surface.expiries.length;
  surface.iv.forEach((row, r) =>
    row.forEach((iv, c) => {
      if (iv === null) return;
      g.fillStyle = colour((iv - lo) / (hi - lo || 1));
      g.fillRect(left + c * cw, 4 + r * ch, Math.ceil(cw), Math.ceil(ch));
    }),
  );
  g.fillStyle = "#9aa4b2";
  g.textBaseline = "middle";
  surface.expiries.forEach((e, r) => g.fillText(e, 4, 4 + (r + 0.5) * ch));
  g.textBaseline = "top";
  const step = Math.max(1, Math.ceil(cols / Math.max(1, Math.floor(plotW / 56))));
  surface.strikes.forEach((k, c) => {
    if (c % step !== 0) return;
    const x = left + (c + 0.5) * cw;
    g.textAlign = "center";
    g.fillText(String(k), x, height - bottom + 4);
    if (surface.spot) g.fillText((k / surface.spot).toFixed(3), x, height - bottom + 18);
  });
  g.textAlign = "left";
  for (let i = 0; i < 50; i++) {
    g.fillStyle = colour(1 - i / 49);
    g.fillRect(width - legend + 8, 4 + (i * plotH) / 50, 10, Math.ceil(plotH / 50));
  }
  g.fillStyle = "#9aa4b2";
  g.fillText(`${(hi * 100).toFixed(0)}%`, width - legend + 20, 2);
  g.textBaseline = "bottom";
  g.fillText(`${(lo * 100).toFixed(0)}%`, width - legend + 20, 4 + plotH);
  g.fillText("strike · K/S", 4, height - 2);
}

function colour(x: number): string {
  const i = Math.min(VIRIDIS.length - 1, Math.max(0, Math.round(x * (VIRIDIS.length - 1))));
  return VIRIDIS[i];
}
