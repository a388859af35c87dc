"use client";
// LineChart: time series as lines (lightweight-charts), with a legend that names each line and
// its latest value. For figures that are not money — lag, rates, latencies — whose Numbers only
// place pixels. Points are {time (ms), value}; a series may gain points at any time, and lines
// appear and vanish with their series. Colours follow the theme.
import {
  createChart,
  type IChartApi,
  type ISeriesApi,
  LineSeries,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef } from "react";
import { themeColor, useThemeName } from "../../hooks/use-theme";

export type LinePoint = { time: number; value: number };
export type LineSeriesData = { key: string; label: string; points: readonly LinePoint[] };

export type LineChartProps = {
  /** Names the chart for screen readers (the legend carries the figures). */
  label: string;
  series: readonly LineSeriesData[];
  /** Appended to values in the legend and the axis ("ms", "/s"). */
  unit?: string;
  height?: number;
  /** Shown over the chart when no series has a point. */
  emptyMessage?: string;
  testId?: string;
};

/** Distinct, readable on both themes; the first two are the theme's accent and green. */
const PALETTE = [
  "--accent",
  "--up",
  "#f0b90b",
  "#c678dd",
  "#56b6c2",
  "--down",
  "#e5c07b",
  "#98c379",
];

const colorAt = (index: number) => {
  const name = PALETTE[index % PALETTE.length] ?? "--accent";
  return name.startsWith("--") ? themeColor(name) : name;
};

/** One point per second at most (the chart's time unit), the last one of each second kept. */
function toChartData(points: readonly LinePoint[]) {
  const bySecond = new Map<number, number>();
  for (const point of points) bySecond.set(Math.floor(point.time / 1000), point.value);
  return [...bySecond.entries()]
    .sort(([a], [b]) => a - b)
    .map(([time, value]) => ({ time: time as UTCTimestamp, value }));
}

/** The same colour for the legend, as CSS (follows the theme without a re-render). */
const cssColorAt = (index: number) => {
  const name = PALETTE[index % PALETTE.length] ?? "--accent";
  return name.startsWith("--") ? `var(${name})` : name;
};

const formatValue = (value: number | undefined, unit: string | undefined) =>
  value === undefined ? "—" : `${value.toLocaleString("en-US")}${unit ? ` ${unit}` : ""}`;

export function LineChart({
  label,
  series,
  unit,
  height = 180,
  emptyMessage = "No figures yet.",
  testId,
}: LineChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const lines = useRef(new Map<string, ISeriesApi<"Line">>());
  const theme = useThemeName();

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const created = createChart(element, {
      height,
      autoSize: true,
      layout: { attributionLogo: false },
      timeScale: { timeVisible: true, secondsVisible: true },
      rightPriceScale: { scaleMargins: { top: 0.1, bottom: 0.05 } },
      handleScroll: false,
      handleScale: false,
    });
    chart.current = created;
    const drawn = lines.current;
    return () => {
      created.remove();
      chart.current = null;
      drawn.clear();
    };
  }, [height]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the theme is the trigger; colours are read from CSS
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.applyOptions({
      layout: { background: { color: themeColor("--panel") }, textColor: themeColor("--muted") },
      grid: {
        vertLines: { color: themeColor("--line") },
        horzLines: { color: themeColor("--line") },
      },
      rightPriceScale: { borderColor: themeColor("--line") },
      timeScale: { borderColor: themeColor("--line") },
    });
    [...lines.current.values()].forEach((line, i) => {
      line.applyOptions({ color: colorAt(i) });
    });
  }, [theme]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the theme picks the new lines' colours
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const wanted = new Set(series.map((s) => s.key));
    for (const [key, line] of lines.current) {
      if (wanted.has(key)) continue;
      c.removeSeries(line);
      lines.current.delete(key);
    }
    series.forEach((s, i) => {
      let line = lines.current.get(s.key);
      if (!line) {
        line = c.addSeries(LineSeries, {
          color: colorAt(i),
          lineWidth: 2,
          priceLineVisible: false,
          lastValueVisible: false,
        });
        lines.current.set(s.key, line);
      }
      line.setData(toChartData(s.points));
    });
    if (series.some((s) => s.points.length > 0)) c.timeScale().fitContent();
  }, [series, theme]);

  const empty = series.every((s) => s.points.length === 0);
  return (
    <figure
      className="line-chart"
      data-testid={testId}
      data-points={Math.max(0, ...series.map((s) => s.points.length))}
      aria-label={label}
    >
      <div className="line-chart-box" style={{ height }}>
        <div ref={box} style={{ height }} aria-hidden="true" />
        {empty ? <div className="line-chart-empty muted">{emptyMessage}</div> : null}
      </div>
      <figcaption className="line-chart-legend">
        {series.map((s, i) => (
          <span key={s.key} className="line-chart-key" data-series={s.key}>
            <span
              className="line-chart-swatch"
              style={{ background: cssColorAt(i) }}
              aria-hidden="true"
            />
            {s.label}
            <span className="num line-chart-value">
              {formatValue(s.points.at(-1)?.value, unit)}
            </span>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
