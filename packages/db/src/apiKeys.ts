// API keys: a public key id and a secret the client signs with (HMAC-SHA512, gate.io style).
// The server must read the secret back to verify signatures, so it is sealed, not hashed:
// AES-256-GCM under a 32-byte server key, stored as base64url(iv | tag | ciphertext).
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "./client";
import { LedgerError } from "./errors";
import { apiKeys } from "./schema";

export type ApiKeyPermission = "read" | "trade";
export type ApiKey = typeof apiKeys.$inferSelect;

function requireServerKey(serverKey: Buffer) {
  if (serverKey.length !== 32) throw new Error("the API key server key must be 32 bytes");
}

export function sealSecret(secret: string, serverKey: Buffer): string {
  requireServerKey(serverKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", serverKey, iv);
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64url");
}

/** The secret in clear; throws if the sealed value was altered or the server key is wrong. */
export function openSecret(sealed: string, serverKey: Buffer): string {
  requireServerKey(serverKey);
  const raw = Buffer.from(sealed, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", serverKey, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
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
  },
): Promise<{ id: bigint; key: string; secret: string }> {
  if (input.permissions.length === 0) {
    throw new LedgerError("INVALID_PARAM_VALUE", "an API key needs at least one permission");
  }
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
  const found = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.key, key), isNull(apiKeys.revokedAt)));
  const row = found[0];
  return row ? { ...row, secret: openSecret(row.secretSealed, serverKey) } : undefined;
}

export async function revokeApiKey(db: Database, userId: bigint, key: string): Promise<boolean> {
  const revoked = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.key, key), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return revoked.length > 0;
}
