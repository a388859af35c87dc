"use client";
// The price chart: lightweight-charts candles with volume beneath, at a chosen interval (one of
// the 11 the backend serves, kept in the URL as `?interval=`), the last candle moving live.
// Prices and volumes arrive as exact decimal strings; they become Numbers only here, to place
// pixels. Colours follow the theme.
import {
  type CandlestickData,
  CandlestickSeries,
  createChart,
  type HistogramData,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import { useCallback, useEffect, useRef, useState } from "react";
import { useCandles } from "../../hooks/use-candles";
import { themeColor, useThemeName } from "../../hooks/use-theme";
import {
  CANDLE_INTERVALS,
  type CandleInterval,
  DEFAULT_CANDLE_INTERVAL,
  INTERVAL_PARAM,
} from "../../lib/candle-intervals";
import type { CandleView, MarketView } from "../../trpc/views";
import { Segmented } from "../ui/segmented";
import { StateMessage } from "../ui/state-message";

// All 11 intervals the backend serves, by gate.io's names.
const INTERVALS = CANDLE_INTERVALS.map((value) => ({ value, label: value }));

/** Puts the interval in the address bar (`?interval=4h`, none for the default) without a
 * navigation: Next.js keeps its router in step with history.replaceState. */
function showIntervalInUrl(interval: CandleInterval) {
  const url = new URL(window.location.href);
  if (interval === DEFAULT_CANDLE_INTERVAL) url.searchParams.delete(INTERVAL_PARAM);
  else url.searchParams.set(INTERVAL_PARAM, interval);
  window.history.replaceState(window.history.state, "", url);
}

function bars(candle: CandleView, up: string, down: string) {
  const time = candle.time as UTCTimestamp;
  const rising = Number(candle.close) >= Number(candle.open);
  const price: CandlestickData = {
    time,
    open: Number(candle.open),
    high: Number(candle.high),
    low: Number(candle.low),
    close: Number(candle.close),
  };
  const volume: HistogramData = {
    time,
    value: Number(candle.baseVolume),
    color: `${rising ? up : down}66`,
  };
  return { price, volume };
}

export function CandleChart({
  market,
  initialInterval = DEFAULT_CANDLE_INTERVAL,
}: {
  market: MarketView;
  /** The interval the URL asked for (the page checked it). */
  initialInterval?: CandleInterval;
}) {
  const [interval, setInterval] = useState<CandleInterval>(initialInterval);
  const chooseInterval = useCallback((next: CandleInterval) => {
    setInterval(next);
    showIntervalInUrl(next);
  }, []);
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<{
    price: ISeriesApi<"Candlestick">;
    volume: ISeriesApi<"Histogram">;
  } | null>(null);
  const theme = useThemeName();

  // The newest live candle: a history that loads after it must not hide it.
  const live = useRef<CandleView | null>(null);
  const onCandle = useCallback((candle: CandleView) => {
    live.current = candle;
    const s = series.current;
    if (!s) return;
    const { price, volume } = bars(candle, themeColor("--up"), themeColor("--down"));
    // A candle older than the last bar (a late delivery) cannot be updated in place: skip it.
    try {
      s.price.update(price);
      s.volume.update(volume);
    } catch {
      // lightweight-charts refuses updates older than its last bar; the next refetch has it.
    }
  }, []);
  const history = useCandles(market.symbol, interval, onCandle);
  // A new interval: the live candle of the old one does not belong to it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the interval is the trigger
  useEffect(() => {
    live.current = null;
  }, [interval]);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const created = createChart(element, {
      // The box's size comes from CSS (taller beside the book on a desktop, shorter on a phone).
      autoSize: true,
      layout: { attributionLogo: false },
      // Room on the right for the live candle and its time label.
      timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 6, barSpacing: 9 },
      rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.25 } },
    });
    const minMove = 1 / 10 ** market.pricePrecision;
    const price = created.addSeries(CandlestickSeries, {
      priceFormat: { type: "price", precision: market.pricePrecision, minMove },
    });
    const volume = created.addSeries(HistogramSeries, {
      priceScaleId: "volume",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    created.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.current = created;
    series.current = { price, volume };
    return () => {
      created.remove();
      chart.current = null;
      series.current = null;
    };
  }, [market.pricePrecision]);

  // The theme's colours, again whenever the theme changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the theme is the trigger; colours are read from CSS
  useEffect(() => {
    const c = chart.current;
    const s = series.current;
    if (!c || !s) return;
    const up = themeColor("--up");
    const down = themeColor("--down");
    c.applyOptions({
      layout: { background: { color: themeColor("--panel") }, textColor: themeColor("--muted") },
      grid: {
        vertLines: { color: themeColor("--line") },
        horzLines: { color: themeColor("--line") },
      },
      rightPriceScale: { borderColor: themeColor("--line") },
      timeScale: { borderColor: themeColor("--line") },
    });
    s.price.applyOptions({
      upColor: up,
      downColor: down,
      borderUpColor: up,
      borderDownColor: down,
      wickUpColor: up,
      wickDownColor: down,
    });
  }, [theme]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the theme recolours the volume bars
  useEffect(() => {
    const s = series.current;
    if (!s || !history.data) return;
    const up = themeColor("--up");
    const down = themeColor("--down");
    const newest = live.current;
    const last = history.data.at(-1);
    // The live candle replaces its window's settled copy, or follows the history.
    const candles =
      newest && (!last || newest.time >= last.time)
        ? [...history.data.filter((c) => c.time < newest.time), newest]
        : history.data;
    const drawn = candles.map((c) => bars(c, up, down));
    s.price.setData(drawn.map((d) => d.price));
    s.volume.setData(drawn.map((d) => d.volume));
  }, [history.data, theme]);

  return (
    <div className="chart">
      <div className="chart-tools">
        <Segmented
          label="Candle interval"
          className="interval-picker"
          options={INTERVALS}
          value={interval}
          onChange={chooseInterval}
        />
      </div>
      <div className="chart-box">
        <div
          ref={box}
          className="chart-canvas"
          data-testid="candle-chart"
          data-interval={interval}
        />
        {history.isError ? (
          <div className="chart-overlay">
            <StateMessage kind="error">
              Could not load the candles: {history.error.message}
            </StateMessage>
          </div>
        ) : history.data && history.data.length === 0 ? (
          <div className="chart-overlay">
            <StateMessage kind="empty">No trades yet at this interval.</StateMessage>
          </div>
        ) : null}
      </div>
    </div>
  );
}
