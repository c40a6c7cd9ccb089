import { CandlestickSeries, ColorType, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef } from "preact/hooks";
import type { Bar } from "../types";

// Intraday OHLC candles (TradingView's lightweight-charts): the chart is made once per mount and
// fed with `setData` on a window/product change and `update` for the live bar — no redraw flashes.

export function PriceChart({ bars, live }: { bars: Bar[]; live: Bar | null }) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);

  useEffect(() => {
    const c = createChart(host.current!, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: "#9aa4b2", attributionLogo: false },
      grid: { vertLines: { color: "#1f2633" }, horzLines: { color: "#1f2633" } },
      timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#2a3342" },
      rightPriceScale: { borderColor: "#2a3342" },
    });
    series.current = c.addSeries(CandlestickSeries, {
      upColor: "#26a69a", downColor: "#ef5350", borderVisible: false, wickUpColor: "#26a69a", wickDownColor: "#ef5350",
    });
    chart.current = c;
    return () => {
      c.remove();
      chart.current = null;
      series.current = null;
    };
  }, []);

  useEffect(() => {
    series.current?.setData(bars.map(candle));
    chart.current?.timeScale().scrollToRealTime();
  }, [bars]);

  useEffect(() => {
    if (!live || !series.current) return;
    const last = series.current.data().at(-1);
    const bar = candle(live);
    if (!last || (bar.time as number) >= (last.time as number)) series.current.update(bar);
  }, [live]);

  return <div class="price-chart" ref={host} data-testid="price-chart" />;
}

function candle(bar: Bar) {
  return {
    time: Math.floor(Date.parse(bar.start) / 1000) as UTCTimestamp,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
  };
}
