"use client";
// One user as an operator sees them: balances, their sessions and API keys (end one, revoke one:
// user-access.tsx), live and recent orders (cancel any live one), fills, the ledger a page at a
// time, withdrawals and the audit rows about them; and the two things an operator does to a user
// — freeze or unfreeze (with a reason), and adjust a balance: a form, then a confirmation that
// repeats exactly what will be credited or debited.
// The adjustment carries one idempotency key per form, so a double submit adjusts once.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Dialog } from "../ui/dialog";
import { Field } from "../ui/field";
import { AmountInput } from "../ui/input";
import { Pager, useCursorPages } from "../ui/pager";
import { Panel } from "../ui/panel";
import { Segmented } from "../ui/segmented";
import { Select } from "../ui/select";
import { Table, Td, Th, tableStateOf } from "../ui/table";
import { Tabs } from "../ui/tabs";
import { useToast } from "../ui/toast";
import { ActionDialog } from "./action-dialog";
import { AuditRows } from "./audit-log";
import { refusalText } from "./console-errors";
import { consoleAmount, consoleTime } from "./console-format";
import { OrdersTable } from "./orders-search";
import { UserAccess } from "./user-access";
import type { UserDetailView } from "./views";

const LEDGER_PAGE = 25;

export function UserDetail({ initial }: { initial: UserDetailView }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  // Query inputs are hashed as JSON (no bigint there): ids travel as digit strings.
  const userId = initial.user.id.toString();
  const detail = useQuery(
    trpc.admin.users.detail.queryOptions({ userId }, { initialData: initial }),
  );
  const data = detail.data;
  const [acting, setActing] = useState<"freeze" | "unfreeze" | "adjust" | null>(null);
  const freeze = useMutation(trpc.admin.users.freeze.mutationOptions());
  const unfreeze = useMutation(trpc.admin.users.unfreeze.mutationOptions());
  const refresh = () =>
    queryClient.invalidateQueries(trpc.admin.users.detail.queryFilter({ userId }));
  const { user } = data;
  const frozen = user.status === "frozen";

  return (
    <>
      <div className="console-head">
        <div>
          <h1 data-testid="user-email">{user.email}</h1>
          <p className="muted">
            User {user.id.toString()} · {user.role} · signed up {consoleTime(user.createdAt)} ·{" "}
            <Badge tone={frozen ? "down" : "up"} data-testid="user-status">
              {user.status}
            </Badge>
          </p>
        </div>
        <div className="console-actions">
          {frozen ? (
            <Button onClick={() => setActing("unfreeze")}>Unfreeze</Button>
          ) : (
            <Button variant="danger" onClick={() => setActing("freeze")}>
              Freeze
            </Button>
          )}
          <Button variant="primary" onClick={() => setActing("adjust")}>
            Adjust a balance
          </Button>
        </div>
      </div>
      {detail.isError ? (
        <p className="down" role="alert">
          Refreshing failed ({refusalText(detail.error)}); showing what was loaded.
        </p>
      ) : null}

      <Panel flush title="Balances">
        <Table
          label="Balances"
          testId="user-balances"
          columns={[
            { key: "asset", label: "Asset" },
            { key: "available", label: "Available", num: true },
            { key: "locked", label: "Locked", num: true },
            { key: "updated", label: "Updated" },
          ]}
          state={
            data.balances.length === 0
              ? { kind: "empty", message: "No balance yet." }
              : { kind: "ready" }
          }
        >
          {data.balances.map((b) => (
            <tr key={b.asset} data-testid={`user-balance-${b.asset}`}>
              <Th>{b.asset}</Th>
              <Td num data-testid="available" data-value={b.available}>
                {consoleAmount(b.available)}
              </Td>
              <Td num data-testid="locked" data-value={b.locked}>
                {consoleAmount(b.locked)}
              </Td>
              <td>{consoleTime(b.updatedAt)}</td>
            </tr>
          ))}
        </Table>
      </Panel>

      <UserAccess userId={userId} email={user.email} />

      <Panel flush>
        <Tabs
          label="The user's records"
          items={[
            {
              value: "orders",
              label: `Live orders (${data.liveOrders.length})`,
              content: (
                <OrdersTable
                  orders={data.liveOrders}
                  state={{ kind: "ready" }}
                  emptyMessage="No live order."
                  onCancelled={refresh}
                />
              ),
            },
            {
              value: "recent",
              label: "Recent orders",
              content: (
                <OrdersTable
                  orders={data.recentOrders}
                  state={{ kind: "ready" }}
                  emptyMessage="No ended order."
                  onCancelled={refresh}
                />
              ),
            },
            {
              value: "fills",
              label: "Fills",
              content: (
                <Table
                  label="Fills"
                  columns={[
                    { key: "time", label: "Time" },
                    { key: "market", label: "Market" },
                    { key: "role", label: "Role" },
                    { key: "side", label: "Taker side" },
                    { key: "price", label: "Price", num: true },
                    { key: "amount", label: "Amount", num: true },
                    { key: "total", label: "Total", num: true },
                  ]}
                  state={
                    data.fills.length === 0
                      ? { kind: "empty", message: "No fill yet." }
                      : { kind: "ready" }
                  }
                >
                  {data.fills.map((t) => (
                    <tr key={`${t.market}/${t.id}`}>
                      <td>{consoleTime(t.createdAt)}</td>
                      <Th>{t.market}</Th>
                      <td>{t.role}</td>
                      <td className={t.takerSide === "buy" ? "up" : "down"}>{t.takerSide}</td>
                      <Td num>{consoleAmount(t.price)}</Td>
                      <Td num>{consoleAmount(t.amount)}</Td>
                      <Td num>{consoleAmount(t.total)}</Td>
                    </tr>
                  ))}
                </Table>
              ),
            },
            { value: "ledger", label: "Ledger", content: <UserLedger userId={userId} /> },
            {
              value: "withdrawals",
              label: "Withdrawals",
              content: (
                <Table
                  label="Withdrawals"
                  columns={[
                    { key: "time", label: "Requested" },
                    { key: "asset", label: "Asset" },
                    { key: "amount", label: "Amount", num: true },
                    { key: "address", label: "Address" },
                    { key: "status", label: "Status" },
                  ]}
                  state={
                    data.withdrawals.length === 0
                      ? { kind: "empty", message: "No withdrawal." }
                      : { kind: "ready" }
                  }
                >
                  {data.withdrawals.map((w) => (
                    <tr key={w.id.toString()}>
                      <td>{consoleTime(w.requestedAt)}</td>
                      <Th>{w.asset}</Th>
                      <Td num>{consoleAmount(w.amount)}</Td>
                      <td className="num">{w.address}</td>
                      <td>
                        <Badge
                          tone={
                            w.status === "completed"
                              ? "up"
                              : w.status === "rejected"
                                ? "down"
                                : "warn"
                          }
                          title={w.reason ?? undefined}
                        >
                          {w.status}
                        </Badge>
                      </td>
                    </tr>
                  ))}
                </Table>
              ),
            },
            {
              value: "audit",
              label: "Audit",
              content: <AuditRows entries={data.audit.items} state={{ kind: "ready" }} />,
            },
          ]}
        />
      </Panel>

      {acting === "freeze" || acting === "unfreeze" ? (
        <ActionDialog
          open
          onClose={() => setActing(null)}
          title={`${acting === "freeze" ? "Freeze" : "Unfreeze"} ${user.email}`}
          description={
            acting === "freeze"
              ? "They can still sign in and read; placing orders, deposits, withdrawals and new keys are refused (FORBIDDEN) from their next request. Resting orders stay: cancel them here if they must go."
              : "They can trade, deposit and withdraw again from their next request."
          }
          confirmLabel={acting === "freeze" ? "Freeze the account" : "Unfreeze the account"}
          variant={acting === "freeze" ? "danger" : "primary"}
          pending={freeze.isPending || unfreeze.isPending}
          error={
            freeze.error
              ? refusalText(freeze.error)
              : unfreeze.error
                ? refusalText(unfreeze.error)
                : null
          }
          onConfirm={(reason) => {
            const change = acting === "freeze" ? freeze : unfreeze;
            change.mutate(
              { userId, reason },
              {
                onSuccess: () => {
                  toast({
                    tone: "success",
                    title: `${user.email} ${acting === "freeze" ? "frozen" : "unfrozen"}`,
                  });
                  setActing(null);
                  void refresh();
                },
              },
            );
          }}
          testId="user-status-dialog"
        />
      ) : null}
      {acting === "adjust" ? (
        <AdjustBalance
          detail={data}
          onClose={() => setActing(null)}
          onDone={() => {
            setActing(null);
            void refresh();
          }}
        />
      ) : null}
    </>
  );
}

