"use client";
// Reconciliation: run it now (as the cluster's singleton: if a worker's run holds the lock, this
// waits for it), the history of runs, and the findings — each mismatch in the asset's units
// beside the raw integers recorded. A run with findings is shown red.
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Banner } from "../ui/banner";
import { Button } from "../ui/button";
import { Pager, useCursorPages } from "../ui/pager";
import { Panel } from "../ui/panel";
import { Table, Td, Th, tableStateOf } from "../ui/table";
import { refusalText } from "./console-errors";
import { consoleAmount, consoleTime } from "./console-format";

const PAGE = 20;

export function ReconciliationView() {
  const trpc = useTRPC();
  const runsPages = useCursorPages();
  const findingsPages = useCursorPages();
  const [runId, setRunId] = useState<bigint | null>(null);
  const runs = useQuery(
    trpc.admin.reconciliation.runs.queryOptions(
      { limit: PAGE, cursor: runsPages.cursor },
      { placeholderData: (previous) => previous, refetchInterval: 15_000 },
    ),
  );
  const findings = useQuery(
    trpc.admin.reconciliation.findings.queryOptions(
      // Query inputs are hashed as JSON (no bigint there): the id travels as a digit string.
      { runId: runId?.toString(), limit: PAGE, cursor: findingsPages.cursor },
      { placeholderData: (previous) => previous },
    ),
  );
  const run = useMutation(
    trpc.admin.reconciliation.run.mutationOptions({
      onSuccess: (result) => {
        runsPages.reset();
        findingsPages.reset();
        setRunId(result.run.id);
        void runs.refetch();
        void findings.refetch();
      },
    }),
  );
  const latest = run.data?.run;
  const runRows = runs.data?.items ?? [];
  const findingRows = findings.data?.items ?? [];
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Reconciliation</h1>
          <p className="muted">
            Every account's balance against its ledger entries, every transfer summing to zero, the
            audit log's hash chain. A worker runs it every five minutes or so; run it now after a
            repair.
          </p>
        </div>
        <Button
          variant="primary"
          onClick={() => run.mutate()}
          disabled={run.isPending}
          data-testid="run-reconciliation"
        >
          {run.isPending ? "Running…" : "Run now"}
        </Button>
      </div>
      {run.error ? (
        <Banner tone="danger" title="The run did not happen">
          {refusalText(run.error)}
        </Banner>
      ) : null}
      {latest ? (
        <Banner
          tone={latest.status === "clean" ? "info" : "danger"}
          title={latest.status === "clean" ? "Clean" : `${latest.findingsCount} findings`}
          testId="reconciliation-result"
        >
          Run {latest.id.toString()}: {latest.accountsChecked} accounts and{" "}
          {latest.entriesChecked.toString()} entries checked in {latest.durationMs} ms.
        </Banner>
      ) : null}
      <div className="console-grid">
        <Panel flush title="Runs">
          <Table
            label="Reconciliation runs"
            testId="reconciliation-runs"
            columns={[
              { key: "id", label: "#", num: true },
              { key: "time", label: "Finished" },
              { key: "status", label: "Result" },
              { key: "checked", label: "Accounts · entries", num: true },
              { key: "duration", label: "Took", num: true },
            ]}
            state={
              runs.isError
                ? { kind: "error", message: refusalText(runs.error) }
                : tableStateOf(runs, runRows.length, "No run yet.")
            }
          >
            {runRows.map((r) => (
              <tr
                key={r.id.toString()}
                data-testid={`run-${r.id}`}
                className="table-row-link"
                aria-selected={runId === r.id}
                onClick={() => {
                  findingsPages.reset();
                  setRunId(r.id);
                }}
              >
                <Td num>{r.id.toString()}</Td>
                <td>{consoleTime(r.finishedAt)}</td>
                <td>
                  <Badge tone={r.status === "clean" ? "up" : "down"} data-testid="run-status">
                    {r.status === "clean" ? "clean" : `${r.findingsCount} findings`}
                  </Badge>
                </td>
                <Td num>
                  {r.accountsChecked} · {r.entriesChecked.toString()}
                </Td>
                <Td num>{r.durationMs} ms</Td>
              </tr>
            ))}
          </Table>
          <Pager
            page={runsPages.page}
            hasNext={Boolean(runs.data?.nextCursor)}
            busy={runs.isFetching}
            onPrevious={runsPages.previous}
            onNext={() => runs.data?.nextCursor && runsPages.next(runs.data.nextCursor)}
          />
        </Panel>
        <Panel
          flush
          title={runId === null ? "Findings of every run" : `Findings of run ${runId}`}
          actions={
            runId === null ? undefined : (
              <Button size="sm" variant="ghost" onClick={() => setRunId(null)}>
                All runs
              </Button>
            )
          }
        >
          <Table
            label="Reconciliation findings"
            testId="reconciliation-findings"
            columns={[
              { key: "run", label: "Run", num: true },
              { key: "kind", label: "Check" },
              { key: "user", label: "User" },
              { key: "asset", label: "Asset" },
              { key: "expected", label: "Expected", num: true },
              { key: "actual", label: "Actual", num: true },
              { key: "detail", label: "Detail" },
            ]}
            state={
              findings.isError
                ? { kind: "error", message: refusalText(findings.error) }
                : tableStateOf(findings, findingRows.length, "No finding: the ledger reconciles.")
            }
          >
            {findingRows.map((f) => (
              <tr key={f.id.toString()} data-testid="finding">
                <Td num>{f.runId.toString()}</Td>
                <Th>{f.kind}</Th>
                <td>
                  {f.userId === null ? (
                    "—"
                  ) : (
                    <Link href={`/admin/users/${f.userId}`}>{f.userId.toString()}</Link>
                  )}
                </td>
                <td>{f.asset ?? "—"}</td>
                <Td num title={`raw ${f.expected}`}>
                  {f.expectedAmount === null ? f.expected : consoleAmount(f.expectedAmount)}
                </Td>
                <Td num title={`raw ${f.actual}`} data-testid="finding-actual">
                  {f.actualAmount === null ? f.actual : consoleAmount(f.actualAmount)}
                </Td>
                <td style={{ whiteSpace: "normal", maxWidth: 260 }}>{f.detail}</td>
              </tr>
            ))}
          </Table>
          <Pager
            page={findingsPages.page}
            hasNext={Boolean(findings.data?.nextCursor)}
            busy={findings.isFetching}
            onPrevious={findingsPages.previous}
            onNext={() => findings.data?.nextCursor && findingsPages.next(findings.data.nextCursor)}
          />
        </Panel>
      </div>
    </>
  );
}
