// The markets page: every market with its live last price, 24 h change, range and volume,
// rendered on the server from PostgreSQL and Redis, then kept live over socket.io.
import { MarketsTable } from "../components/markets/markets-table";
import { StateMessage } from "../components/ui/state-message";
import { serverCaller } from "../trpc/server";
import type { TickerView } from "../trpc/views";

// Markets come from the database at request time, never from the build.
export const dynamic = "force-dynamic";

export default async function MarketsPage() {
  const caller = serverCaller();
  const markets = await caller.markets.list().catch(() => null);
  const tickers = markets
    ? await Promise.all(
        markets.map((m) => caller.markets.ticker({ market: m.symbol }).catch(() => null)),
      )
    : [];
  const bySymbol: Record<string, TickerView | null> = {};
  for (const [i, m] of (markets ?? []).entries()) bySymbol[m.symbol] = tickers[i] ?? null;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Markets</h1>
        <p className="muted" style={{ margin: 0 }}>
          Spot markets, live. Open one to trade.
        </p>
      </div>
      {markets ? (
        <MarketsTable initialMarkets={markets} initialTickers={bySymbol} />
      ) : (
        <StateMessage kind="error">
          The markets could not be loaded. The exchange may be starting; reload in a moment.
        </StateMessage>
      )}
    </div>
  );
}
