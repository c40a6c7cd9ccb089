import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

// A uPlot chart (plot area ``height`` px, legend below) that follows its container's width and takes new data with `setData` (the chart
// object lives as long as the component; options changes rebuild it).

export function Plot({
  options,
  data,
  label,
  height = 220,
}: {
  options: Omit<uPlot.Options, "width" | "height">;
  data: uPlot.AlignedData;
  label: string;
  height?: number;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current!;
    const p = new uPlot({ ...options, width: el.clientWidth || 400, height }, data, el);
    plot.current = p;
    const resize = new ResizeObserver(() => p.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div class="plot" ref={host} role="img" aria-label={label} />;
}

export const AXIS = { stroke: "#9aa4b2", grid: { stroke: "#1f2633", width: 1 }, ticks: { stroke: "#2a3342", width: 1 } };
