"use client";
// The market list, seeded by the server render and refreshed through tRPC so a halted or
// resumed market shows without a reload.
import type { MarketSummary } from "@spotx/api";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../trpc/client";

export function MarketsTable({ initialMarkets }: { initialMarkets: MarketSummary[] }) {
  const trpc = useTRPC();
  const query = useQuery(
    trpc.markets.list.queryOptions(undefined, {
      initialData: initialMarkets,
      // Refetch on mount too, so the page confirms its live connection at once.
      staleTime: 0,
      refetchInterval: 10_000,
    }),
  );
  const markets = query.data;
  const state = query.isError
    ? "error"
    : query.dataUpdatedAt > 0 && query.isFetchedAfterMount
      ? "live"
      : "initial";
  return (
    <div data-testid="markets" data-state={state}>
      <table>
        <thead>
          <tr>
            <th scope="col">Market</th>
            <th scope="col">Status</th>
            <th scope="col">Min amount</th>
            <th scope="col">Min value</th>
            <th scope="col">Maker / taker fee</th>
          </tr>
        </thead>
        <tbody>
          {markets.map((market) => (
            <tr key={market.symbol} data-testid={`market-${market.symbol}`}>
              <th scope="row">
                {market.base}/{market.quote}
              </th>
              <td className={`status status-${market.status}`}>{market.status}</td>
              <td>
                {market.minBaseAmount} {market.base}
              </td>
              <td>
                {market.minQuoteAmount} {market.quote}
              </td>
              <td>
                {market.makerFeePercent}% / {market.takerFeePercent}%
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted" aria-live="polite">
        {state === "error"
          ? "Could not refresh the markets."
          : state === "live"
            ? "Live."
            : "Connecting…"}
      </p>
    </div>
  );
}
