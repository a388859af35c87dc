// admin.users.apiKeys / admin.users.revokeApiKey: a user's API keys (never a secret) and revoking
// one, as the user's own revoke does — the row is marked revoked (with its audit row, in one
// transaction), then the change is announced so that every web instance drops the key from its
// authenticator's memory and ends the WebSocket subscriptions it opened: the next signed request
// with it is refused everywhere (a lost announcement is caught by the key cache's short life and
// the sockets' periodic re-check). Revoking a key already revoked changes nothing and says so.
import { LedgerError, schema } from "@spotx/db";
import { logger } from "@spotx/platform/logger";
import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { entityId, reason } from "../../../admin/schemas";
import { announceCredentialChange } from "../../../auth/credential-events";
import { ApiError } from "../../../errors";
import { operatorProcedure } from "../../../trpc";

const log = logger("admin");
const k = schema.apiKeys;

export const adminApiKey = z.object({
  id: z.bigint(),
  /** The public key id a program sends in the KEY header. */
  key: z.string(),
  label: z.string(),
  permissions: z.array(z.enum(["read", "trade"])),
  ipAllowlist: z.array(z.string()).nullable(),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
});

const keyColumns = {
  id: k.id,
  key: k.key,
  label: k.label,
  permissions: k.permissions,
  ipAllowlist: k.ipAllowlist,
  createdAt: k.createdAt,
  lastUsedAt: k.lastUsedAt,
  revokedAt: k.revokedAt,
};

export const userApiKeysProcedure = operatorProcedure
  .input(z.object({ userId: entityId }))
  .output(z.object({ keys: z.array(adminApiKey) }))
  .query(async ({ ctx, input }) => {
    const keys = await ctx.db
      .select(keyColumns)
      .from(k)
      .where(eq(k.userId, input.userId))
      .orderBy(desc(k.id))
      .limit(500);
    return { keys };
  });

export const revokeApiKeyInput = z.object({ userId: entityId, keyId: entityId, reason });

export const revokeApiKeyOutput = z.object({
  key: adminApiKey,
  /** False when it was revoked already. */
  changed: z.boolean(),
  auditId: z.bigint(),
});

export const revokeApiKeyProcedure = operatorProcedure
  .input(revokeApiKeyInput)
  .output(revokeApiKeyOutput)
  .mutation(async ({ ctx, input }) => {
    const result = await ctx.db.transaction(async (tx) => {
      const found = await tx
        .select(keyColumns)
        .from(k)
        .where(and(eq(k.id, input.keyId), eq(k.userId, input.userId)))
        .for("update");
      const before = found[0];
      // Another user's key is as unknown as one that does not exist.
      if (!before) {
        const user = await tx.execute(sql`SELECT 1 FROM users WHERE id = ${input.userId}`);
        if (user.rows.length === 0) {
          throw new LedgerError("NOT_FOUND", `user ${input.userId} does not exist`);
        }
        throw new ApiError("NOT_FOUND", `user ${input.userId} has no API key ${input.keyId}`);
      }
      const changed = before.revokedAt === null;
      const after = changed
        ? ((
            await tx
              .update(k)
              .set({ revokedAt: sql`now()` })
              .where(eq(k.id, before.id))
              .returning(keyColumns)
          )[0] ?? before)
        : before;
      const auditId = await auditOperatorAction(tx, ctx, {
        action: "apikey.revoke",
        subject: `user:${input.userId}`,
        reason: input.reason,
        before: { key: before.key, label: before.label, revokedAt: before.revokedAt },
        after: { key: after.key, label: after.label, revokedAt: after.revokedAt },
        details: { keyId: String(before.id), changed },
      });
      return { key: after, changed, auditId };
    });
    if (result.changed) {
      // Committed: every web instance forgets the key and ends what it opened.
      await announceCredentialChange(ctx.services.redis, ctx.services.names, {
        userId: input.userId,
        keyId: input.keyId,
        reason: "key_revoked",
      }).catch((error: unknown) =>
        log.warn({ err: error }, "could not announce a revoked API key"),
      );
    }
    return result;
  });
