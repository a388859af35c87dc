"use client";
// Orders and trades: orders of any user filtered by user, market, status, side and client
// text; trades by market, user and order — each newest first, a page at a time. Any live order
// can be cancelled, with a reason: the cancel goes to the engine as the owner's would, and the
// order ends when its `cancelled` event settles, moments later.
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { Input } from "../ui/input";
import { Pager, useCursorPages } from "../ui/pager";
import { Panel } from "../ui/panel";
import { Select } from "../ui/select";
import { Table, type TableState, Td, Th, tableStateOf } from "../ui/table";
import { Tabs } from "../ui/tabs";
import { useToast } from "../ui/toast";
import { ActionDialog } from "./action-dialog";
import { refusalText } from "./console-errors";
import { consoleAmount, consoleTime } from "./console-format";
import type { AdminOrderView } from "./views";

const PAGE = 25;
const STATUSES = ["pending", "open", "closed", "cancelled", "rejected"] as const;
type Status = (typeof STATUSES)[number];

const statusTone = (status: Status) =>
  status === "open" || status === "pending"
    ? "info"
    : status === "closed"
      ? "up"
      : status === "rejected"
        ? "down"
        : "neutral";

/** An order list with a cancel action on the live ones (the user page uses it too). */
export function OrdersTable({
  orders,
  state,
  emptyMessage,
  onCancelled,
}: {
  orders: readonly AdminOrderView[];
  state: TableState;
  emptyMessage: string;
  onCancelled: () => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const [cancelling, setCancelling] = useState<AdminOrderView | null>(null);
  const cancel = useMutation(trpc.admin.orders.cancel.mutationOptions());
  const shownState: TableState =
    state.kind === "ready" && orders.length === 0
      ? { kind: "empty", message: emptyMessage }
      : state;
  return (
    <>
      <Table
        label="Orders"
        testId="admin-orders"
        columns={[
          { key: "id", label: "Order", num: true },
          { key: "time", label: "Placed" },
          { key: "user", label: "User", num: true },
          { key: "market", label: "Market" },
          { key: "side", label: "Side" },
          { key: "type", label: "Type" },
          { key: "price", label: "Price", num: true },
          { key: "amount", label: "Amount", num: true },
          { key: "filled", label: "Filled", num: true },
          { key: "status", label: "Status" },
          { key: "actions", label: <span className="visually-hidden">Actions</span> },
        ]}
        state={shownState}
      >
        {orders.map((o) => (
          <tr key={o.id.toString()} data-testid={`admin-order-${o.id}`}>
            <Td num title={o.text ?? undefined}>
              {o.id.toString()}
            </Td>
            <td>{consoleTime(o.createdAt)}</td>
            <Td num>
              <Link href={`/admin/users/${o.userId}`}>{o.userId.toString()}</Link>
            </Td>
            <Th>{o.market}</Th>
            <td className={o.side === "buy" ? "up" : "down"}>{o.side}</td>
            <td>
              {o.type} · {o.timeInForce}
            </td>
            <Td num>{o.price === null ? "market" : consoleAmount(o.price)}</Td>
            <Td num>
              {consoleAmount(o.amount)} {o.amountAsset}
            </Td>
            <Td num>{consoleAmount(o.filledAmount)}</Td>
            <td>
              <Badge tone={statusTone(o.status)} title={o.rejectReason ?? o.finishAs}>
                {o.status}
              </Badge>
            </td>
            <td>
              {o.status === "open" || o.status === "pending" ? (
                <Button size="sm" variant="danger" onClick={() => setCancelling(o)}>
                  Cancel
                </Button>
              ) : null}
            </td>
          </tr>
        ))}
      </Table>
      {cancelling ? (
        <ActionDialog
          open
          onClose={() => {
            cancel.reset();
            setCancelling(null);
          }}
          title={`Cancel order ${cancelling.id}`}
          description={`User ${cancelling.userId}'s ${cancelling.side} of ${cancelling.amount} ${cancelling.amountAsset} on ${cancelling.market}. The cancel goes to the engine as the owner's would; its hold is released when it settles.`}
          confirmLabel="Cancel the order"
          variant="danger"
          pending={cancel.isPending}
          error={cancel.error ? refusalText(cancel.error) : null}
          onConfirm={(reason) =>
            cancel.mutate(
              { orderId: cancelling.id, reason },
              {
                onSuccess: () => {
                  toast({
                    tone: "success",
                    title: `Cancel of order ${cancelling.id} sent to the engine`,
                  });
                  setCancelling(null);
                  onCancelled();
                },
              },
            )
          }
          testId="cancel-order-dialog"
        />
      ) : null}
    </>
  );
}

/** A user id or nothing, from a filter field ("" and junk are refused before the request). */
const idFilter = (text: string) =>
  /^[1-9][0-9]{0,18}$/.test(text.trim()) ? text.trim() : undefined;
const marketFilter = (text: string) => {
  const symbol = text.trim().toUpperCase().replace("/", "_");
  return symbol === "" ? undefined : symbol;
};

function OrdersTab({ markets }: { markets: readonly string[] }) {
  const trpc = useTRPC();
  const id = useId();
  const [form, setForm] = useState({ user: "", market: "", status: "", side: "", text: "" });
  const [filters, setFilters] = useState(form);
  const pages = useCursorPages();
  const bad = form.user.trim() !== "" && idFilter(form.user) === undefined;
  const status = STATUSES.find((s) => s === filters.status);
  const side = filters.side === "buy" || filters.side === "sell" ? filters.side : undefined;
  const search = useQuery(
    trpc.admin.orders.search.queryOptions(
      {
        userId: idFilter(filters.user),
        market: marketFilter(filters.market),
        status: status ? [status] : undefined,
        side,
        text: filters.text.trim() || undefined,
        limit: PAGE,
        cursor: pages.cursor,
      },
      { placeholderData: (previous) => previous },
    ),
  );
  const set = (key: keyof typeof form) => (value: string) =>
    setForm((f) => ({ ...f, [key]: value }));
  return (
    <>
      <form
        className="console-filters"
        onSubmit={(event) => {
          event.preventDefault();
          if (bad) return;
          pages.reset();
          setFilters(form);
        }}
      >
        <Field
          id={`${id}-user`}
          label="User id"
          error={bad ? "a user id is a whole number" : undefined}
        >
          <Input
            id={`${id}-user`}
            value={form.user}
            onChange={(e) => set("user")(e.target.value)}
          />
        </Field>
        <Field id={`${id}-market`} label="Market">
          <Select
            id={`${id}-market`}
            value={form.market}
            options={[{ value: "", label: "any" }, ...markets.map((m) => ({ value: m, label: m }))]}
            onValueChange={set("market")}
          />
        </Field>
        <Field id={`${id}-status`} label="Status">
          <Select
            id={`${id}-status`}
            value={form.status}
            options={[
              { value: "", label: "any" },
              ...STATUSES.map((s) => ({ value: s, label: s })),
            ]}
            onValueChange={set("status")}
          />
        </Field>
        <Field id={`${id}-side`} label="Side">
          <Select
            id={`${id}-side`}
            value={form.side}
            options={[
              { value: "", label: "any" },
              { value: "buy", label: "buy" },
              { value: "sell", label: "sell" },
            ]}
            onValueChange={set("side")}
          />
        </Field>
        <Field id={`${id}-text`} label="Client text (t-…)">
          <Input
            id={`${id}-text`}
            value={form.text}
            onChange={(e) => set("text")(e.target.value)}
          />
        </Field>
        <button type="submit" className="btn btn-primary" disabled={bad}>
          Search
        </button>
      </form>
      <OrdersTable
        orders={search.data?.items ?? []}
        state={
          search.isError
            ? { kind: "error", message: refusalText(search.error) }
            : tableStateOf(search, search.data?.items.length ?? 0, "No order matches.")
        }
        emptyMessage="No order matches."
        onCancelled={() => void search.refetch()}
      />
      <Pager
        page={pages.page}
        hasNext={Boolean(search.data?.nextCursor)}
        busy={search.isFetching}
        onPrevious={pages.previous}
        onNext={() => search.data?.nextCursor && pages.next(search.data.nextCursor)}
      />
    </>
  );
}

function TradesTab({ markets }: { markets: readonly string[] }) {
  const trpc = useTRPC();
  const id = useId();
  const [form, setForm] = useState({ user: "", market: "", order: "" });
  const [filters, setFilters] = useState(form);
  const pages = useCursorPages();
  const bad =
    (form.user.trim() !== "" && idFilter(form.user) === undefined) ||
    (form.order.trim() !== "" && idFilter(form.order) === undefined);
  const search = useQuery(
    trpc.admin.trades.search.queryOptions(
      {
        userId: idFilter(filters.user),
        orderId: idFilter(filters.order),
        market: marketFilter(filters.market),
        limit: PAGE,
        cursor: pages.cursor,
      },
      { placeholderData: (previous) => previous },
    ),
  );
  const trades = search.data?.items ?? [];
  const set = (key: keyof typeof form) => (value: string) =>
    setForm((f) => ({ ...f, [key]: value }));
  return (
    <>
      <form
        className="console-filters"
        onSubmit={(event) => {
          event.preventDefault();
          if (bad) return;
          pages.reset();
          setFilters(form);
        }}
      >
        <Field id={`${id}-user`} label="User id (maker or taker)">
          <Input
            id={`${id}-user`}
            value={form.user}
            onChange={(e) => set("user")(e.target.value)}
          />
        </Field>
        <Field id={`${id}-order`} label="Order id">
          <Input
            id={`${id}-order`}
            value={form.order}
            onChange={(e) => set("order")(e.target.value)}
          />
        </Field>
        <Field id={`${id}-market`} label="Market">
          <Select
            id={`${id}-market`}
            value={form.market}
            options={[{ value: "", label: "any" }, ...markets.map((m) => ({ value: m, label: m }))]}
            onValueChange={set("market")}
          />
        </Field>
        <button type="submit" className="btn btn-primary" disabled={bad}>
          Search
        </button>
        {bad ? <span className="down">Ids are whole numbers.</span> : null}
      </form>
      <Table
        label="Trades"
        testId="admin-trades"
        columns={[
          { key: "time", label: "Time" },
          { key: "market", label: "Market" },
          { key: "id", label: "Trade", num: true },
          { key: "side", label: "Taker side" },
          { key: "price", label: "Price", num: true },
          { key: "amount", label: "Amount", num: true },
          { key: "total", label: "Total", num: true },
          { key: "maker", label: "Maker (order · user)", num: true },
          { key: "taker", label: "Taker (order · user)", num: true },
          { key: "fees", label: "Fees buyer · seller", num: true },
        ]}
        state={
          search.isError
            ? { kind: "error", message: refusalText(search.error) }
            : tableStateOf(search, trades.length, "No trade matches.")
        }
      >
        {trades.map((t) => (
          <tr key={`${t.market}/${t.id}`}>
            <td>{consoleTime(t.createdAt)}</td>
            <Th>{t.market}</Th>
            <Td num>{t.id.toString()}</Td>
            <td className={t.takerSide === "buy" ? "up" : "down"}>{t.takerSide}</td>
            <Td num>{consoleAmount(t.price)}</Td>
            <Td num>{consoleAmount(t.amount)}</Td>
            <Td num>{consoleAmount(t.total)}</Td>
            <Td num>
              {t.makerOrderId.toString()} · {t.makerUserId.toString()}
            </Td>
            <Td num>
              {t.takerOrderId.toString()} · {t.takerUserId.toString()}
            </Td>
            <Td num>
              {consoleAmount(t.buyerFee)} · {consoleAmount(t.sellerFee)}
            </Td>
          </tr>
        ))}
      </Table>
      <Pager
        page={pages.page}
        hasNext={Boolean(search.data?.nextCursor)}
        busy={search.isFetching}
        onPrevious={pages.previous}
        onNext={() => search.data?.nextCursor && pages.next(search.data.nextCursor)}
      />
    </>
  );
}

export function OrdersAndTrades({ markets }: { markets: readonly string[] }) {
  return (
    <Panel flush>
      <Tabs
        label="Orders or trades"
        items={[
          { value: "orders", label: "Orders", content: <OrdersTab markets={markets} /> },
          { value: "trades", label: "Trades", content: <TradesTab markets={markets} /> },
        ]}
      />
    </Panel>
  );
}
