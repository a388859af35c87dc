"use client";
// Delisting from the Markets page (admin.markets.delist): it cannot be undone, so the dialog says
// exactly what happens to the market's orders and money and asks for the symbol typed out before
// the button unlocks.
import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Field } from "../ui/field";
import { Input } from "../ui/input";
import { ActionDialog } from "./action-dialog";
import { refusalText } from "./console-errors";
import type { AdminMarketView } from "./views";

export function DelistDialog({
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
  const [typed, setTyped] = useState("");
  const delist = useMutation(trpc.admin.markets.delist.mutationOptions());
  return (
    <ActionDialog
      open
      onClose={onClose}
      title={`Delist ${market.symbol}`}
      variant="danger"
      description={
        <div data-testid="delist-warning">
          <p style={{ marginTop: 0 }}>
            <strong>This closes {market.symbol} for good; it cannot be resumed.</strong>
          </p>
          <ul style={{ margin: 0, paddingLeft: 18 }}>
            <li>New orders are refused at once, everywhere.</li>
            <li>
              The engine cancels every resting and stop order ({market.liveOrders} live now) and
              every waiting price-triggered order; their held funds return to the traders.
            </li>
            <li>Its orders, trades, candles and ledger stay, readable as before.</li>
          </ul>
        </div>
      }
      confirmLabel="Delist for good"
      pending={delist.isPending}
      error={delist.error ? refusalText(delist.error) : null}
      blocked={typed !== market.symbol}
      onConfirm={(reason) =>
        delist.mutate(
          { symbol: market.symbol, reason },
          {
            onSuccess: (done) =>
              onDone(`${done.symbol} delisted: ${done.liveOrders} orders being cancelled`),
          },
        )
      }
      testId="delist-dialog"
    >
      <Field id={`${id}-confirm`} label={`Type ${market.symbol} to confirm`}>
        <Input
          id={`${id}-confirm`}
          value={typed}
          autoComplete="off"
          data-testid="delist-confirm"
          onChange={(event) => setTyped(event.target.value.toUpperCase())}
        />
      </Field>
    </ActionDialog>
  );
}
