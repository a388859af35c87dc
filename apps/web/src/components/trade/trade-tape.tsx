"use client";
// The trade tape: the market's latest trades, newest on top, coloured by the taker's side.
// A fixed-height list, so arriving trades never push the page.
import type { TapeTrade } from "../../hooks/use-trades";
import { formatAmount, formatClock, formatPrice } from "../../lib/market-format";
import type { MarketView } from "../../trpc/views";

export function TradeTape({
  market,
  trades,
  className,
}: {
  market: MarketView;
  trades: TapeTrade[];
  className?: string;
}) {
  return (
    <section className={`panel tape ${className ?? ""}`} aria-label="Recent trades">
      <div className="panel-head">
        <h2>Trades</h2>
      </div>
      <div className="tape-head" aria-hidden="true">
        <span>Price ({market.quote})</span>
        <span>Amount ({market.base})</span>
        <span>Time</span>
      </div>
      <ol className="tape-list" data-testid="trade-tape" data-newest={trades[0]?.id ?? ""}>
        {trades.length === 0 ? (
          <li className="tape-empty muted">No trades yet.</li>
        ) : (
          trades.map((t) => (
            <li key={t.id} className="tape-row" data-testid="tape-trade">
              <span className={`num ${t.side === "buy" ? "up" : "down"}`}>
                {formatPrice(t.price, market)}
              </span>
              <span className="num">{formatAmount(t.amount, market)}</span>
              <span className="num muted">{formatClock(t.time)}</span>
            </li>
          ))
        )}
      </ol>
    </section>
  );
}
