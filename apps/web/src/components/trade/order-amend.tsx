"use client";
// Amending an open order in place: the open-orders row's price and amount become inputs
// (AmendRow), and a panel under the table (AmendPanel, outside the table's sideways scroll, so it
// is whole on a phone) states the queue rule, what this amend does to the order's place, and the
// hold before and after (lib/order-amend). The row's inputs belong to the panel's form (the
// `form` attribute): Enter in either saves. Save sends only what changed through orders.amend;
// the row shows the new values once settlement has applied the engine's answer (the user.orders
// push refetches the list). A refusal is shown by its label, the inputs kept.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { formatDateTime, formatIn } from "../../lib/market-format";
import { planAmend, QUEUE_RULE } from "../../lib/order-amend";
import { type Refusal, refusalOf } from "../../lib/refusal";
import { useTRPC } from "../../trpc/client";
import type { MarketView, OrderView } from "../../trpc/views";
import { Button } from "../ui/button";
import { AmountInput } from "../ui/input";
import { Td } from "../ui/table";
import { useToast } from "../ui/toast";

/** The amend being written: the order's new price and whole amount, as typed. */
export type AmendDraft = { orderId: string; price: string; amount: string };

export const draftOf = (order: OrderView): AmendDraft => ({
  orderId: order.id,
  price: order.price ?? "",
  amount: order.amount,
});

const planOf = (order: OrderView, draft: AmendDraft, market: MarketView) =>
  planAmend(
    {
      side: order.side,
      price: order.price ?? "0",
      amount: order.amount,
      filledAmount: order.filledAmount,
    },
    draft,
    market,
  );

/** The order's row while it is amended: price and amount as inputs of the panel's form. */
export function AmendRow({
  order,
  market,
  draft,
  formId,
  onDraft,
  onClose,
}: {
  order: OrderView;
  market: MarketView;
  draft: AmendDraft;
  formId: string;
  onDraft: (draft: AmendDraft) => void;
  onClose: () => void;
}) {
  const plan = planOf(order, draft, market);
  const invalid = (field: "price" | "amount") => plan.problems.some((p) => p.field === field);
  const closeOnEscape = (event: { key: string }) => {
    if (event.key === "Escape") onClose();
  };
  return (
    <tr data-testid="open-order" data-order-id={order.id} data-editing="true">
      <Td className="muted">{formatDateTime(order.createTime)}</Td>
      <Td>
        <span className={order.side === "buy" ? "up" : "down"}>{order.side}</span>
      </Td>
      <Td>{order.type}</Td>
      <Td num>
        <AmountInput
          aria-label="New price"
          form={formId}
          className="amend-input"
          value={draft.price}
          unit={market.quote}
          invalid={invalid("price")}
          onValueChange={(price) => onDraft({ ...draft, price })}
          onKeyDown={closeOnEscape}
        />
      </Td>
      <Td num>
        <AmountInput
          aria-label="New amount"
          form={formId}
          className="amend-input"
          value={draft.amount}
          unit={market.base}
          invalid={invalid("amount")}
          onValueChange={(amount) => onDraft({ ...draft, amount })}
          onKeyDown={closeOnEscape}
        />
      </Td>
      <Td num>{formatIn(order.filledAmount, market.base, market)}</Td>
      <Td className="muted">editing</Td>
      <Td />
    </tr>
  );
}

/** Under the table: the rule, this amend's effect on the queue and the hold, Save and Discard. */
export function AmendPanel({
  order,
  market,
  draft,
  formId,
  onClose,
}: {
  order: OrderView;
  market: MarketView;
  draft: AmendDraft;
  formId: string;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const plan = planOf(order, draft, market);
  const nothing = plan.changes.price === undefined && plan.changes.amount === undefined;
  const amend = useMutation(
    trpc.orders.amend.mutationOptions({
      onSuccess: () => {
        const what = [
          plan.changes.price === undefined ? null : `price ${plan.changes.price}`,
          plan.changes.amount === undefined
            ? null
            : `amount ${plan.changes.amount} ${order.amountAsset}`,
        ].filter(Boolean);
        toast({
          tone: "info",
          title: "Amend sent",
          message: `Order ${order.id}: ${what.join(", ")} — shown once the engine has applied it.`,
        });
        // More may be held already (an amend that can spend more locks the difference first).
        void queryClient.invalidateQueries({ queryKey: trpc.account.balances.queryKey() });
        onClose();
      },
      onError: (error) => setRefusal(refusalOf(error)),
    }),
  );
  const save = (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    if (nothing || plan.problems.length > 0 || amend.isPending) return;
    amend.mutate({ market: market.symbol, orderId: order.id, ...plan.changes });
  };
  const consequence = plan.cancels
    ? `At or below what has filled (${formatIn(order.filledAmount, market.base, market)} ${market.base}): this amend cancels the rest of the order.`
    : nothing
      ? "Change the price or the amount."
      : plan.keepsPlace
        ? "This amend keeps your place in the queue."
        : "This amend sends the order to the back of the queue at its price.";
  return (
    <form
      id={formId}
      className="amend-panel"
      data-testid="amend-panel"
      aria-label={`Amend order ${order.id}`}
      onSubmit={save}
    >
      <p>
        <strong>
          Amend {order.side} order {order.id}
        </strong>{" "}
        <span className="muted">{QUEUE_RULE}</span>
      </p>
      <p data-testid="amend-consequence">{consequence}</p>
      {plan.hold ? (
        <p data-testid="amend-hold">
          Held: <span className="num">{formatIn(plan.hold.before, plan.hold.asset, market)}</span> →{" "}
          <span className="num">{formatIn(plan.hold.after, plan.hold.asset, market)}</span>{" "}
          {plan.hold.asset}
        </p>
      ) : null}
      {plan.problems.map((p) => (
        <p key={p.field + p.label} className="down" role="alert">
          {p.message}
        </p>
      ))}
      {refusal ? (
        <p className="order-refusal" role="alert" data-testid="amend-error">
          <strong>{refusal.label}</strong> {refusal.message}
        </p>
      ) : null}
      <div className="amend-actions">
        <Button
          type="submit"
          size="sm"
          variant="primary"
          disabled={amend.isPending || nothing || plan.problems.length > 0}
        >
          {amend.isPending ? "Saving…" : "Save"}
        </Button>
        <Button size="sm" variant="ghost" onClick={onClose}>
          Discard
        </Button>
      </div>
    </form>
  );
}
