"use client";
// The order book: asks above, bids below, grouped by a chosen price step, each row with its
// cumulative depth bar; the spread and last price between them. A fixed number of rows per side
// (empty rows hold their place) so live updates never move the layout. Clicking a row puts its
// price in the order form.
import { useMemo, useState } from "react";
import type { LiveBook } from "../../hooks/use-order-book";
import { bookView, priceSteps } from "../../lib/book-view";
import { formatAmount, formatPrice } from "../../lib/market-format";
import type { MarketView } from "../../trpc/views";
import { Select } from "../ui/select";

const ROWS = 12;

export function OrderBookPanel({
  market,
  book,
  last,
  lastSide,
  onPick,
  className,
}: {
  market: MarketView;
  book: LiveBook;
  last: string;
  lastSide: "buy" | "sell" | null;
  onPick: (price: string) => void;
  className?: string;
}) {
  const steps = useMemo(() => priceSteps(market), [market]);
  const [step, setStep] = useState(steps[0]?.ticks ?? 1n);
  const view = useMemo(() => bookView(book, step, ROWS, market), [book, step, market]);
  // Asks are drawn best-last (nearest the spread), padded above with empty rows.
  const asks = [...view.asks].reverse();
  const askPad = ROWS - asks.length;
  const bidPad = ROWS - view.bids.length;
  return (
    <section
      className={`panel book ${className ?? ""}`}
      aria-label="Order book"
      data-testid="order-book"
      data-seq={book.seq ?? ""}
    >
      <div className="panel-head">
        <h2>Order book</h2>
        <div className="book-step">
          <Select
            className="select-sm"
            value={String(step)}
            options={steps.map((s) => ({ value: String(s.ticks), label: s.label }))}
            onValueChange={(value) => setStep(BigInt(value))}
            aria-label="Group prices by"
          />
        </div>
      </div>
      <div className="book-head" aria-hidden="true">
        <span>Price ({market.quote})</span>
        <span>Amount ({market.base})</span>
        <span>Total ({market.base})</span>
      </div>
      <div className="book-side" data-testid="book-asks">
        {Array.from({ length: askPad }, (_, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have nothing but their position
          <div key={`pad-${i}`} className="book-row book-row-empty" aria-hidden="true" />
        ))}
        {asks.map((row) => (
          <button
            key={String(row.priceTicks)}
            type="button"
            className="book-row ask"
            style={{ "--depth": `${(row.depthShare * 100).toFixed(1)}%` } as React.CSSProperties}
            onClick={() => onPick(row.price)}
            aria-label={`Ask ${row.price}, ${row.amount} ${market.base}: use this price`}
            data-testid="book-row"
          >
            <span className="num down">{formatPrice(row.price, market)}</span>
            <span className="num">{formatAmount(row.amount, market)}</span>
            <span className="num muted">{formatAmount(row.cumulative, market)}</span>
          </button>
        ))}
      </div>
      <div className="book-mid" data-testid="book-spread">
        <span
          className={`num book-last ${lastSide === "buy" ? "up" : lastSide === "sell" ? "down" : ""}`}
        >
          {last ? formatPrice(last, market) : "—"}
        </span>
        <span className="muted book-spread">
          {view.spread
            ? `Spread ${formatPrice(view.spread.price, market)} (${view.spread.percent}%)`
            : book.phase === "syncing" && book.seq === null
              ? "Loading…"
              : "No spread"}
        </span>
      </div>
      <div className="book-side" data-testid="book-bids">
        {view.bids.map((row) => (
          <button
            key={String(row.priceTicks)}
            type="button"
            className="book-row bid"
            style={{ "--depth": `${(row.depthShare * 100).toFixed(1)}%` } as React.CSSProperties}
            onClick={() => onPick(row.price)}
            aria-label={`Bid ${row.price}, ${row.amount} ${market.base}: use this price`}
            data-testid="book-row"
          >
            <span className="num up">{formatPrice(row.price, market)}</span>
            <span className="num">{formatAmount(row.amount, market)}</span>
            <span className="num muted">{formatAmount(row.cumulative, market)}</span>
          </button>
        ))}
        {Array.from({ length: bidPad }, (_, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have nothing but their position
          <div key={`pad-${i}`} className="book-row book-row-empty" aria-hidden="true" />
        ))}
      </div>
      {book.asks.length === 0 && book.bids.length === 0 && book.seq !== null ? (
        <p className="book-empty muted">The book is empty: no resting orders yet.</p>
      ) : null}
    </section>
  );
}
