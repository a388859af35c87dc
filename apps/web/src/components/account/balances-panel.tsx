"use client";
// Balances: available and held per asset, live; a demo deposit (account.demoDeposit) credits
// an asset at once so a new account can trade.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { formatAsset } from "../../lib/market-format";
import { normaliseTyped } from "../../lib/order-ticket";
import { refusalOf } from "../../lib/refusal";
import { useTRPC } from "../../trpc/client";
import type { BalanceView } from "../../trpc/views";
import type { BalancesQuery } from "../trade/my-orders";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { AmountInput } from "../ui/input";
import { Panel } from "../ui/panel";
import { Select } from "../ui/select";
import { Table, Td, tableStateOf } from "../ui/table";
import { useToast } from "../ui/toast";

export function BalancesPanel({
  balances,
  decimals,
}: {
  balances: BalancesQuery;
  decimals: Record<string, number>;
}) {
  const items = balances.data ?? [];
  return (
    <Panel title="Balances" flush className="account-balances">
      <Table
        label="Balances"
        testId="balances"
        columns={[
          { key: "asset", label: "Asset" },
          { key: "available", label: "Available", num: true },
          { key: "locked", label: "Held", num: true },
        ]}
        state={tableStateOf(balances, items.length, "No assets listed.")}
      >
        {items.map((b) => (
          <tr key={b.asset} data-testid={`balance-${b.asset}`}>
            <Td>
              <strong>{b.asset}</strong> <span className="muted">{b.name}</span>
            </Td>
            <Td num data-testid="available" data-value={b.available}>
              {formatAsset(b.available, decimals[b.asset] ?? 2)}
            </Td>
            <Td num data-testid="locked" data-value={b.locked}>
              {formatAsset(b.locked, decimals[b.asset] ?? 2)}
            </Td>
          </tr>
        ))}
      </Table>
      <DemoDeposit assets={items} />
    </Panel>
  );
}

function DemoDeposit({ assets }: { assets: BalanceView[] }) {
  const trpc = useTRPC();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [asset, setAsset] = useState("USDT");
  const [amount, setAmount] = useState("10000");
  const deposit = useMutation(
    trpc.account.demoDeposit.mutationOptions({
      onSuccess: (result) => {
        toast({ tone: "success", title: "Deposited", message: `${result.amount} ${result.asset}` });
        void queryClient.invalidateQueries({ queryKey: trpc.account.balances.queryKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.account.ledger.pathKey() });
      },
      onError: (error) => {
        const refused = refusalOf(error);
        toast({ tone: "error", title: refused.label, message: refused.message });
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    deposit.mutate({ asset, amount: normaliseTyped(amount) });
  };
  return (
    <form className="inline-form" onSubmit={submit} data-testid="demo-deposit">
      <h3 className="inline-form-title">Demo deposit</h3>
      <Field id="deposit-asset" label="Asset">
        <Select
          id="deposit-asset"
          value={asset}
          options={assets.map((b) => ({ value: b.asset, label: b.asset }))}
          onValueChange={setAsset}
        />
      </Field>
      <Field id="deposit-amount" label="Amount">
        <AmountInput id="deposit-amount" value={amount} onValueChange={setAmount} unit={asset} />
      </Field>
      <Button type="submit" variant="primary" disabled={deposit.isPending || amount === ""}>
        {deposit.isPending ? "Depositing…" : "Deposit"}
      </Button>
    </form>
  );
}
