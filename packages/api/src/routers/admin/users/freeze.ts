// admin.users.freeze / admin.users.unfreeze: a frozen user can still sign in and read, but not
// place orders or withdraw (the ledger refuses them with FORBIDDEN inside its own transactions,
// so an order already on its way is refused too). Orders already resting stay; cancel them with
// admin.orders.cancel if they must go. A freeze is announced to every web instance, which ends
// the user's private WebSocket subscriptions. An operator cannot change their own status
// (SELF_ACTION_FORBIDDEN, audited): they would lose the console that unfreezes, and four eyes.
import { LedgerError, schema } from "@spotx/db";
import { logger } from "@spotx/platform/logger";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { entityId, reason } from "../../../admin/schemas";
import { unlessOwnAccount } from "../../../admin/self-action";
import { announceCredentialChange } from "../../../auth/credential-events";
import { operatorProcedure } from "../../../trpc";
import { adminUser } from "./search";

const log = logger("admin");

export const freezeInput = z.object({ userId: entityId, reason });

export const freezeOutput = z.object({
  user: adminUser,
  changed: z.boolean(),
  auditId: z.bigint(),
});

const setStatus = (status: "active" | "frozen") =>
  operatorProcedure
    .input(freezeInput)
    .output(freezeOutput)
    .mutation(async ({ ctx, input }) => {
      const action = status === "frozen" ? "user.freeze" : "user.unfreeze";
      const subject = `user:${input.userId}`;
      const result = await unlessOwnAccount(ctx, { action, subject, userId: input.userId }, () =>
        ctx.db.transaction(async (tx) => {
          const found = await tx.execute<{ status: "active" | "frozen" }>(
            sql`SELECT status FROM users WHERE id = ${input.userId} FOR UPDATE`,
          );
          const before = found.rows[0];
          if (!before) throw new LedgerError("NOT_FOUND", `user ${input.userId} does not exist`);
          const updated = await tx
            .update(schema.users)
            .set({ status })
            .where(eq(schema.users.id, input.userId))
            .returning({
              id: schema.users.id,
              email: schema.users.email,
              role: schema.users.role,
              status: schema.users.status,
              createdAt: schema.users.createdAt,
            });
          const user = updated[0];
          if (!user) throw new LedgerError("NOT_FOUND", `user ${input.userId} does not exist`);
          const auditId = await auditOperatorAction(tx, ctx, {
            action,
            subject,
            reason: input.reason,
            before: { status: before.status },
            after: { status },
          });
          return { user, changed: before.status !== status, auditId };
        }),
      );
      if (status === "frozen" && result.changed) {
        // Committed: every web instance ends the frozen user's private WebSocket subscriptions.
        // A lost announcement is caught by their periodic re-check, so a failure only logs.
        await announceCredentialChange(ctx.services.redis, ctx.services.names, {
          userId: input.userId,
          reason: "user_frozen",
        }).catch((error: unknown) => log.warn({ err: error }, "could not announce a freeze"));
      }
      return result;
    });

export const freezeUserProcedure = setStatus("frozen");
export const unfreezeUserProcedure = setStatus("active");
