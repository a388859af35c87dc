"use client";
// useCandles(symbol, interval): the chart's candles — history through tRPC (markets.candles),
// then the live last candle from the market's candle room for that interval, handed to
// `onCandle` as it arrives (the chart updates its last bar without a React render).
import type { CandleMessage } from "@spotx/protocol";
import { useQuery } from "@tanstack/react-query";
import { useCallback } from "react";
import type { CandleInterval } from "../lib/candle-intervals";
import { useTRPC } from "../trpc/client";
import type { CandleView } from "../trpc/views";
import { useRoom } from "./socket-connection";

export type { CandleInterval } from "../lib/candle-intervals";

export const candleFromMessage = (c: CandleMessage): CandleView => ({
  time: Number(c.t),
  open: c.o,
  high: c.h,
  low: c.l,
  close: c.c,
  baseVolume: c.a,
  quoteVolume: c.v,
  trades: 0,
  closed: c.w,
});

export function useCandles(
  symbol: string,
  interval: CandleInterval,
  onCandle: (candle: CandleView) => void,
) {
  const trpc = useTRPC();
  const history = useQuery(
    trpc.markets.candles.queryOptions(
      { market: symbol, interval, limit: 300 },
      { staleTime: 60_000, refetchOnReconnect: true },
    ),
  );
  const listener = useCallback(
    (candle: CandleMessage) => {
      if (candle.market === symbol && candle.interval === interval)
        onCandle(candleFromMessage(candle));
    },
    [symbol, interval, onCandle],
  );
  useRoom({ channel: "candles", market: symbol, interval }, "candle", listener);
  return history;
}
