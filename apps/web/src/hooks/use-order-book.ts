"use client";
// useOrderBook(symbol): the market's live book. Starts from the server render's depth, then
// follows the `book` room: the snapshot, then deltas applied strictly by sequence through the
// pure reducer (`reduceBookSync` in @spotx/protocol) — a gap asks the server for a new snapshot
// (`book.resync`) while deltas keep buffering. Renders at most once per animation frame.
import {
  type BookDelta,
  type BookLevel,
  type BookSnapshot,
  type BookSync,
  bookFromSnapshot,
  bookLevels,
  reduceBookSync,
  startBookSync,
} from "@spotx/protocol/book-sync";
import { useCallback, useEffect, useMemo } from "react";
import type { DepthView } from "../trpc/views";
import { useFrameState } from "./frame-batch";
import { useRoom, useSocketConnection } from "./socket-connection";

export type LiveBook = {
  /** Best first: bids descending, asks ascending. */
  bids: BookLevel[];
  asks: BookLevel[];
  /** The last engine sequence the book includes; null while waiting for the first snapshot. */
  seq: number | null;
  /** `live`: in sequence; `syncing`: waiting for a (new) snapshot, showing the last book. */
  phase: "live" | "syncing";
};

type BookState = { sync: BookSync; shown: (BookSync & { phase: "live" }) | null };

function initialState(symbol: string, initial: DepthView | null): BookState {
  if (!initial || initial.market !== symbol) return { sync: startBookSync(symbol), shown: null };
  const live = { phase: "live" as const, market: symbol, book: bookFromSnapshot(initial) };
  return { sync: live, shown: live };
}

export function useOrderBook(symbol: string, initial: DepthView | null): LiveBook {
  const { socket, state: connection } = useSocketConnection();
  const [state, update] = useFrameState<BookState>(() => initialState(symbol, initial));

  const feed = useCallback(
    (input: { type: "snapshot"; snapshot: BookSnapshot } | { type: "delta"; delta: BookDelta }) => {
      let resync = false;
      update((current) => {
        const next = reduceBookSync(current.sync, input);
        resync = next.resync;
        return {
          sync: next.state,
          shown: next.state.phase === "live" ? next.state : current.shown,
        };
      });
      if (resync) socket?.emit("book.resync", { market: symbol }, () => {});
    },
    [socket, symbol, update],
  );
  const onSnapshot = useCallback(
    (snapshot: BookSnapshot) => feed({ type: "snapshot", snapshot }),
    [feed],
  );
  const onDelta = useCallback((delta: BookDelta) => feed({ type: "delta", delta }), [feed]);

  // A dropped connection missed deltas: wait for the snapshot the re-subscription brings.
  useEffect(() => {
    if (connection !== "live") update((current) => ({ ...current, sync: startBookSync(symbol) }));
  }, [connection, symbol, update]);

  useRoom({ channel: "book", market: symbol }, "book.snapshot", onSnapshot);
  useEffect(() => {
    if (!socket) return;
    socket.on("book.delta", onDelta);
    return () => {
      socket.off("book.delta", onDelta);
    };
  }, [socket, onDelta]);

  return useMemo(() => {
    const shown = state.shown;
    if (!shown) return { bids: [], asks: [], seq: null, phase: "syncing" };
    const { bids, asks } = bookLevels(shown.book);
    return {
      bids,
      asks,
      seq: shown.book.seq,
      phase: state.sync.phase === "live" ? "live" : "syncing",
    };
  }, [state]);
}
