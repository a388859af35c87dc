"use client";
// "Change rules" on the Markets page (docs/decisions/006): the market's tick, lot, minimums,
// band and fees, current beside new, and the stated policy for the book. The change is queued
// for the engine (admin.markets.changeRules); the dialog then follows the market list until the
// applied values show, and says so — the row changes when settlement applies the engine's event.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Field } from "../ui/field";
import { AmountInput } from "../ui/input";
import { ActionDialog } from "./action-dialog";
import { refusalText } from "./console-errors";
import type { AdminMarketView } from "./views";

type RulesForm = {
  tickSize: string;
  lotSize: string;
  minBaseAmount: string;
  minQuoteAmount: string;
  priceBandPercent: string;
  makerFeePercent: string;
  takerFeePercent: string;
};

const FIELDS: Array<{ key: keyof RulesForm; label: string; unit: (m: AdminMarketView) => string }> =
  [
    { key: "tickSize", label: "Tick", unit: (m) => m.quote },
    { key: "lotSize", label: "Lot", unit: (m) => m.base },
    { key: "minBaseAmount", label: "Smallest order", unit: (m) => m.base },
    { key: "minQuoteAmount", label: "Smallest order value", unit: (m) => m.quote },
    { key: "priceBandPercent", label: "Price band", unit: () => "%" },
    { key: "makerFeePercent", label: "Maker fee", unit: () => "%" },
    { key: "takerFeePercent", label: "Taker fee", unit: () => "%" },
  ];

/** What the book goes through, in words (the server states the same policy in its answer). */
export const RULES_POLICY_TEXT =
  "Resting orders whose price or amount is not a multiple of the new tick or lot are cancelled; everything else keeps resting.";

function formOf(m: AdminMarketView): RulesForm {
  return {
    tickSize: m.tickSize,
    lotSize: m.lotSize,
    minBaseAmount: m.minBaseAmount,
    minQuoteAmount: m.minQuoteAmount,
    priceBandPercent: m.priceBandPercent,
    makerFeePercent: m.makerFeePercent,
    takerFeePercent: m.takerFeePercent,
  };
}

/** Equal as decimals ("0.050" is "0.05"), by string work only. */
function sameDecimal(a: string, b: string): boolean {
  const norm = (text: string) => {
    const [whole = "0", fraction = ""] = text.trim().split(".");
    return `${whole.replace(/^0+(?=\d)/, "")}.${fraction.replace(/0+$/, "")}`;
  };
  return norm(a) === norm(b);
}

export function MarketRulesDialog({
  market,
  onClose,
  onDone,
}: {
  market: AdminMarketView;
  onClose: () => void;
  onDone: (title: string) => void;
}) {
  const trpc = useTRPC();
  const id = useId();
  const [form, setForm] = useState<RulesForm>(() => formOf(market));
  const change = useMutation(trpc.admin.markets.changeRules.mutationOptions());
  const queued = change.data ?? null;
  // Once queued, follow the list until the market shows the new values (settlement applied them).
  const list = useQuery(
    trpc.admin.markets.list.queryOptions(undefined, {
      enabled: queued !== null,
      refetchInterval: 500,
    }),
  );
  const now = list.data?.find((m) => m.symbol === market.symbol);
  const applied =
    queued !== null &&
    now !== undefined &&
    FIELDS.every(({ key }) => sameDecimal(formOf(now)[key], queued.after[key]));
  const complete = FIELDS.every(({ key }) => form[key] !== "");
  const current = formOf(market);

  return (
    <ActionDialog
      open
      onClose={() => (applied ? onDone(`${market.symbol}: new rules applied`) : onClose())}
      title={`Rules of ${market.symbol}`}
      description={
        <>
          <p style={{ margin: "0 0 6px" }}>
            Prices stay counted in {stepOfPrecision(market.pricePrecision)} {market.quote} and
            amounts in {stepOfPrecision(market.amountPrecision)} {market.base}, as listed: a tick or
            lot is a whole multiple of those.
          </p>
          <p style={{ margin: 0 }} data-testid="rules-policy">
            <strong>{RULES_POLICY_TEXT}</strong> Minimums and the band apply to new orders and
            amends.
          </p>
        </>
      }
      confirmLabel={queued ? "Queued" : "Change rules"}
      pending={change.isPending}
      error={change.error ? refusalText(change.error) : null}
      blocked={!complete || queued !== null}
      onConfirm={(reason) => change.mutate({ symbol: market.symbol, ...form, reason })}
      testId="market-rules-dialog"
    >
      <table className="rules-compare" style={{ width: "100%", fontSize: 12.5, margin: "8px 0" }}>
        <thead>
          <tr>
            <th style={{ textAlign: "left" }}>Rule</th>
            <th style={{ textAlign: "right" }}>Current</th>
            <th style={{ textAlign: "left", paddingLeft: 10 }}>New</th>
          </tr>
        </thead>
        <tbody>
          {FIELDS.map(({ key, label, unit }) => (
            <tr key={key}>
              <td>
                <label htmlFor={`${id}-${key}`}>{label}</label>
              </td>
              <td style={{ textAlign: "right" }} className="num" data-testid={`current-${key}`}>
                {current[key]} {unit(market)}
              </td>
              <td style={{ paddingLeft: 10 }}>
                <Field id={`${id}-${key}`} label={<span className="visually-hidden">{label}</span>}>
                  <AmountInput
                    id={`${id}-${key}`}
                    value={form[key]}
                    onValueChange={(value) => setForm((f) => ({ ...f, [key]: value }))}
                    unit={unit(market)}
                    data-testid={`new-${key}`}
                  />
                </Field>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {queued ? (
        <div role="status" data-testid="rules-outcome" className="muted" style={{ fontSize: 12.5 }}>
          {applied
            ? `Applied: tick ${now?.tickSize} ${market.quote}, lot ${now?.lotSize} ${market.base}, fees ${now?.makerFeePercent}% / ${now?.takerFeePercent}%.`
            : "Queued for the engine; waiting for it to apply…"}
        </div>
      ) : null}
    </ActionDialog>
  );
}

/** One unit of a precision as text: 2 → "0.01" (string work, no floats). */
function stepOfPrecision(precision: number): string {
  return precision === 0 ? "1" : `0.${"0".repeat(precision - 1)}1`;
}
