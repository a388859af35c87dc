// admin.users.sessions / admin.users.endSession: a user's live browser sessions (from the user's
// index of session ids in Redis) and ending one — its access and refresh tokens die at once (every
// request checks the record), and its sockets are disconnected. The record is in Redis, the audit
// row in PostgreSQL: the row is written first and the session deleted last inside the row's
// transaction, so a Redis failure leaves both as they were; only a failed commit after the delete
// could leave an ended session without its row. Ending one of their OWN sessions is an operator's
// right like logging out (four eyes guard against gain, and there is none in this), so it is not a
// self-action: ending the one they are using signs this browser out (the answer says so).
import { LedgerError } from "@spotx/db";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { entityId, reason } from "../../../admin/schemas";
import { disconnectSession } from "../../../auth/authenticate";
import { clearSessionCookies } from "../../../auth/session-cookies";
import type { SessionSummary } from "../../../auth/session-store";
import { isSessionId } from "../../../auth/session-token";
import { ApiError } from "../../../errors";
import { operatorProcedure } from "../../../trpc";

export const adminSession = z.object({
  sessionId: z.string(),
  createdAt: z.date().nullable(),
  /** The last refresh of its tokens; null when never refreshed. */
  refreshedAt: z.date().nullable(),
  /** When it ends unless refreshed before (never after `endsAt`). */
  expiresAt: z.date().nullable(),
  /** Its hard end. */
  endsAt: z.date().nullable(),
  /** The client that signed in, as the web server saw it. */
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  /** The session the operator is calling with. */
  current: z.boolean(),
});

const dateOf = (ms: number | null) => (ms === null ? null : new Date(ms));

function present(summary: SessionSummary, currentId: string): z.infer<typeof adminSession> {
  return {
    sessionId: summary.sessionId,
    createdAt: dateOf(summary.createdAt),
    refreshedAt: dateOf(summary.refreshedAt),
    expiresAt: dateOf(summary.expiresAt),
    endsAt: dateOf(summary.endsAt),
    ip: summary.ip,
    userAgent: summary.userAgent,
    current: summary.sessionId === currentId,
  };
}

/** The audit log's picture of a session (times as ISO text). */
function audited(summary: SessionSummary) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    sessionId: summary.sessionId,
    createdAt: iso(summary.createdAt),
    refreshedAt: iso(summary.refreshedAt),
    endsAt: iso(summary.endsAt),
    ip: summary.ip,
    userAgent: summary.userAgent,
  };
}

export const sessionsOutput = z.object({ sessions: z.array(adminSession) });

export const userSessionsProcedure = operatorProcedure
  .input(z.object({ userId: entityId }))
  .output(sessionsOutput)
  .query(async ({ ctx, input }) => {
    const sessions = await ctx.services.sessions.list(input.userId);
    return { sessions: sessions.map((s) => present(s, ctx.session.sessionId)) };
  });

export const endSessionInput = z.object({
  userId: entityId,
  sessionId: z.string().refine(isSessionId, "not a session id"),
  reason,
});

export const endSessionOutput = z.object({
  ended: z.literal(true),
  /** It was the operator's own session of this browser: they are signed out. */
  current: z.boolean(),
  auditId: z.bigint(),
});

export const endSessionProcedure = operatorProcedure
  .input(endSessionInput)
  .output(endSessionOutput)
  .mutation(async ({ ctx, input }) => {
    const { sessions } = ctx.services;
    const before = await sessions.describe(input.sessionId);
    // Another user's session is as unknown as one that ended.
    if (before === null || before.userId !== input.userId) {
      throw new ApiError("NOT_FOUND", `user ${input.userId} has no live session with that id`);
    }
    const current = input.sessionId === ctx.session.sessionId;
    const auditId = await ctx.db.transaction(async (tx) => {
      const exists = await tx.execute(sql`SELECT 1 FROM users WHERE id = ${input.userId}`);
      if (exists.rows.length === 0) {
        throw new LedgerError("NOT_FOUND", `user ${input.userId} does not exist`);
      }
      const id = await auditOperatorAction(tx, ctx, {
        action: "session.end",
        subject: `user:${input.userId}`,
        reason: input.reason,
        before: { session: audited(before) },
        after: { session: null },
        details: { endedSession: input.sessionId, ownSession: current },
      });
      // Last, so that a refusal above leaves the session alive.
      await sessions.revoke(input.sessionId);
      return id;
    });
    await disconnectSession(ctx.services, input.sessionId);
    if (current && ctx.http) clearSessionCookies(ctx.http);
    return { ended: true as const, current, auditId };
  });
