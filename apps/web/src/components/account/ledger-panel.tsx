"use client";
// Ledger history: every transfer that touched the trader's accounts, newest first, with the
// entries on their side (+ credit, − debit; available or held), a page at a time.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { formatAsset, formatDateTime } from "../../lib/market-format";
import { useTRPC } from "../../trpc/client";
import { Button } from "../ui/button";
import { Panel } from "../ui/panel";
import { Table, Td, tableStateOf } from "../ui/table";

const KINDS: Record<string, string> = {
  deposit: "Deposit",
  hold: "Hold",
  release: "Release",
  order_hold: "Order hold",
  order_release: "Order release",
  trade: "Trade",
  withdrawal_hold: "Withdrawal hold",
  withdrawal_payout: "Withdrawal",
  withdrawal_return: "Withdrawal returned",
  adjustment: "Adjustment",
};

export function LedgerPanel({ decimals }: { decimals: Record<string, number> }) {
  const trpc = useTRPC();
  // The cursors of the pages walked back through; the last is the page shown.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const ledger = useQuery(
    trpc.account.ledger.queryOptions(cursor === undefined ? { limit: 25 } : { limit: 25, cursor }),
  );
  const items = ledger.data?.items ?? [];
  const next = ledger.data?.nextCursor ?? null;
  return (
    <Panel title="Ledger history" flush className="account-ledger">
      <Table
        label="Ledger history"
        testId="ledger"
        columns={[
          { key: "time", label: "Time" },
          { key: "kind", label: "What" },
          { key: "ref", label: "Reference" },
          { key: "entries", label: "Change", num: true },
        ]}
        state={tableStateOf(ledger, items.length, "No ledger entries yet: make a demo deposit.")}
      >
        {items.map((transfer) => (
          <tr key={transfer.transferId}>
            <Td className="muted">{formatDateTime(transfer.time)}</Td>
            <Td>{KINDS[transfer.kind] ?? transfer.kind}</Td>
            <Td className="muted ref-cell" title={transfer.reference}>
              {transfer.reference}
            </Td>
            <Td num>
              {transfer.entries.map((entry) => {
                const negative = entry.amount.startsWith("-");
                return (
                  <div key={`${entry.asset}-${entry.bucket}`} className={negative ? "down" : "up"}>
                    {negative ? "" : "+"}
                    {formatAsset(entry.amount, decimals[entry.asset] ?? 2)} {entry.asset}
                    {entry.bucket === "locked" ? " held" : ""}
                  </div>
                );
              })}
            </Td>
          </tr>
        ))}
      </Table>
      {next !== null || cursors.length > 0 ? (
        <div className="panel-foot" style={{ display: "flex", gap: 8 }}>
          <Button size="sm" disabled={cursors.length === 0} onClick={() => setCursors([])}>
            Newest
          </Button>
          <Button
            size="sm"
            disabled={next === null || ledger.isFetching}
            onClick={() => next !== null && setCursors((list) => [...list, next])}
          >
            Older entries
          </Button>
        </div>
      ) : null}
    </Panel>
  );
}
