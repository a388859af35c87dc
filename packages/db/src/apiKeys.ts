// API keys: a public key id and a secret the client signs with (HMAC-SHA512, gate.io style).
// The server must read the secret back to verify signatures, so it is sealed, not hashed:
// AES-256-GCM under a 32-byte server key, stored as base64url(iv | tag | ciphertext).
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "./client";
import { LedgerError } from "./errors";
import { requireId, requireObject, requireOneOf, requireString, requireText } from "./input";
import { apiKeys } from "./schema";

export type ApiKeyPermission = "read" | "trade";
export const API_KEY_REPLAY_MODES = ["gate", "strict"] as const;
export type ApiKeyReplayMode = (typeof API_KEY_REPLAY_MODES)[number];
export type ApiKey = typeof apiKeys.$inferSelect;

function requireServerKey(serverKey: unknown): asserts serverKey is Buffer {
  if (!Buffer.isBuffer(serverKey) || serverKey.length !== 32) {
    throw new LedgerError("INVALID_PARAM_VALUE", "the API key server key must be 32 bytes");
  }
}

export function sealSecret(secret: string, serverKey: Buffer): string {
  requireServerKey(serverKey);
  requireText(secret, "secret", 1_000);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", serverKey, iv);
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64url");
}

/**
 * The secret in clear; INVALID_PARAM_VALUE if the sealed value was altered, is not one, or the
 * server key is wrong (AES-GCM's tag check).
 */
export function openSecret(sealed: string, serverKey: Buffer): string {
  requireServerKey(serverKey);
  const raw = Buffer.from(requireText(sealed, "sealed secret", 4_000), "base64url");
  if (raw.length < 29) throw new LedgerError("INVALID_PARAM_VALUE", "not a sealed secret");
  try {
    const decipher = createDecipheriv("aes-256-gcm", serverKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      "the sealed secret does not open with this server key (altered, or another key)",
    );
  }
}

/** Creates a key for a user; the secret is returned once, here, and stored only sealed. */
export async function createApiKey(
  db: Database,
  serverKey: Buffer,
  input: {
    userId: bigint;
    permissions: ApiKeyPermission[];
    ipAllowlist?: string[] | null;
    label?: string;
    /** Whether an identical signed request may repeat inside the window (`gate`, the default) or not. */
    replayMode?: ApiKeyReplayMode;
  },
): Promise<{ id: bigint; key: string; secret: string }> {
  requireServerKey(serverKey);
  const raw = requireObject(input, "API key");
  const userId = requireId(raw.userId, "userId");
  if (!Array.isArray(raw.permissions) || raw.permissions.length === 0) {
    throw new LedgerError("INVALID_PARAM_VALUE", "an API key needs at least one permission");
  }
  const permissions = raw.permissions.map((p: unknown) =>
    requireOneOf(p, ["read", "trade"] as const, "permission"),
  );
  let ipAllowlist: string[] | null = null;
  if (raw.ipAllowlist !== undefined && raw.ipAllowlist !== null) {
    if (!Array.isArray(raw.ipAllowlist) || raw.ipAllowlist.length > 100) {
      throw new LedgerError("INVALID_PARAM_VALUE", "ipAllowlist must be a list of addresses");
    }
    ipAllowlist = raw.ipAllowlist.map((ip: unknown) => requireText(ip, "ipAllowlist entry", 64));
  }
  const label = raw.label === undefined ? "" : requireString(raw.label, "label", 100);
  const replayMode =
    raw.replayMode === undefined
      ? "gate"
      : requireOneOf(raw.replayMode, API_KEY_REPLAY_MODES, "replayMode");
  const exists = await db.execute(sql`SELECT 1 FROM users WHERE id = ${userId}`);
  if (exists.rows.length === 0) throw new LedgerError("NOT_FOUND", `user ${userId} does not exist`);
  input = { userId, permissions, ipAllowlist, label, replayMode };
  const key = randomBytes(16).toString("hex");
  const secret = randomBytes(32).toString("hex");
  const inserted = await db
    .insert(apiKeys)
    .values({
      userId: input.userId,
      key,
      secretSealed: sealSecret(secret, serverKey),
      permissions: [...new Set(input.permissions)],
      ipAllowlist: input.ipAllowlist ?? null,
      label: input.label ?? "",
      replayMode,
    })
    .returning({ id: apiKeys.id });
  const id = inserted[0]?.id;
  if (id === undefined) throw new Error("API key not created");
  return { id, key, secret };
}

/** A live (not revoked) key with its secret opened, or undefined. */
export async function findApiKey(
  db: Database,
  serverKey: Buffer,
  key: string,
): Promise<(ApiKey & { secret: string }) | undefined> {
  requireServerKey(serverKey);
  requireText(key, "key", 200);
  const found = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.key, key), isNull(apiKeys.revokedAt)));
  const row = found[0];
  return row ? { ...row, secret: openSecret(row.secretSealed, serverKey) } : undefined;
}

export async function revokeApiKey(db: Database, userId: bigint, key: string): Promise<boolean> {
  requireId(userId, "userId");
  requireText(key, "key", 200);
  const revoked = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.key, key), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return revoked.length > 0;
}
