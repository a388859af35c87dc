"use client";
// useTicker(symbol): a market's 24 h ticker, from the server render, then live from the
// market's `ticker` room (market data pushes one on every trade).
import type { TickerMessage } from "@spotx/protocol";
import { useCallback } from "react";
import type { TickerView } from "../trpc/views";
import { useFrameState } from "./frame-batch";
import { useRoom } from "./socket-connection";

/** The socket's gate.io-shaped ticker as the tRPC view the pages render. */
export function tickerFromMessage(message: TickerMessage): TickerView {
  return {
    market: message.currency_pair,
    last: message.last,
    lowestAsk: message.lowest_ask,
    highestBid: message.highest_bid,
    changePercentage: message.change_percentage,
    baseVolume: message.base_volume,
    quoteVolume: message.quote_volume,
    high24h: message.high_24h,
    low24h: message.low_24h,
    time: message.time,
    source: "live",
  };
}

export function useTicker(symbol: string, initial: TickerView | null): TickerView | null {
  const [ticker, update] = useFrameState<TickerView | null>(initial);
  const onTicker = useCallback(
    (message: TickerMessage) => {
      if (message.currency_pair !== symbol) return;
      update((current) =>
        current && current.time > message.time ? current : tickerFromMessage(message),
      );
    },
    [symbol, update],
  );
  useRoom({ channel: "ticker", market: symbol }, "ticker", onTicker);
  return ticker;
}
