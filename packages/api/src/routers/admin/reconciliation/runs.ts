// admin.reconciliation.runs and admin.reconciliation.findings: the history of reconciliation
// runs (newest first) and the mismatches they recorded, a page at a time. Amounts of the balance
// checks are shown in the asset's units beside the raw integers every finding carries.
import { schema } from "@spotx/db";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { MarketUnits } from "../../../admin/market-units";
import {
  cursorId,
  decodeCursor,
  entityId,
  pageFrom,
  pageInput,
  pageOf,
} from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";

type RunRow = typeof schema.reconciliationRuns.$inferSelect;
type FindingRow = typeof schema.reconciliationFindings.$inferSelect;

export const reconciliationRun = z.object({
  id: z.bigint(),
  startedAt: z.date(),
  finishedAt: z.date(),
  status: z.enum(["clean", "mismatch"]),
  /** The lock's fencing token, when run as the singleton. */
  fencingToken: z.bigint().nullable(),
  accountsChecked: z.number().int(),
  entriesChecked: z.bigint(),
  findingsCount: z.number().int(),
  durationMs: z.number().int(),
});

export const reconciliationFinding = z.object({
  id: z.bigint(),
  runId: z.bigint(),
  kind: z.string(),
  userId: z.bigint().nullable(),
  asset: z.string().nullable(),
  transferId: z.bigint().nullable(),
  /** As recorded: minor units for balance checks, lots or sequence numbers for others. */
  expected: z.string(),
  actual: z.string(),
  /** expected and actual in the asset's units, for the checks that compare balances. */
  expectedAmount: z.string().nullable(),
  actualAmount: z.string().nullable(),
  detail: z.string(),
});

/** The checks whose expected and actual are minor units of the finding's asset. */
const BALANCE_KINDS = new Set([
  "available_mismatch",
  "locked_mismatch",
  "hold_mismatch",
  "asset_not_zero",
  "transfer_not_zero",
]);

export const presentRun = (r: RunRow) => ({
  id: r.id,
  startedAt: r.startedAt,
  finishedAt: r.finishedAt,
  status: r.status,
  fencingToken: r.fencingToken,
  accountsChecked: r.accountsChecked,
  entriesChecked: r.entriesChecked,
  findingsCount: r.findingsCount,
  durationMs: r.durationMs,
});

export function presentFinding(
  f: Pick<FindingRow, "id" | "runId" | "kind" | "userId" | "asset" | "transferId" | "detail"> & {
    expected: bigint;
    actual: bigint;
  },
  units: MarketUnits,
): z.infer<typeof reconciliationFinding> {
  const asAmount = (value: bigint) =>
    f.asset !== null && BALANCE_KINDS.has(f.kind) ? units.amount(f.asset, value) : null;
  return {
    id: f.id,
    runId: f.runId,
    kind: f.kind,
    userId: f.userId,
    asset: f.asset,
    transferId: f.transferId,
    expected: f.expected.toString(),
    actual: f.actual.toString(),
    expectedAmount: asAmount(f.expected),
    actualAmount: asAmount(f.actual),
    detail: f.detail,
  };
}

export const reconciliationRunsInput = z
  .object({
    status: z.enum(["clean", "mismatch"]).optional(),
    ...pageInput,
  })
  .prefault({});

export const reconciliationRunsProcedure = operatorProcedure
  .input(reconciliationRunsInput)
  .output(pageOf(reconciliationRun))
  .query(async ({ ctx, input }) => {
    const runs = schema.reconciliationRuns;
    const rows = await ctx.db
      .select()
      .from(runs)
      .where(
        and(
          input.status === undefined ? undefined : eq(runs.status, input.status),
          input.cursor === undefined
            ? undefined
            : lt(runs.id, cursorId(decodeCursor(input.cursor, 1)[0])),
        ),
      )
      .orderBy(desc(runs.id))
      .limit(input.limit + 1);
    return pageFrom(rows, input.limit, presentRun, (r) => [r.id.toString()]);
  });

export const reconciliationFindingsInput = z
  .object({
    runId: entityId.optional(),
    kind: z
      .string()
      .regex(/^[a-z_]{1,40}$/)
      .optional(),
    userId: entityId.optional(),
    ...pageInput,
  })
  .prefault({});

export const reconciliationFindingsProcedure = operatorProcedure
  .input(reconciliationFindingsInput)
  .output(pageOf(reconciliationFinding))
  .query(async ({ ctx, input }) => {
    const findings = schema.reconciliationFindings;
    const where: (SQL | undefined)[] = [
      input.runId === undefined ? undefined : eq(findings.runId, input.runId),
      input.kind === undefined ? undefined : eq(findings.kind, input.kind as FindingRow["kind"]),
      input.userId === undefined ? undefined : eq(findings.userId, input.userId),
      input.cursor === undefined
        ? undefined
        : lt(findings.id, cursorId(decodeCursor(input.cursor, 1)[0])),
    ];
    const [rows, units] = await Promise.all([
      ctx.db
        .select()
        .from(findings)
        .where(and(...where))
        .orderBy(desc(findings.id))
        .limit(input.limit + 1),
      MarketUnits.load(ctx.db),
    ]);
    return pageFrom(
      rows,
      input.limit,
      (f) => presentFinding(f, units),
      (f) => [f.id.toString()],
    );
  });
