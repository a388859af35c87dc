"use client";
// Withdrawals: the approval queue (pending, oldest first, with the user's balance beside each)
// and the decided ones. Approving pays the held amount out of the user's locked balance;
// rejecting, with a reason, returns it to their available balance — both under the user's
// account lock, audited by the ledger itself.
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Pager, useCursorPages } from "../ui/pager";
import { Panel } from "../ui/panel";
import { Segmented } from "../ui/segmented";
import { Table, Td, Th, tableStateOf } from "../ui/table";
import { useToast } from "../ui/toast";
import { ActionDialog } from "./action-dialog";
import { refusalText } from "./console-errors";
import { consoleAmount, consoleTime } from "./console-format";
import type { AdminWithdrawalView } from "./views";

const PAGE = 25;
type Status = "pending" | "completed" | "rejected";

export function WithdrawalsQueue() {
  const trpc = useTRPC();
  const toast = useToast();
  const [status, setStatus] = useState<Status>("pending");
  const pages = useCursorPages();
  const queue = useQuery(
    trpc.admin.withdrawals.queue.queryOptions(
      { status, limit: PAGE, cursor: pages.cursor },
      { placeholderData: (previous) => previous, refetchInterval: 10_000 },
    ),
  );
  const [deciding, setDeciding] = useState<{
    w: AdminWithdrawalView;
    how: "approve" | "reject";
  } | null>(null);
  const approve = useMutation(trpc.admin.withdrawals.approve.mutationOptions());
  const reject = useMutation(trpc.admin.withdrawals.reject.mutationOptions());
  const rows = queue.data?.items ?? [];
  const close = () => {
    approve.reset();
    reject.reset();
    setDeciding(null);
  };
  const decided = (title: string) => {
    toast({ tone: "success", title });
    close();
    void queue.refetch();
  };
  return (
    <Panel
      flush
      title={
        status === "pending" ? "Waiting for a decision (oldest first)" : `${status} (newest first)`
      }
      actions={
        <Segmented
          label="Which withdrawals"
          value={status}
          onChange={(value) => {
            pages.reset();
            setStatus(value);
          }}
          options={[
            { value: "pending", label: "Queue" },
            { value: "completed", label: "Approved" },
            { value: "rejected", label: "Rejected" },
          ]}
        />
      }
    >
      <Table
        label="Withdrawals"
        testId="withdrawals"
        columns={[
          { key: "id", label: "#", num: true },
          { key: "time", label: "Requested" },
          { key: "user", label: "User" },
          { key: "amount", label: "Amount", num: true },
          { key: "address", label: "Address" },
          { key: "balance", label: "Balance now: available · locked", num: true },
          { key: "status", label: "Status" },
          { key: "actions", label: <span className="visually-hidden">Decide</span> },
        ]}
        state={
          queue.isError
            ? { kind: "error", message: refusalText(queue.error) }
            : tableStateOf(
                queue,
                rows.length,
                status === "pending" ? "The queue is empty." : `No ${status} withdrawal.`,
              )
        }
      >
        {rows.map((w) => (
          <tr key={w.id.toString()} data-testid={`withdrawal-${w.id}`}>
            <Td num>{w.id.toString()}</Td>
            <td>{consoleTime(w.requestedAt)}</td>
            <Th>
              <Link href={`/admin/users/${w.userId}`}>{w.email}</Link>
            </Th>
            <Td num>
              {consoleAmount(w.amount)} {w.asset}
            </Td>
            <td className="num" title={w.ref}>
              {w.address}
            </td>
            <Td num>
              {w.balance
                ? `${consoleAmount(w.balance.available)} · ${consoleAmount(w.balance.locked)}`
                : "—"}
            </Td>
            <td>
              <Badge
                tone={w.status === "completed" ? "up" : w.status === "rejected" ? "down" : "warn"}
                title={w.reason ?? undefined}
              >
                {w.status}
              </Badge>
            </td>
            <td>
              {w.status === "pending" ? (
                <div className="console-actions">
                  <Button
                    size="sm"
                    variant="primary"
                    onClick={() => setDeciding({ w, how: "approve" })}
                  >
                    Approve
                  </Button>
                  <Button
                    size="sm"
                    variant="danger"
                    onClick={() => setDeciding({ w, how: "reject" })}
                  >
                    Reject
                  </Button>
                </div>
              ) : w.decidedAt ? (
                <span className="muted">{consoleTime(w.decidedAt)}</span>
              ) : null}
            </td>
          </tr>
        ))}
      </Table>
      <Pager
        page={pages.page}
        hasNext={Boolean(queue.data?.nextCursor)}
        busy={queue.isFetching}
        onPrevious={pages.previous}
        onNext={() => queue.data?.nextCursor && pages.next(queue.data.nextCursor)}
      />
      {deciding ? (
        <ActionDialog
          open
          onClose={close}
          title={`${deciding.how === "approve" ? "Approve" : "Reject"} withdrawal ${deciding.w.id}`}
          description={
            deciding.how === "approve"
              ? `Pays ${deciding.w.amount} ${deciding.w.asset} out to ${deciding.w.address}: the held amount leaves ${deciding.w.email}'s locked balance for good.`
              : `Returns the held ${deciding.w.amount} ${deciding.w.asset} to ${deciding.w.email}'s available balance.`
          }
          confirmLabel={deciding.how === "approve" ? "Approve and pay out" : "Reject and release"}
          variant={deciding.how === "approve" ? "primary" : "danger"}
          withReason={deciding.how === "reject"}
          pending={approve.isPending || reject.isPending}
          error={
            approve.error
              ? refusalText(approve.error)
              : reject.error
                ? refusalText(reject.error)
                : null
          }
          onConfirm={(reason) => {
            const withdrawalId = deciding.w.id;
            if (deciding.how === "approve") {
              approve.mutate(
                { withdrawalId },
                { onSuccess: () => decided(`Withdrawal ${withdrawalId} approved`) },
              );
            } else {
              reject.mutate(
                { withdrawalId, reason },
                { onSuccess: () => decided(`Withdrawal ${withdrawalId} rejected`) },
              );
            }
          }}
          testId="withdrawal-dialog"
        />
      ) : null}
    </Panel>
  );
}
