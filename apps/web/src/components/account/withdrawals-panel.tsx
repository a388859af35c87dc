"use client";
// Withdrawals: request one (the amount is held at once; an operator approves or rejects it)
// and follow its status. Each request carries a client reference, so a double click or a
// retry never holds twice. With two-factor sign-in on, each request takes the app's code.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { formatAsset, formatDateTime } from "../../lib/market-format";
import { normaliseTyped } from "../../lib/order-ticket";
import { type Refusal, refusalOf } from "../../lib/refusal";
import { useTRPC } from "../../trpc/client";
import type { BalanceView } from "../../trpc/views";
import { Badge } from "../ui/badge";
import { Banner } from "../ui/banner";
import { Button } from "../ui/button";
import { Field } from "../ui/field";
import { AmountInput, Input } from "../ui/input";
import { Panel } from "../ui/panel";
import { Select } from "../ui/select";
import { Table, Td, tableStateOf } from "../ui/table";
import { useToast } from "../ui/toast";
import { CodeInput, isTotpCode } from "./code-input";

const newReference = () => `w-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

const TONES = { pending: "warn", completed: "up", rejected: "down" } as const;

export function WithdrawalsPanel({
  balances,
  decimals,
  twoFactor = false,
}: {
  balances: BalanceView[];
  decimals: Record<string, number>;
  /** Two-factor sign-in is on: each request takes the app's current code. */
  twoFactor?: boolean;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [asset, setAsset] = useState("USDT");
  const [amount, setAmount] = useState("");
  const [address, setAddress] = useState("");
  const [reference, setReference] = useState(newReference);
  const [code, setCode] = useState("");
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  // An operator decides on the console; the status is read again every 15 s.
  const list = useQuery(
    trpc.account.withdrawals.queryOptions({ limit: 20 }, { refetchInterval: 15_000 }),
  );
  const request = useMutation(
    trpc.account.requestWithdrawal.mutationOptions({
      onSuccess: ({ withdrawal }) => {
        setRefusal(null);
        setAmount("");
        setCode("");
        setReference(newReference());
        toast({
          tone: "success",
          title: "Withdrawal requested",
          message: `${withdrawal.amount} ${withdrawal.asset}, awaiting approval`,
        });
        void queryClient.invalidateQueries({ queryKey: trpc.account.withdrawals.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.account.balances.queryKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.account.ledger.pathKey() });
      },
      onError: (error) => setRefusal(refusalOf(error)),
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setRefusal(null);
    request.mutate({
      asset,
      amount: normaliseTyped(amount),
      address: address.trim(),
      clientRef: reference,
      ...(twoFactor ? { totpCode: code } : {}),
    });
  };
  const items = list.data?.items ?? [];
  const available = balances.find((b) => b.asset === asset)?.available;
  return (
    <Panel title="Withdrawals" flush className="account-withdrawals">
      <form className="inline-form" onSubmit={submit} data-testid="withdrawal-form">
        <Field id="withdraw-asset" label="Asset">
          <Select
            id="withdraw-asset"
            value={asset}
            options={balances.map((b) => ({ value: b.asset, label: b.asset }))}
            onValueChange={setAsset}
          />
        </Field>
        <Field
          id="withdraw-amount"
          label={
            available !== undefined
              ? `Amount (available ${formatAsset(available, decimals[asset] ?? 2)})`
              : "Amount"
          }
        >
          <AmountInput id="withdraw-amount" value={amount} onValueChange={setAmount} unit={asset} />
        </Field>
        <Field id="withdraw-address" label="Destination address" className="grow">
          <Input
            id="withdraw-address"
            value={address}
            maxLength={200}
            autoComplete="off"
            onChange={(event) => setAddress(event.target.value)}
          />
        </Field>
        {twoFactor ? (
          <CodeInput id="withdraw-code" label="Code" value={code} onValueChange={setCode} />
        ) : null}
        <Button
          type="submit"
          variant="primary"
          disabled={
            request.isPending ||
            amount === "" ||
            address.trim() === "" ||
            (twoFactor && !isTotpCode(code))
          }
        >
          Request
        </Button>
      </form>
      {refusal ? (
        <div style={{ padding: "0 12px 12px" }}>
          <Banner tone="danger" title={refusal.label}>
            {refusal.message}
          </Banner>
        </div>
      ) : null}
      <Table
        label="Withdrawals"
        testId="withdrawals"
        columns={[
          { key: "time", label: "Requested" },
          { key: "amount", label: "Amount", num: true },
          { key: "address", label: "To" },
          { key: "status", label: "Status" },
        ]}
        state={tableStateOf(list, items.length, "No withdrawals yet.")}
      >
        {items.map((w) => (
          <tr key={w.id} data-testid="withdrawal">
            <Td className="muted">{formatDateTime(w.requestedAt)}</Td>
            <Td num>
              {formatAsset(w.amount, decimals[w.asset] ?? 2)} {w.asset}
            </Td>
            <Td className="ref-cell" title={w.address}>
              {w.address}
            </Td>
            <Td>
              <Badge tone={TONES[w.status]} title={w.reason ?? undefined}>
                {w.status}
              </Badge>
              {w.reason ? <span className="muted"> {w.reason}</span> : null}
            </Td>
          </tr>
        ))}
      </Table>
    </Panel>
  );
}
