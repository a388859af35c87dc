"use client";
// Listing an asset from the Markets page (admin.assets.create): symbol, name and decimals (0 to
// 9 — a balance must hold a billion whole units), with the assets already listed beside the form
// so an operator sees what a market can be built on. The market itself is listed with the "List
// a market" dialog once both its assets exist.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Field } from "../ui/field";
import { Input } from "../ui/input";
import { ActionDialog } from "./action-dialog";
import { refusalText } from "./console-errors";

export function CreateAssetDialog({
  onClose,
  onDone,
}: {
  onClose: () => void;
  onDone: (title: string) => void;
}) {
  const trpc = useTRPC();
  const id = useId();
  const [symbol, setSymbol] = useState("");
  const [name, setName] = useState("");
  const [decimals, setDecimals] = useState("8");
  const assets = useQuery(trpc.admin.assets.list.queryOptions());
  const create = useMutation(trpc.admin.assets.create.mutationOptions());
  const decimalsOk = /^[0-9]$/.test(decimals);
  const complete = /^[A-Z0-9]{2,12}$/.test(symbol) && name.trim() !== "" && decimalsOk;
  return (
    <ActionDialog
      open
      onClose={onClose}
      title="List an asset"
      description={
        <>
          A new currency for balances and markets. Its decimals (0 to 9) are its smallest unit and
          can never change. Listed:{" "}
          <span data-testid="listed-assets">
            {assets.data ? assets.data.map((a) => `${a.symbol} (${a.decimals})`).join(", ") : "…"}
          </span>
          .
        </>
      }
      confirmLabel="List asset"
      pending={create.isPending}
      error={create.error ? refusalText(create.error) : null}
      blocked={!complete}
      onConfirm={(reason) =>
        create.mutate(
          { symbol, name: name.trim(), decimals: Number(decimals), reason },
          { onSuccess: (a) => onDone(`${a.symbol} listed with ${a.decimals} decimals`) },
        )
      }
      testId="create-asset"
    >
      <div className="console-grid" style={{ gridTemplateColumns: "1fr 2fr 1fr", gap: 10 }}>
        <Field id={`${id}-symbol`} label="Symbol">
          <Input
            id={`${id}-symbol`}
            value={symbol}
            placeholder="SOL"
            onChange={(event) => setSymbol(event.target.value.toUpperCase())}
          />
        </Field>
        <Field id={`${id}-name`} label="Name">
          <Input
            id={`${id}-name`}
            value={name}
            placeholder="Solana"
            onChange={(event) => setName(event.target.value)}
          />
        </Field>
        <Field
          id={`${id}-decimals`}
          label="Decimals"
          {...(decimals !== "" && !decimalsOk ? { error: "0 to 9" } : {})}
        >
          <Input
            id={`${id}-decimals`}
            value={decimals}
            inputMode="numeric"
            onChange={(event) => setDecimals(event.target.value)}
          />
        </Field>
      </div>
    </ActionDialog>
  );
}
