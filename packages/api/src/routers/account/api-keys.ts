// account.apiKeys: keys for trading programs (the gate.io-compatible REST and WebSocket API).
// A key has permissions (`read`, `trade`) and may be limited to client addresses (IPs or CIDRs).
// The secret is shown once, in create's answer, and stored only sealed (AES-256-GCM under a key
// derived from the server key) — list never returns it. A frozen user may list and revoke
// keys, not create them. A user with two-factor sign-in confirms a new key with a current code.
import { isIP } from "node:net";
import { API_KEY_REPLAY_MODES, createApiKey, revokeApiKey, schema } from "@spotx/db";
import { logger } from "@spotx/platform/logger";
import { desc, eq } from "drizzle-orm";
import { z } from "zod";
import { announceCredentialChange } from "../../auth/credential-events";
import { requireCodeFor } from "../../auth/two-factor";
import { ApiError } from "../../errors";
import { activeProcedure, protectedProcedure, router } from "../../trpc";
import { totpCodeField } from "../auth/two-factor";
import { textField } from "../fields";

/** An address as the REST guard matches it: an IPv4 or IPv6 address, or one with a /prefix. */
export const allowlistEntry = z
  .string()
  .max(64)
  .refine((entry) => {
    const [base = "", prefix, ...rest] = entry.split("/");
    const family = isIP(base);
    if (family === 0 || rest.length > 0) return false;
    if (prefix === undefined) return true;
    if (!/^[0-9]{1,3}$/.test(prefix)) return false;
    return Number(prefix) <= (family === 4 ? 32 : 128);
  }, "an IP address, or a network as address/prefix (10.0.0.0/8)");

export const createApiKeyInput = z.strictObject({
  permissions: z
    .array(z.enum(["read", "trade"]))
    .min(1, "a key needs at least one permission")
    .max(2)
    .refine((list) => new Set(list).size === list.length, "each permission once"),
  /** Addresses the key may be used from; absent or null: any. */
  ipAllowlist: z.array(allowlistEntry).min(1).max(100).nullable().optional(),
  label: textField(100).optional(),
  /**
   * An identical signed request inside the 60 s Timestamp window: `gate` accepts it again, as
   * gate.io does (a program's repeated cancel-all, a grid's identical orders); `strict` refuses it
   * with DUPLICATE_REQUEST, so a captured request cannot be replayed.
   */
  replay: z.enum(API_KEY_REPLAY_MODES).default("gate"),
  /** The authenticator app's current code: required when two-factor sign-in is on. */
  totpCode: totpCodeField.optional(),
});
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

export const apiKeyView = z.object({
  id: z.string(),
  /** The public key id a program sends in the KEY header. */
  key: z.string(),
  permissions: z.array(z.enum(["read", "trade"])),
  ipAllowlist: z.array(z.string()).nullable(),
  replay: z.enum(API_KEY_REPLAY_MODES),
  label: z.string(),
  createdAt: z.number().int(),
  lastUsedAt: z.number().int().nullable(),
  revokedAt: z.number().int().nullable(),
});

const k = schema.apiKeys;
const log = logger("api-keys");
const keyColumns = {
  id: k.id,
  key: k.key,
  permissions: k.permissions,
  ipAllowlist: k.ipAllowlist,
  replayMode: k.replayMode,
  label: k.label,
  createdAt: k.createdAt,
  lastUsedAt: k.lastUsedAt,
  revokedAt: k.revokedAt,
};
type KeyRow = { [C in keyof typeof keyColumns]: (typeof k.$inferSelect)[C] };

const toApiKeyView = (row: KeyRow): z.infer<typeof apiKeyView> => ({
  id: String(row.id),
  key: row.key,
  permissions: row.permissions,
  ipAllowlist: row.ipAllowlist,
  replay: row.replayMode,
  label: row.label,
  createdAt: row.createdAt.getTime(),
  lastUsedAt: row.lastUsedAt?.getTime() ?? null,
  revokedAt: row.revokedAt?.getTime() ?? null,
});

const create = activeProcedure
  .input(createApiKeyInput)
  .output(apiKeyView.extend({ secret: z.string() }))
  .mutation(async ({ ctx, input }) => {
    await requireCodeFor(ctx, "a new API key", input.totpCode);
    const created = await createApiKey(ctx.db, ctx.services.apiKeySealingKey, {
      userId: ctx.session.userId,
      permissions: input.permissions,
      ipAllowlist: input.ipAllowlist ?? null,
      label: input.label ?? "",
      replayMode: input.replay,
    });
    const [row] = await ctx.db.select(keyColumns).from(k).where(eq(k.id, created.id));
    if (!row) throw new Error(`API key ${created.id} vanished after creation`);
    return { ...toApiKeyView(row), secret: created.secret };
  });

const list = protectedProcedure.output(z.array(apiKeyView)).query(async ({ ctx }) => {
  const rows = await ctx.db
    .select(keyColumns)
    .from(k)
    .where(eq(k.userId, ctx.session.userId))
    .orderBy(desc(k.id))
    .limit(500);
  return rows.map(toApiKeyView);
});

const revoke = protectedProcedure
  .input(z.strictObject({ key: z.string().regex(/^[0-9a-f]{32}$/, "not an API key id") }))
  .output(z.object({ revoked: z.literal(true) }))
  .mutation(async ({ ctx, input }) => {
    // Another user's key is as unknown as one that does not exist.
    if (!(await revokeApiKey(ctx.db, ctx.session.userId, input.key))) {
      throw new ApiError("NOT_FOUND", "no live API key with that id");
    }
    // Committed: now every web instance ends the WebSocket subscriptions the key opened. A lost
    // announcement is caught by their periodic re-check, so a Redis failure only logs.
    const [revoked] = await ctx.db.select({ id: k.id }).from(k).where(eq(k.key, input.key));
    if (revoked) {
      await announceCredentialChange(ctx.services.redis, ctx.services.names, {
        userId: ctx.session.userId,
        keyId: revoked.id,
        reason: "key_revoked",
      }).catch((error: unknown) =>
        log.warn({ err: error }, "could not announce a revoked API key"),
      );
    }
    return { revoked: true as const };
  });

export const apiKeysRouter = router({ create, list, revoke });
