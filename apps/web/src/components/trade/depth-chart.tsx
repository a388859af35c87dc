"use client";
import { unitsToDecimal } from "@spotx/engine/decimal";
// The depth chart: cumulative bids and asks against price, drawn as an SVG from the live book
// (the series in integers from lib/book-view; pixels only at the end).
import { useEffect, useMemo, useRef, useState } from "react";
import type { LiveBook } from "../../hooks/use-order-book";
import { depthPaths, depthSeries } from "../../lib/book-view";
import { formatPrice } from "../../lib/market-format";
import type { MarketView } from "../../trpc/views";
import { StateMessage } from "../ui/state-message";

export function DepthChart({ market, book }: { market: MarketView; book: LiveBook }) {
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 600, height: 360 });
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (!entry) return;
      setSize({
        width: Math.max(200, Math.floor(entry.contentRect.width)),
        height: Math.max(160, Math.floor(entry.contentRect.height)),
      });
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const series = useMemo(() => depthSeries(book, market), [book, market]);
  const { width, height } = size;
  const paths = useMemo(
    () => (series ? depthPaths(series, width, height - 24) : null),
    [series, width, height],
  );
  return (
    <div ref={box} className="depth" data-testid="depth-chart">
      {series && paths ? (
        <svg
          width={width}
          height={height}
          role="img"
          aria-label={`Depth of ${market.base}/${market.quote} around the mid price`}
        >
          <path d={paths.bid} className="depth-bid" />
          <path d={paths.ask} className="depth-ask" />
          <text x={4} y={height - 6} className="depth-label">
            {formatPrice(unitsToDecimal(series.lowTicks, market.pricePrecision), market)}
          </text>
          <text x={width - 4} y={height - 6} textAnchor="end" className="depth-label">
            {formatPrice(unitsToDecimal(series.highTicks, market.pricePrecision), market)}
          </text>
        </svg>
      ) : (
        <StateMessage kind={book.seq === null ? "loading" : "empty"} minHeight={height}>
          {book.seq === null ? "Loading the book…" : "No resting orders to chart yet."}
        </StateMessage>
      )}
    </div>
  );
}
