"use client";
// The trader's own side of the market: open orders (cancel one, cancel all, amend one in place),
// the stop-limit orders still waiting for their trigger (cancel one), order history, fills and
// balances — fetched through tRPC and refreshed as the user's socket room says they changed
// (useUserStreams). Cancels work in a halted market too.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState } from "react";
import { formatAsset, formatDateTime, formatIn, formatPrice } from "../../lib/market-format";
import { refusalOf } from "../../lib/refusal";
import { ruleWhen } from "../../lib/stop-ticket";
import { useTRPC } from "../../trpc/client";
import type { BalanceView, MarketView, OrderView } from "../../trpc/views";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Table, Td, tableStateOf } from "../ui/table";
import { Tabs } from "../ui/tabs";
import { useToast } from "../ui/toast";
import { type AmendDraft, AmendPanel, AmendRow, draftOf } from "./order-amend";

type Tab = "open" | "stops" | "history" | "fills" | "balances";

/** The balances query as these tables read it. */
export type BalancesQuery = {
  data: BalanceView[] | undefined;
  isPending: boolean;
  isError: boolean;
  error: { message: string } | null;
};

export function MyOrders({
  market,
  signedIn,
  balances,
  className,
}: {
  market: MarketView;
  signedIn: boolean;
  balances: BalancesQuery;
  className?: string;
}) {
  const [tab, setTab] = useState<Tab>("open");
  const trpc = useTRPC();
  // Shared with the Stops tab (same query): its count is in the tab's name.
  const stops = useQuery(
    trpc.orders.stops.queryOptions({ market: market.symbol, limit: 20 }, { enabled: signedIn }),
  );
  if (!signedIn) {
    return (
      <section className={`panel ${className ?? ""}`} aria-label="Your orders">
        <div className="panel-body muted">
          <Link href={`/login?next=/trade/${market.symbol}`}>Log in</Link> to see your orders, fills
          and balances.
        </div>
      </section>
    );
  }
  return (
    <section className={`panel mine ${className ?? ""}`} aria-label="Your orders">
      <Tabs<Tab>
        label="Your orders"
        value={tab}
        onChange={setTab}
        items={[
          { value: "open", label: "Open orders", content: <OpenOrders market={market} /> },
          {
            value: "stops",
            label: `Stops (${stops.data?.waiting.length ?? 0})`,
            content: <StopOrders market={market} />,
          },
          { value: "history", label: "Order history", content: <OrderHistory market={market} /> },
          { value: "fills", label: "Fills", content: <Fills market={market} /> },
          { value: "balances", label: "Balances", content: <Balances balances={balances} /> },
        ]}
      />
    </section>
  );
}

function sideText(order: { side: "buy" | "sell" }) {
  return <span className={order.side === "buy" ? "up" : "down"}>{order.side}</span>;
}

const STATUS_TONES = {
  pending: "info",
  open: "info",
  closed: "up",
  cancelled: "neutral",
  rejected: "down",
} as const;

