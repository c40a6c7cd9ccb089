import { useEffect, useRef } from "preact/hooks";

// A heatmap on one canvas: rows down (labelled), numeric columns across (labelled, with an optional
// second line), values as colour on a perceptual scale (viridis) with a legend; blank where null.
// Redrawn on data and on resize, never rebuilt.

const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];

export interface HeatmapData {
  rows: string[];
  columns: number[];
  values: (number | null)[][]; // [row][column]
  format: (value: number) => string; // legend labels
  subLabel?: (column: number) => string; // a second line under a column label
}

export function Heatmap({ title, label, data, empty }: { title: string; label: string; data: HeatmapData; empty: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const draw = () => paint(el, data, empty);
    draw();
    const resize = new ResizeObserver(draw);
    resize.observe(el);
    return () => resize.disconnect();
  }, [data, empty]);
  return (
    <section class="panel" aria-label={title}>
      <h2>{title}</h2>
      <canvas ref={canvas} class="heatmap" role="img" aria-label={label} />
    </section>
  );
}

function paint(el: HTMLCanvasElement, data: HeatmapData, empty: string) {
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
  const cells = data.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  if (cells.length === 0 || data.rows.length === 0) {
    g.fillText(empty, 12, 20);
    return;
  }
  let lo = cells[0];
  let hi = cells[0];
  for (const v of cells) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const left = 78;
  const bottom = data.subLabel ? 40 : 26;
  const legend = 62;
  const plotW = width - left - legend;
  const plotH = height - bottom - 8;
  const cw = plotW / data.columns.length;
  const ch = plotH / data.rows.length;
  data.values.forEach((row, r) =>
    row.forEach((v, c) => {
      if (v === null || !Number.isFinite(v)) return;
      g.fillStyle = colour((v - lo) / (hi - lo || 1));
      g.fillRect(left + c * cw, 4 + r * ch, Math.ceil(cw), Math.ceil(ch));
    }),
  );
  g.fillStyle = "#9aa4b2";
  g.textBaseline = "middle";
  data.rows.forEach((name, r) => g.fillText(name, 4, 4 + (r + 0.5) * ch));
  g.textBaseline = "top";
  g.textAlign = "center";
  const step = Math.max(1, Math.ceil(data.columns.length / Math.max(1, Math.floor(plotW / 56))));
  data.columns.forEach((column, c) => {
    if (c % step !== 0) return;
    const x = left + (c + 0.5) * cw;
    g.fillText(String(column), x, height - bottom + 4);
    if (data.subLabel) g.fillText(data.subLabel(column), x, height - bottom + 18);
  });
  g.textAlign = "left";
  for (let i = 0; i < 50; i++) {
    g.fillStyle = colour(1 - i / 49);
    g.fillRect(width - legend + 8, 4 + (i * plotH) / 50, 10, Math.ceil(plotH / 50));
  }
  g.fillStyle = "#9aa4b2";
  g.fillText(data.format(hi), width - legend + 20, 2);
  g.textBaseline = "bottom";
  g.fillText(data.format(lo), width - legend + 20, 4 + plotH);
}

function colour(x: number): string {
  return VIRIDIS[Math.min(VIRIDIS.length - 1, Math.max(0, Math.round(x * (VIRIDIS.length - 1))))];
}
