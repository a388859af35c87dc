"use client";
// useMarketStatus(symbol): whether the market trades or is halted (and why), from the server
// render, then live from `market.status` (an operator's halt reaches the page within a second
// of the etcd change).
import type { MarketStatusMessage } from "@spotx/protocol";
import { useCallback, useState } from "react";
import { useRoom } from "./socket-connection";

export type MarketStatus = { halted: boolean; reason: string | null };

export function useMarketStatus(symbol: string, initial: MarketStatus): MarketStatus {
  const [status, setStatus] = useState<MarketStatus>(initial);
  const onStatus = useCallback(
    (message: MarketStatusMessage) => {
      if (message.market !== symbol) return;
      // The operator's config is the source placement obeys; the engine's own halt follows it.
      if (message.source !== "config") return;
      setStatus({ halted: message.halted, reason: message.reason });
    },
    [symbol],
  );
  useRoom({ channel: "status", market: symbol }, "market.status", onStatus);
  return status;
}
