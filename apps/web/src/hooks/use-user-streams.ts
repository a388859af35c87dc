"use client";
// useUserStreams(): keeps the signed-in trader's own data live from their socket room —
// balances replaced as settlement pushes them (by update id, never older over newer), the
// ledger, orders, stop-limit orders and fills refetched when a push says they changed (the push
// names what changed; the lists come from tRPC, so a page always shows what PostgreSQL holds).
import type { BalanceUpdate, OrderUpdate, StopUpdate, UserTrade } from "@spotx/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef } from "react";
import { useTRPC } from "../trpc/client";
import type { BalanceView } from "../trpc/views";
import { useUserEvent } from "./socket-connection";

/** Applies pushed balances to the balances list (newer update ids only). */
export function applyBalanceUpdates(
  list: readonly BalanceView[],
  updates: readonly BalanceUpdate[],
): BalanceView[] {
  return list.map((balance) => {
    const pushed = updates.find((u) => u.currency === balance.asset);
    if (!pushed || BigInt(pushed.update_id) < BigInt(balance.updateId)) return balance;
    return {
      ...balance,
      available: pushed.available,
      locked: pushed.locked,
      updateId: String(pushed.update_id),
    };
  });
}

export function useUserStreams(options: {
  enabled: boolean;
  onOrders?: (orders: OrderUpdate[]) => void;
  onTrades?: (trades: UserTrade[]) => void;
  onStops?: (stops: StopUpdate[]) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { enabled } = options;
  const callbacks = useRef(options);
  callbacks.current = options;

  const onBalances = useCallback(
    (updates: BalanceUpdate[]) => {
      if (!enabled) return;
      const key = trpc.account.balances.queryKey();
      // A fetch already under way read the balances before this push: it must not land after
      // it and put older figures back. Cancel it, then apply the push.
      void queryClient.cancelQueries({ queryKey: key }).then(() => {
        const current = queryClient.getQueryData<BalanceView[]>(key);
        if (current) queryClient.setQueryData(key, applyBalanceUpdates(current, updates));
        else void queryClient.invalidateQueries({ queryKey: key });
      });
      // A balance moved: the ledger has a new transfer (fetched only where it is shown).
      void queryClient.invalidateQueries({ queryKey: trpc.account.ledger.pathKey() });
    },
    [enabled, queryClient, trpc],
  );
  const onOrders = useCallback(
    (orders: OrderUpdate[]) => {
      if (!enabled) return;
      void queryClient.invalidateQueries({ queryKey: trpc.orders.open.pathKey() });
      void queryClient.invalidateQueries({ queryKey: trpc.orders.history.pathKey() });
      callbacks.current.onOrders?.(orders);
    },
    [enabled, queryClient, trpc],
  );
  const onTrades = useCallback(
    (trades: UserTrade[]) => {
      if (!enabled) return;
      void queryClient.invalidateQueries({ queryKey: trpc.orders.fills.pathKey() });
      callbacks.current.onTrades?.(trades);
    },
    [enabled, queryClient, trpc],
  );
  const onStops = useCallback(
    (stops: StopUpdate[]) => {
      if (!enabled) return;
      void queryClient.invalidateQueries({ queryKey: trpc.orders.stops.pathKey() });
      // A fired stop's order was placed (held, pending): the open orders and balances moved.
      if (stops.some((s) => s.fired_order_id !== "")) {
        void queryClient.invalidateQueries({ queryKey: trpc.orders.open.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.account.balances.queryKey() });
      }
      callbacks.current.onStops?.(stops);
    },
    [enabled, queryClient, trpc],
  );
  useUserEvent("user.balances", onBalances);
  useUserEvent("user.orders", onOrders);
  useUserEvent("user.trades", onTrades);
  useUserEvent("user.stops", onStops);
}
