"use client";
// useTrades(symbol): the market's latest public trades, newest first — the server render's,
// then live from the `trades` room (the last trades on subscribing, then each batch as market
// data publishes it). Trades are kept once by id, at most `keep` of them.
import type { TradeMessage, TradesMessage } from "@spotx/protocol";
import { useCallback } from "react";
import type { PublicTradeView } from "../trpc/views";
import { useFrameState } from "./frame-batch";
import { useRoom } from "./socket-connection";

export type TapeTrade = PublicTradeView;

export const tradeFromMessage = (t: TradeMessage): TapeTrade => ({
  id: String(t.id),
  time: Math.floor(Number(t.create_time_ms)),
  side: t.side,
  price: t.price,
  amount: t.amount,
});

/** Merges trades into the tape: newest first by id (ids are engine sequences), no repeats. */
export function mergeTrades(
  tape: readonly TapeTrade[],
  incoming: readonly TapeTrade[],
  keep: number,
) {
  const byId = new Map<string, TapeTrade>();
  for (const t of [...incoming, ...tape]) if (!byId.has(t.id)) byId.set(t.id, t);
  return [...byId.values()]
    .sort((a, b) => (BigInt(a.id) > BigInt(b.id) ? -1 : BigInt(a.id) < BigInt(b.id) ? 1 : 0))
    .slice(0, keep);
}

export function useTrades(symbol: string, initial: readonly TapeTrade[], keep = 60): TapeTrade[] {
  const [trades, update] = useFrameState<TapeTrade[]>(() => initial.slice(0, keep));
  const onTrades = useCallback(
    (message: TradesMessage) => {
      if (message.market !== symbol) return;
      const incoming = message.trades.map(tradeFromMessage);
      update((tape) => mergeTrades(tape, incoming, keep));
    },
    [symbol, keep, update],
  );
  useRoom({ channel: "trades", market: symbol }, "trades", onTrades);
  return trades;
}
