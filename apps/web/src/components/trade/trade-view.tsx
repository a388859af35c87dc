"use client";
// The trading page's client side: one hook per live stream (book, trades, ticker, status, the
// trader's own updates), and the panels that render them — ticker bar, chart, order book,
// tape, order form and the trader's orders, fills and balances. A price clicked in the book
// fills the form. Fills are toasted, and so is what happens to the trader's orders without their
// asking — a system cancel, a stop-limit firing, the market halting or resuming — saying why
// (lib/trade-notices).
import { useQuery } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import { useCallback, useEffect, useRef, useState } from "react";
import { useConnectionState } from "../../hooks/socket-connection";
import { initialMarketStatus, useMarketStatus } from "../../hooks/use-market-status";
import { useOrderBook } from "../../hooks/use-order-book";
import { useTicker } from "../../hooks/use-ticker";
import { type TapeTrade, useTrades } from "../../hooks/use-trades";
import { useUserStreams } from "../../hooks/use-user-streams";
import type { CandleInterval } from "../../lib/candle-intervals";
import { formatAmount, pairName } from "../../lib/market-format";
import { orderNotice, statusNotice, stopNotice } from "../../lib/trade-notices";
import { useTRPC } from "../../trpc/client";
import type { BalanceView, DepthView, MarketView, TickerView } from "../../trpc/views";
import { Banner } from "../ui/banner";
import { StateMessage } from "../ui/state-message";
import { Tabs } from "../ui/tabs";
import { useToast } from "../ui/toast";
import { DepthChart } from "./depth-chart";
import { MyOrders } from "./my-orders";
import { OrderBookPanel } from "./order-book-panel";
import { OrderForm, type PickedPrice } from "./order-form";
import { TickerBar } from "./ticker-bar";
import { TradeTape } from "./trade-tape";

// The canvas chart loads after the page is interactive; its box is sized, so nothing moves.
const CandleChart = dynamic(() => import("./candle-chart").then((m) => m.CandleChart), {
  ssr: false,
  loading: () => <StateMessage kind="loading" minHeight={520} />,
});

export type TradeViewProps = {
  market: MarketView;
  markets: { symbol: string; base: string; quote: string }[];
  signedIn: boolean;
  initialTicker: TickerView | null;
  initialDepth: DepthView | null;
  initialTrades: TapeTrade[];
  initialBalances: BalanceView[] | null;
  /** The chart's interval from the URL (`?interval=`), checked by the page. */
  initialInterval?: CandleInterval;
};

export function TradeView(props: TradeViewProps) {
  const { market, signedIn } = props;
  const symbol = market.symbol;
  const trpc = useTRPC();
  const toast = useToast();
  const connection = useConnectionState();
  const book = useOrderBook(symbol, props.initialDepth);
  const trades = useTrades(symbol, props.initialTrades);
  const ticker = useTicker(symbol, props.initialTicker);
  const status = useMarketStatus(symbol, initialMarketStatus(market));
  const [picked, setPicked] = useState<PickedPrice | null>(null);
  // A halt or resume after the page showed the market: a notice (the banner says it too).
  const shownHalted = useRef(status.halted);
  useEffect(() => {
    if (shownHalted.current === status.halted) return;
    shownHalted.current = status.halted;
    toast(statusNotice(symbol, status));
  }, [status, symbol, toast]);
  // Each stop's notice once, however many times its final state is pushed.
  const noticedStops = useRef(new Set<string>());
  // Hydrated: the form and book answer input from here on (a User Timing mark, for measuring
  // time to interactive).
  useEffect(() => {
    performance.mark("spotx:trade-interactive");
  }, []);
  const pick = useCallback(
    (price: string) => setPicked((p) => ({ price, nonce: (p?.nonce ?? 0) + 1 })),
    [],
  );

  const balances = useQuery(
    trpc.account.balances.queryOptions(undefined, {
      enabled: signedIn,
      initialData: props.initialBalances ?? undefined,
      staleTime: 30_000,
    }),
  );
  useUserStreams({
    enabled: signedIn,
    onTrades: (fills) => {
      for (const fill of fills) {
        if (fill.currency_pair !== symbol) continue;
        toast({
          tone: "success",
          title: `${fill.side === "buy" ? "Bought" : "Sold"} ${formatAmount(fill.amount, market)} ${market.base}`,
          message: `at ${fill.price} ${market.quote} (${fill.role}), fee ${fill.fee} ${fill.fee_currency}`,
        });
      }
    },
    onOrders: (orders) => {
      for (const order of orders) {
        const notice = orderNotice(order);
        if (notice) toast({ ...notice, durationMs: 8_000 });
      }
    },
    onStops: (stops) => {
      for (const stop of stops) {
        const notice = stopNotice(stop);
        if (!notice || noticedStops.current.has(stop.id)) continue;
        noticedStops.current.add(stop.id);
        toast({ ...notice, durationMs: 8_000 });
      }
    },
  });

  return (
    <div className="trade" data-testid="trade-page" data-market={symbol}>
      <TickerBar market={market} markets={props.markets} ticker={ticker} halted={status.halted} />
      {status.closed ? (
        <div className="trade-banner">
          <Banner tone="danger" title={`${pairName(market)} is closed`} testId="closed-banner">
            It was delisted and takes no orders; its open orders were cancelled and their held funds
            returned. Its trades, chart and your order history stay readable here.
          </Banner>
        </div>
      ) : status.halted ? (
        <div className="trade-banner">
          <Banner tone="danger" title={`${pairName(market)} is halted`} testId="halt-banner">
            {status.reason ? `${status.reason}. ` : ""}New orders are refused until trading resumes;
            your open orders can still be cancelled.
          </Banner>
        </div>
      ) : null}
      {connection === "reconnecting" || connection === "offline" ? (
        <div className="trade-banner">
          <Banner tone="warning" title="Live updates paused">
            The connection to the exchange dropped; the book and tape below may be stale.
            Reconnecting…
          </Banner>
        </div>
      ) : null}
      <div className="trade-grid">
        <section className="panel trade-chart" aria-label="Charts">
          <Tabs
            label="Chart"
            items={[
              {
                value: "candles",
                label: "Price",
                content: <CandleChart market={market} initialInterval={props.initialInterval} />,
              },
              {
                value: "depth",
                label: "Depth",
                content: <DepthChart market={market} book={book} />,
              },
            ]}
          />
        </section>
        <OrderBookPanel
          className="trade-book"
          market={market}
          book={book}
          last={ticker?.last ?? trades[0]?.price ?? ""}
          lastSide={trades[0]?.side ?? null}
          onPick={pick}
        />
        <TradeTape className="trade-tape" market={market} trades={trades} />
        <OrderForm
          className="trade-form"
          market={market}
          signedIn={signedIn}
          halted={status.halted}
          balances={balances.data ?? null}
          book={book}
          picked={picked}
        />
        <MyOrders className="trade-mine" market={market} signedIn={signedIn} balances={balances} />
      </div>
    </div>
  );
}
