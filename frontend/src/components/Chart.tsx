import { useEffect, useRef, useState } from "react";
import { formatNY, formatUTC } from "../lib/format";

export interface ChartPoint {
  time: number; // unix seconds, UTC
  value: number;
}
export interface ChartSeries {
  name: string;
  data: ChartPoint[];
  color?: string;
  pane?: number;
}
export interface ChartMarker {
  time: number;
  kind: "entry" | "exit" | "stop" | "news";
  text: string;
  series?: number;
}

const markerStyle = {
  entry: { position: "belowBar", shape: "arrowUp", color: "#047857" },
  exit: { position: "aboveBar", shape: "arrowDown", color: "#b91c1c" },
  stop: { position: "aboveBar", shape: "square", color: "#92400e" },
  news: { position: "aboveBar", shape: "circle", color: "#1d4ed8" },
} as const;
const palette = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490"];

const nyParts = (t: number, opts: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", ...opts }).format(new Date(t * 1000));
/** Axis labels in New York time: years, months, days or times as the scale zooms. */
function tick(t: number, kind: number): string {
  if (kind === 0) return nyParts(t, { year: "numeric" });
  if (kind === 1) return nyParts(t, { month: "short", year: "numeric" });
  if (kind === 2) return nyParts(t, { month: "short", day: "2-digit" });
  return nyParts(t, { hour: "2-digit", minute: "2-digit", hour12: false });
}

function dedupeSorted(points: ChartPoint[]): ChartPoint[] {
  const byTime = new Map<number, number>();
  for (const p of points) if (Number.isFinite(p.value)) byTime.set(Math.floor(p.time), p.value);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
}

/**
 * A line chart (lightweight-charts, loaded on demand so it stays out of the first route's
 * bundle; its attribution logo is kept as its licence asks). Every chart comes with a
 * table alternative holding the same numbers.
 */
export function Chart({
  label,
  series,
  markers = [],
  height = 260,
  valueLabel = "Value",
}: {
  label: string;
  series: ChartSeries[];
  markers?: ChartMarker[];
  height?: number;
  valueLabel?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el || typeof window === "undefined" || !("ResizeObserver" in window)) return;
    let disposed = false;
    let cleanup: (() => void) | undefined;
    import("lightweight-charts")
      .then((lc) => {
        if (disposed) return;
        const chart = lc.createChart(el, {
          height,
          autoSize: true,
          layout: { attributionLogo: true, textColor: "#1e293b", background: { color: "#ffffff" } },
          localization: { timeFormatter: (t: number) => formatNY(t * 1000) },
          timeScale: { timeVisible: true, tickMarkFormatter: (t: number, kind: number) => tick(t, kind) },
          handleScroll: true,
          handleScale: true,
        });
        const made = series.map((s, i) => {
          const line = chart.addSeries(
            lc.LineSeries,
            { color: s.color ?? palette[i % palette.length], lineWidth: 2, title: s.name },
            s.pane ?? 0,
          );
          line.setData(dedupeSorted(s.data).map((p) => ({ time: p.time as never, value: p.value })));
          return line;
        });
        const bySeries = new Map<number, ChartMarker[]>();
        for (const m of markers) bySeries.set(m.series ?? 0, [...(bySeries.get(m.series ?? 0) ?? []), m]);
        for (const [idx, ms] of bySeries) {
          const target = made[idx];
          if (!target) continue;
          lc.createSeriesMarkers(
            target,
            [...ms]
              .sort((a, b) => a.time - b.time)
              .map((m) => ({ time: Math.floor(m.time) as never, text: m.text, ...markerStyle[m.kind] })),
          );
        }
        chart.timeScale().fitContent();
        cleanup = () => chart.remove();
      })
      .catch(() => setFailed(true));
    return () => {
      disposed = true;
      cleanup?.();
    };
  }, [series, markers, height]);

  const rows = series.flatMap((s) => dedupeSorted(s.data).map((p) => ({ s: s.name, ...p })));
  if (rows.length === 0) {
    return (
      <figure className="w-full">
        <figcaption className="mb-1 text-sm font-semibold">{label}</figcaption>
        <p className="text-sm text-slate-700">No data yet.</p>
      </figure>
    );
  }
  return (
    <figure className="w-full">
      <figcaption className="mb-1 text-sm font-semibold">{label}</figcaption>
      {failed ? <p role="alert">The chart could not be drawn; the table below has the same data.</p> : null}
      <p className="sr-only">Chart of {label}; the table below holds the same data.</p>
      <div ref={box} style={{ height }} className="w-full" />
      <details className="mt-1 text-sm">
        <summary className="cursor-pointer text-blue-800 underline">{label}: show as table</summary>
        <div className="max-h-64 overflow-auto" tabIndex={0} role="region" aria-label={`${label} table`}>
          <table className="w-full text-left">
            <thead>
              <tr>
                <th scope="col">Series</th>
                <th scope="col">Time (New York)</th>
                <th scope="col">{valueLabel}</th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(-500).map((r) => (
                <tr key={`${r.s}-${r.time}`}>
                  <td>{r.s}</td>
                  <td title={formatUTC(r.time * 1000)}>{formatNY(r.time * 1000)}</td>
                  <td>{r.value.toFixed(4)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {markers.length ? (
            <table className="mt-2 w-full text-left">
              <caption className="text-left font-semibold">Markers</caption>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Time (New York)</th>
                  <th scope="col">Note</th>
                </tr>
              </thead>
              <tbody>
                {markers.map((m, i) => (
                  <tr key={`${m.kind}-${m.time}-${i}`}>
                    <td>{m.kind}</td>
                    <td title={formatUTC(m.time * 1000)}>{formatNY(m.time * 1000)}</td>
                    <td>{m.text}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      </details>
    </figure>
  );
}
