"use client";
// The markets table: search by pair, each row live (its ticker and halt status over
// socket.io) and opening the market's trade page. The list itself is refreshed through tRPC,
// so a market listed meanwhile appears without a reload.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { useConnectionState } from "../../hooks/socket-connection";
import { initialMarketStatus, useMarketStatus } from "../../hooks/use-market-status";
import { useTicker } from "../../hooks/use-ticker";
import {
  formatAmount,
  formatChange,
  formatPrice,
  formatTotal,
  pairName,
} from "../../lib/market-format";
import { useTRPC } from "../../trpc/client";
import type { MarketView, TickerView } from "../../trpc/views";
import { Badge } from "../ui/badge";
import { Input } from "../ui/input";
import { Panel } from "../ui/panel";
import { Table, Td, Th } from "../ui/table";

const COLUMNS = [
  { key: "pair", label: "Pair" },
  { key: "last", label: "Last price", num: true },
  { key: "change", label: "24h change", num: true },
  { key: "high", label: "24h high", num: true, wide: true },
  { key: "low", label: "24h low", num: true, wide: true },
  { key: "volume", label: "24h volume", num: true, wide: true },
  { key: "status", label: "Status" },
] as const;

export function MarketsTable({
  initialMarkets,
  initialTickers,
}: {
  initialMarkets: MarketView[];
  initialTickers: Record<string, TickerView | null>;
}) {
  const trpc = useTRPC();
  const connection = useConnectionState();
  const query = useQuery(
    trpc.markets.list.queryOptions(undefined, {
      initialData: initialMarkets,
      // Refetch on mount too, so the page confirms its live connection at once.
      staleTime: 0,
      refetchInterval: 30_000,
    }),
  );
  const [search, setSearch] = useState("");
  const shown = useMemo(() => {
    const needle = search.trim().toUpperCase().replace("/", "_");
    return query.data.filter((m) => needle === "" || m.symbol.includes(needle));
  }, [query.data, search]);
  const live = query.isFetchedAfterMount && connection === "live";
  const state = query.isError ? "error" : live ? "live" : "initial";
  return (
    <Panel
      flush
      title={<span className="visually-hidden">All markets</span>}
      actions={
        <div
          style={{
            display: "flex",
            gap: 12,
            alignItems: "center",
            flex: 1,
            justifyContent: "flex-end",
          }}
        >
          <span className="muted" aria-live="polite" style={{ fontSize: 12 }}>
            {state === "error"
              ? "Could not refresh the markets."
              : state === "live"
                ? "Live."
                : "Connecting…"}
          </span>
          <label htmlFor="market-search" className="visually-hidden">
            Search markets
          </label>
          <Input
            id="market-search"
            type="search"
            placeholder="Search pair (BTC, ETH_USDT…)"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            style={{ maxWidth: 260 }}
          />
        </div>
      }
    >
      <div data-testid="markets" data-state={state}>
        <Table
          label="Markets"
          columns={COLUMNS}
          state={
            shown.length === 0
              ? {
                  kind: "empty",
                  message: search ? `No market matches “${search}”.` : "No markets are listed yet.",
                }
              : { kind: "ready" }
          }
        >
          {shown.map((market) => (
            <MarketRow
              key={market.symbol}
              market={market}
              initialTicker={initialTickers[market.symbol] ?? null}
            />
          ))}
        </Table>
      </div>
    </Panel>
  );
}

function MarketRow({
  market,
  initialTicker,
}: {
  market: MarketView;
  initialTicker: TickerView | null;
}) {
  const router = useRouter();
  const ticker = useTicker(market.symbol, initialTicker);
  const status = useMarketStatus(market.symbol, initialMarketStatus(market));
  const change = formatChange(ticker?.changePercentage ?? "");
  const href = `/trade/${market.symbol}`;
  const price = (text: string | undefined) => (text ? formatPrice(text, market) : "—");
  return (
    <tr
      className="table-row-link"
      data-testid={`market-${market.symbol}`}
      onClick={() => router.push(href)}
    >
      <Th>
        <Link href={href} onClick={(event) => event.stopPropagation()}>
          {pairName(market)}
        </Link>
      </Th>
      <Td num data-testid="last-price">
        {price(ticker?.last)}
      </Td>
      <Td num className={change.direction === "flat" ? "" : change.direction}>
        {ticker?.last ? change.text : "—"}
      </Td>
      <Td num className="col-wide">
        {price(ticker?.high24h)}
      </Td>
      <Td num className="col-wide">
        {price(ticker?.low24h)}
      </Td>
      <Td
        num
        className="col-wide"
        title={ticker ? `${formatTotal(ticker.quoteVolume, market)} ${market.quote}` : undefined}
      >
        {ticker ? `${formatAmount(ticker.baseVolume, market)} ${market.base}` : "—"}
      </Td>
      <td>
        {status.closed ? (
          <Badge title={status.reason ?? undefined} data-testid="market-closed">
            closed
          </Badge>
        ) : status.halted ? (
          <Badge tone="down" title={status.reason ?? undefined}>
            halted
          </Badge>
        ) : (
          <Badge tone="up">trading</Badge>
        )}
      </td>
    </tr>
  );
}