function UserLedger({ userId }: { userId: string }) {
  const trpc = useTRPC();
  const pages = useCursorPages();
  const ledger = useQuery(
    trpc.admin.users.ledger.queryOptions(
      { userId, limit: LEDGER_PAGE, cursor: pages.cursor },
      { placeholderData: (previous) => previous },
    ),
  );
  const rows = ledger.data?.items ?? [];
  return (
    <>
      <Table
        label="Ledger entries"
        testId="user-ledger"
        columns={[
          { key: "time", label: "Time" },
          { key: "transfer", label: "Transfer", num: true },
          { key: "kind", label: "Kind" },
          { key: "asset", label: "Asset" },
          { key: "bucket", label: "Bucket" },
          { key: "amount", label: "Amount", num: true },
          { key: "ref", label: "Reference" },
        ]}
        state={
          ledger.isError
            ? { kind: "error", message: refusalText(ledger.error) }
            : tableStateOf(ledger, rows.length, "No ledger entry yet.")
        }
      >
        {rows.map((e) => (
          <tr key={`${e.transferId}/${e.idx}`}>
            <td>{consoleTime(e.createdAt)}</td>
            <Td num>{e.transferId.toString()}</Td>
            <td>{e.kind}</td>
            <Th>{e.asset}</Th>
            <td>{e.bucket}</td>
            <Td num className={e.amount.startsWith("-") ? "down" : "up"}>
              {consoleAmount(e.amount)}
            </Td>
            <td className="num" title={e.ref}>
              {e.ref.length > 32 ? `${e.ref.slice(0, 32)}…` : e.ref}
            </td>
          </tr>
        ))}
      </Table>
      <Pager
        page={pages.page}
        hasNext={Boolean(ledger.data?.nextCursor)}
        busy={ledger.isFetching}
        onPrevious={pages.previous}
        onNext={() => ledger.data?.nextCursor && pages.next(ledger.data.nextCursor)}
      />
    </>
  );
}

