// admin.audit.search: the audit log — who did what to what, when, from where, with the state
// before and after — filtered by actor, action, subject and time, newest first, a page at a time.
// Each row carries its hash, so a console can show the chain reconciliation verifies.
import { type Database, schema } from "@spotx/db";
import { and, desc, eq, gte, like, lt, lte, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import {
  cursorId,
  decodeCursor,
  entityId,
  pageFrom,
  pageInput,
  pageOf,
  timeRange,
} from "../../admin/schemas";
import { operatorProcedure } from "../../trpc";

export const auditEntry = z.object({
  id: z.bigint(),
  actorId: z.bigint().nullable(),
  actorEmail: z.string().nullable(),
  action: z.string(),
  subject: z.string(),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.date(),
  hash: z.string(),
});

export const searchAuditInput = z
  .object({
    actorId: entityId.optional(),
    /** An action (`user.freeze`) or an area ending in a dot (`market.`). */
    action: z
      .string()
      .regex(/^[a-z_]+(\.[a-z_]*)*$/, "an action like user.freeze, or an area like market.")
      .max(100)
      .optional(),
    /** What was acted on, e.g. `user:42`, `market:BTC_USDT`. */
    subject: z.string().min(1).max(200).optional(),
    ...timeRange,
    ...pageInput,
  })
  .prefault({});

export async function loadAudit(db: Database, filter: z.infer<typeof searchAuditInput>) {
  const log = schema.auditLog;
  const actor = alias(schema.users, "actor");
  const where: (SQL | undefined)[] = [
    filter.actorId === undefined ? undefined : eq(log.actorId, filter.actorId),
    filter.action === undefined
      ? undefined
      : filter.action.endsWith(".")
        ? like(log.action, `${filter.action.replace(/_/g, "\\_")}%`)
        : eq(log.action, filter.action),
    filter.subject === undefined ? undefined : eq(log.subject, filter.subject),
    filter.from === undefined ? undefined : gte(log.createdAt, filter.from),
    filter.to === undefined ? undefined : lte(log.createdAt, filter.to),
    filter.cursor === undefined
      ? undefined
      : lt(log.id, cursorId(decodeCursor(filter.cursor, 1)[0])),
  ];
  const rows = await db
    .select({ entry: log, actorEmail: actor.email })
    .from(log)
    .leftJoin(actor, eq(actor.id, log.actorId))
    .where(and(...where))
    .orderBy(desc(log.id))
    .limit(filter.limit + 1);
  return pageFrom(
    rows,
    filter.limit,
    ({ entry, actorEmail }) => ({
      id: entry.id,
      actorId: entry.actorId,
      actorEmail,
      action: entry.action,
      subject: entry.subject,
      details:
        typeof entry.details === "object" && entry.details !== null && !Array.isArray(entry.details)
          ? (entry.details as Record<string, unknown>)
          : { value: entry.details },
      createdAt: entry.createdAt,
      hash: entry.hash.toString("hex"),
    }),
    ({ entry }) => [entry.id.toString()],
  );
}

export const searchAuditProcedure = operatorProcedure
  .input(searchAuditInput)
  .output(pageOf(auditEntry))
  .query(({ ctx, input }) => loadAudit(ctx.db, input));