function OpenOrders({ market }: { market: MarketView }) {
  const trpc = useTRPC();
  const toast = useToast();
  const queryClient = useQueryClient();
  const orders = useQuery(trpc.orders.open.queryOptions({ market: market.symbol, limit: 100 }));
  // The order being amended in place (one at a time), and its form's id.
  const [draft, setDraft] = useState<AmendDraft | null>(null);
  const amendFormId = useId();
  const refresh = () =>
    void queryClient.invalidateQueries({ queryKey: trpc.orders.open.pathKey() });
  const onError = (error: unknown) => {
    const refused = refusalOf(error);
    toast({ tone: "error", title: refused.label, message: refused.message });
  };
  const cancel = useMutation(
    trpc.orders.cancel.mutationOptions({
      onSuccess: (order) => {
        toast({
          tone: "info",
          title: "Cancel sent",
          message: `Order ${order.id} is being cancelled.`,
        });
        refresh();
      },
      onError,
    }),
  );
  const cancelAll = useMutation(
    trpc.orders.cancelAll.mutationOptions({
      onSuccess: (list) => {
        toast({
          tone: "info",
          title: "Cancel all sent",
          message: `${list.length} order(s) being cancelled.`,
        });
        refresh();
      },
      onError,
    }),
  );
  const items = orders.data?.items ?? [];
  // Gone from the list (filled, cancelled): nothing left to amend.
  const amending = draft ? items.find((order) => order.id === draft.orderId) : undefined;
  const close = () => setDraft(null);
  return (
    <div>
      <div className="mine-tools">
        <Button
          size="sm"
          variant="danger"
          disabled={items.length === 0 || cancelAll.isPending}
          onClick={() => cancelAll.mutate({ market: market.symbol })}
          data-testid="cancel-all"
        >
          Cancel all
        </Button>
      </div>
      <Table
        label="Open orders"
        testId="open-orders"
        columns={[
          { key: "time", label: "Time" },
          { key: "side", label: "Side" },
          { key: "type", label: "Type" },
          { key: "price", label: "Price", num: true },
          { key: "amount", label: "Amount", num: true },
          { key: "filled", label: "Filled", num: true },
          { key: "status", label: "Status" },
          { key: "action", label: <span className="visually-hidden">Action</span> },
        ]}
        state={tableStateOf(orders, items.length, "No open orders.")}
      >
        {items.map((order) =>
          draft && amending === order ? (
            <AmendRow
              key={order.id}
              order={order}
              market={market}
              draft={draft}
              formId={amendFormId}
              onDraft={setDraft}
              onClose={close}
            />
          ) : (
            <tr key={order.id} data-testid="open-order" data-order-id={order.id}>
              <Td className="muted">{formatDateTime(order.createTime)}</Td>
              <Td>{sideText(order)}</Td>
              <Td>
                {order.type}
                {order.timeInForce !== "gtc" ? ` · ${order.timeInForce}` : ""}
              </Td>
              <Td num>{order.price ? formatPrice(order.price, market) : "market"}</Td>
              <Td num>
                {formatIn(order.amount, order.amountAsset, market)} {order.amountAsset}
              </Td>
              <Td num>{formatIn(order.filledAmount, market.base, market)}</Td>
              <Td>
                <Badge tone={STATUS_TONES[order.status]}>{order.status}</Badge>
              </Td>
              <Td>
                <span className="amend-actions">
                  {order.type === "limit" && order.status === "open" ? (
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => setDraft(draftOf(order))}
                      aria-label={`Amend order ${order.id}`}
                    >
                      Amend
                    </Button>
                  ) : null}
                  <Button
                    size="sm"
                    disabled={cancel.isPending && cancel.variables?.orderId === order.id}
                    onClick={() => cancel.mutate({ market: market.symbol, orderId: order.id })}
                    aria-label={`Cancel order ${order.id}`}
                  >
                    Cancel
                  </Button>
                </span>
              </Td>
            </tr>
          ),
        )}
      </Table>
      {draft && amending ? (
        <AmendPanel
          order={amending}
          market={market}
          draft={draft}
          formId={amendFormId}
          onClose={close}
        />
      ) : null}
    </div>
  );
}

function StopOrders({ market }: { market: MarketView }) {
  const trpc = useTRPC();
  const toast = useToast();
  const queryClient = useQueryClient();
  const stops = useQuery(trpc.orders.stops.queryOptions({ market: market.symbol, limit: 20 }));
  const cancel = useMutation(
    trpc.orders.cancelStop.mutationOptions({
      onSuccess: (stop) => {
        toast({
          tone: "info",
          title: "Stop cancelled",
          message: `Stop-limit ${stop.id} will not fire.`,
        });
        void queryClient.invalidateQueries({ queryKey: trpc.orders.stops.pathKey() });
      },
      onError: (error) => {
        const refused = refusalOf(error);
        toast({ tone: "error", title: refused.label, message: refused.message });
        void queryClient.invalidateQueries({ queryKey: trpc.orders.stops.pathKey() });
      },
    }),
  );
  const items = stops.data?.waiting ?? [];
  return (
    <div>
      <p className="mine-note muted">
        Stop-limit orders waiting for their trigger: nothing is held until one fires and places its
        limit order.
      </p>
      <Table
        label="Stop-limit orders"
        testId="stop-orders"
        columns={[
          { key: "time", label: "Created" },
          { key: "side", label: "Side" },
          { key: "trigger", label: "Trigger" },
          { key: "price", label: "Limit price", num: true },
          { key: "amount", label: "Amount", num: true },
          { key: "status", label: "Status" },
          { key: "action", label: <span className="visually-hidden">Action</span> },
        ]}
        state={tableStateOf(stops, items.length, "No stop-limit orders waiting.")}
      >
        {items.map((stop) => (
          <tr key={stop.id} data-testid="stop-order" data-stop-id={stop.id}>
            <Td className="muted">{formatDateTime(stop.createTime)}</Td>
            <Td>{sideText(stop)}</Td>
            <Td data-testid="stop-trigger">{ruleWhen(stop.rule, stop.triggerPrice, market)}</Td>
            <Td num>{stop.price ? formatPrice(stop.price, market) : "market"}</Td>
            <Td num>
              {formatIn(stop.amount, stop.amountAsset, market)} {stop.amountAsset}
            </Td>
            <Td>
              <Badge tone="info">waiting</Badge>
            </Td>
            <Td>
              <Button
                size="sm"
                disabled={cancel.isPending && cancel.variables?.id === stop.id}
                onClick={() => cancel.mutate({ id: stop.id })}
                aria-label={`Cancel stop ${stop.id}`}
              >
                Cancel
              </Button>
            </Td>
          </tr>
        ))}
      </Table>
    </div>
  );
}

