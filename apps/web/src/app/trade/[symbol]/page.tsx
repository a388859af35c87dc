// The trading page of one market: everything it shows is loaded here on the server (market,
// ticker, book, tape, and the trader's balances and orders when signed in), then the client
// view keeps it live over socket.io.
import { notFound } from "next/navigation";
import { TradeView } from "../../../components/trade/trade-view";
import { INTERVAL_PARAM, intervalFromParam } from "../../../lib/candle-intervals";
import { serverCaller } from "../../../trpc/server";
import "../../../components/trade/trade.css";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ symbol: string }> }) {
  const { symbol } = await params;
  return { title: `${symbol.replace("_", "/")} · spotx` };
}

export default async function TradePage({
  params,
  searchParams,
}: {
  params: Promise<{ symbol: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { symbol } = await params;
  // The chart's interval (`?interval=4h`); an unknown one is the default, without a fuss.
  const interval = intervalFromParam((await searchParams)[INTERVAL_PARAM]);
  if (!/^[A-Z0-9]{2,12}_[A-Z0-9]{2,12}$/.test(symbol)) notFound();
  const caller = serverCaller();
  const market = await caller.markets.get({ market: symbol }).catch(() => null);
  if (!market) notFound();
  const [me, markets, ticker, depth, trades] = await Promise.all([
    caller.auth.me().catch(() => null),
    caller.markets.list().catch(() => [market]),
    caller.markets.ticker({ market: symbol }).catch(() => null),
    caller.markets.depth({ market: symbol, limit: 400 }).catch(() => null),
    caller.markets.trades({ market: symbol, limit: 60 }).catch(() => null),
  ]);
  const balances = me ? await caller.account.balances().catch(() => null) : null;
  return (
    <TradeView
      market={market}
      markets={markets.map((m) => ({ symbol: m.symbol, base: m.base, quote: m.quote }))}
      signedIn={me !== null}
      initialTicker={ticker}
      initialDepth={depth}
      initialTrades={trades?.items ?? []}
      initialBalances={balances}
      initialInterval={interval}
    />
  );
}
