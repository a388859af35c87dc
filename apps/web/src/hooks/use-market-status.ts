"use client";
// useMarketStatus(symbol): whether the market trades, is halted (and why) or is closed for good
// (delisted), from the server render, then live from `market.status` (an operator's halt reaches
// the page within a second of the etcd change; a delisting as soon as the engine applies it).
import type { MarketStatusMessage } from "@spotx/protocol";
import { useCallback, useState } from "react";
import { useRoom } from "./socket-connection";

export type MarketStatus = { halted: boolean; reason: string | null; closed?: boolean };

/** The page's first status from the market as the server read it. */
export function initialMarketStatus(market: {
  status: "trading" | "halted" | "closed";
  haltReason: string | null;
}): MarketStatus {
  return {
    halted: market.status !== "trading",
    reason: market.haltReason,
    closed: market.status === "closed",
  };
}

export function useMarketStatus(symbol: string, initial: MarketStatus): MarketStatus {
  const [status, setStatus] = useState<MarketStatus>(initial);
  const onStatus = useCallback(
    (message: MarketStatusMessage) => {
      if (message.market !== symbol) return;
      // A delisting is final, whichever source says it first.
      if (message.closed === true) {
        setStatus((now) => ({ halted: true, reason: now.reason ?? message.reason, closed: true }));
        return;
      }
      // The operator's config is the source placement obeys; the engine's own halt follows it.
      if (message.source !== "config") return;
      setStatus((now) =>
        now.closed ? now : { halted: message.halted, reason: message.reason, closed: false },
      );
    },
    [symbol],
  );
  useRoom({ channel: "status", market: symbol }, "market.status", onStatus);
  return status;
}