function AdjustBalance({
  detail,
  onClose,
  onDone,
}: {
  detail: UserDetailView;
  onClose: () => void;
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const toast = useToast();
  const id = useId();
  const assets = useQuery(trpc.markets.list.queryOptions());
  const assetOptions = useMemo(() => {
    const names = new Set(detail.balances.map((b) => b.asset));
    for (const m of assets.data ?? []) {
      names.add(m.base);
      names.add(m.quote);
    }
    return [...names].sort().map((a) => ({ value: a, label: a }));
  }, [assets.data, detail.balances]);
  const [asset, setAsset] = useState(detail.balances[0]?.asset ?? "USDT");
  const [direction, setDirection] = useState<"credit" | "debit">("credit");
  const [amount, setAmount] = useState("");
  const [confirming, setConfirming] = useState<string | null>(null);
  // One key per form: a double submit, or a retry after a lost answer, adjusts once.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const adjust = useMutation(trpc.admin.users.adjustBalance.mutationOptions());
  const balance = detail.balances.find((b) => b.asset === asset);
  const valid = /^[0-9]+(\.[0-9]+)?$/.test(amount) && !/^0+(\.0+)?$/.test(amount);

  if (confirming !== null) {
    return (
      <Dialog
        open
        onClose={() => setConfirming(null)}
        title="Confirm the adjustment"
        testId="adjust-confirm"
        actions={
          <>
            <Button onClick={() => setConfirming(null)} disabled={adjust.isPending}>
              Back
            </Button>
            <Button
              variant={direction === "debit" ? "danger" : "primary"}
              disabled={adjust.isPending}
              data-testid="confirm-adjustment"
              onClick={() =>
                adjust.mutate(
                  {
                    userId: detail.user.id,
                    asset,
                    direction,
                    amount,
                    reason: confirming,
                    idempotencyKey,
                  },
                  {
                    onSuccess: (result) => {
                      toast({
                        tone: "success",
                        title: result.duplicate ? "Already adjusted" : "Balance adjusted",
                        message: `${asset} available is now ${consoleAmount(result.balance.available)}`,
                      });
                      onDone();
                    },
                  },
                )
              }
            >
              {adjust.isPending
                ? "Working…"
                : `${direction === "credit" ? "Credit" : "Debit"} ${amount} ${asset}`}
            </Button>
          </>
        }
      >
        <p style={{ margin: 0 }} data-testid="adjust-summary">
          {direction === "credit" ? "Credit" : "Debit"}{" "}
          <strong className="num">
            {consoleAmount(amount)} {asset}
          </strong>{" "}
          {direction === "credit" ? "to" : "from"} {detail.user.email}'s available balance (now{" "}
          <span className="num">{balance ? consoleAmount(balance.available) : "0"}</span> {asset}),
          against the exchange's adjustment account.
        </p>
        <p className="muted" style={{ margin: 0 }}>
          Reason: {confirming}
        </p>
        {adjust.error ? (
          <p className="down" role="alert" data-testid="action-error" style={{ margin: 0 }}>
            {refusalText(adjust.error)}
          </p>
        ) : null}
      </Dialog>
    );
  }
  return (
    <ActionDialog
      open
      onClose={onClose}
      title={`Adjust a balance of ${detail.user.email}`}
      description="A correction of the available balance, recorded in the ledger against the asset's adjustment account and in the audit log."
      confirmLabel="Review"
      pending={false}
      error={null}
      blocked={!valid}
      onConfirm={(reason) => setConfirming(reason)}
      testId="adjust-dialog"
    >
      <Segmented
        label="Credit or debit"
        value={direction}
        onChange={setDirection}
        options={[
          { value: "credit", label: "Credit", tone: "up" },
          { value: "debit", label: "Debit", tone: "down" },
        ]}
      />
      <div className="console-grid" style={{ gridTemplateColumns: "1fr 2fr", gap: 10 }}>
        <Field id={`${id}-asset`} label="Asset">
          <Select
            id={`${id}-asset`}
            value={asset}
            options={assetOptions}
            onValueChange={setAsset}
          />
        </Field>
        <Field
          id={`${id}-amount`}
          label="Amount"
          hint={
            balance
              ? `Available now: ${consoleAmount(balance.available)} ${asset}`
              : `No ${asset} balance yet`
          }
        >
          <AmountInput
            id={`${id}-amount`}
            value={amount}
            onValueChange={setAmount}
            unit={asset}
            data-testid="adjust-amount"
          />
        </Field>
      </div>
    </ActionDialog>
  );
}