function finishText(order: OrderView): string {
  if (order.status === "rejected")
    return `rejected${order.rejectReason ? `: ${order.rejectReason}` : ""}`;
  if (order.finishAs === "filled") return "filled";
  if (order.finishAs === "poc") return "cancelled: post-only would take";
  if (order.finishAs === "ioc" || order.finishAs === "fok") return `cancelled (${order.finishAs})`;
  if (order.finishAs === "stp") return "cancelled: self-trade";
  // Added by the market-rules and delisting work; compared as text so either side may land first.
  const finishAs: string = order.finishAs;
  if (finishAs === "market_rules") return "cancelled: market rules changed";
  if (finishAs === "delisted") return "cancelled: delisted";
  return order.status;
}

function OrderHistory({ market }: { market: MarketView }) {
  const trpc = useTRPC();
  const orders = useQuery(trpc.orders.history.queryOptions({ market: market.symbol, limit: 50 }));
  const items = orders.data?.items ?? [];
  return (
    <Table
      label="Order history"
      testId="order-history"
      columns={[
        { key: "time", label: "Time" },
        { key: "side", label: "Side" },
        { key: "type", label: "Type" },
        { key: "price", label: "Price", num: true },
        { key: "avg", label: "Average", num: true },
        { key: "amount", label: "Amount", num: true },
        { key: "filled", label: "Filled", num: true },
        { key: "status", label: "Status" },
      ]}
      state={tableStateOf(orders, items.length, "No finished orders yet.")}
    >
      {items.map((order) => (
        <tr key={order.id} data-testid="history-order">
          <Td className="muted">{formatDateTime(order.updateTime)}</Td>
          <Td>{sideText(order)}</Td>
          <Td>{order.type}</Td>
          <Td num>{order.price ? formatPrice(order.price, market) : "market"}</Td>
          <Td num>{order.avgDealPrice === "0" ? "—" : formatPrice(order.avgDealPrice, market)}</Td>
          <Td num>
            {formatIn(order.amount, order.amountAsset, market)} {order.amountAsset}
          </Td>
          <Td num>{formatIn(order.filledAmount, market.base, market)}</Td>
          <Td>
            <Badge tone={STATUS_TONES[order.status]}>{finishText(order)}</Badge>
          </Td>
        </tr>
      ))}
    </Table>
  );
}

function Fills({ market }: { market: MarketView }) {
  const trpc = useTRPC();
  const fills = useQuery(trpc.orders.fills.queryOptions({ market: market.symbol, limit: 50 }));
  const items = fills.data?.items ?? [];
  return (
    <Table
      label="Fills"
      testId="fills"
      columns={[
        { key: "time", label: "Time" },
        { key: "side", label: "Side" },
        { key: "role", label: "Role" },
        { key: "price", label: "Price", num: true },
        { key: "amount", label: "Amount", num: true },
        { key: "total", label: "Total", num: true },
        { key: "fee", label: "Fee", num: true },
      ]}
      state={tableStateOf(fills, items.length, "No fills yet.")}
    >
      {items.map((fill) => (
        <tr key={`${fill.tradeId}-${fill.role}`} data-testid="fill">
          <Td className="muted">{formatDateTime(fill.time)}</Td>
          <Td>{sideText(fill)}</Td>
          <Td>{fill.role}</Td>
          <Td num>{formatPrice(fill.price, market)}</Td>
          <Td num>{formatIn(fill.amount, market.base, market)}</Td>
          <Td num>{formatIn(fill.total, market.quote, market)}</Td>
          <Td num data-testid="fill-fee">
            {fill.fee} {fill.feeAsset}
          </Td>
        </tr>
      ))}
    </Table>
  );
}

export function Balances({ balances }: { balances: BalancesQuery }) {
  const items = balances.data ?? [];
  // Exact decimal strings, shown with at least two decimals (the row does not carry the
  // asset's decimals); data-value keeps the exact figure for tests and tools.
  return (
    <Table
      label="Balances"
      testId="balances"
      columns={[
        { key: "asset", label: "Asset" },
        { key: "available", label: "Available", num: true },
        { key: "locked", label: "In orders", num: true },
      ]}
      state={tableStateOf(balances, items.length, "No assets listed.")}
    >
      {items.map((b) => (
        <tr key={b.asset} data-testid={`balance-${b.asset}`}>
          <Td>
            <strong>{b.asset}</strong> <span className="muted">{b.name}</span>
          </Td>
          <Td num data-testid="available" data-value={b.available}>
            {formatAsset(b.available, 2)}
          </Td>
          <Td num data-testid="locked" data-value={b.locked}>
            {formatAsset(b.locked, 2)}
          </Td>
        </tr>
      ))}
    </Table>
  );
}
