"use client";
// The strip above the trading panels: which market (switch to another), its last price and
// 24 h figures, and whether it trades.
import { useRouter } from "next/navigation";
import {
  formatAmount,
  formatChange,
  formatPrice,
  formatTotal,
  pairName,
} from "../../lib/market-format";
import type { MarketView, TickerView } from "../../trpc/views";
import { Badge } from "../ui/badge";
import { Select } from "../ui/select";

export function TickerBar({
  market,
  markets,
  ticker,
  halted,
}: {
  market: MarketView;
  markets: { symbol: string; base: string; quote: string }[];
  ticker: TickerView | null;
  halted: boolean;
}) {
  const router = useRouter();
  const change = formatChange(ticker?.changePercentage ?? "");
  const price = (text: string | undefined) => (text ? formatPrice(text, market) : "—");
  return (
    <div className="ticker-bar panel">
      <div className="ticker-pair">
        <h1 className="visually-hidden">{pairName(market)}</h1>
        <label htmlFor="market-switch" className="visually-hidden">
          Market
        </label>
        <Select
          id="market-switch"
          className="ticker-select"
          value={market.symbol}
          options={markets.map((m) => ({ value: m.symbol, label: `${m.base}/${m.quote}` }))}
          onValueChange={(symbol) => router.push(`/trade/${symbol}`)}
        />
        {halted ? <Badge tone="down">halted</Badge> : <Badge tone="up">trading</Badge>}
      </div>
      <dl className="ticker-figures">
        <div>
          <dt>Last price</dt>
          <dd
            className={`num ticker-last ${change.direction === "flat" ? "" : change.direction}`}
            data-testid="ticker-last"
          >
            {price(ticker?.last)}
          </dd>
        </div>
        <div>
          <dt>24h change</dt>
          <dd className={`num ${change.direction === "flat" ? "" : change.direction}`}>
            {ticker?.last ? change.text : "—"}
          </dd>
        </div>
        <div>
          <dt>24h high</dt>
          <dd className="num">{price(ticker?.high24h)}</dd>
        </div>
        <div>
          <dt>24h low</dt>
          <dd className="num">{price(ticker?.low24h)}</dd>
        </div>
        <div>
          <dt>24h volume ({market.base})</dt>
          <dd className="num">{ticker ? formatAmount(ticker.baseVolume, market) : "—"}</dd>
        </div>
        <div className="ticker-optional">
          <dt>24h volume ({market.quote})</dt>
          <dd className="num">{ticker ? formatTotal(ticker.quoteVolume, market) : "—"}</dd>
        </div>
      </dl>
    </div>
  );
}
