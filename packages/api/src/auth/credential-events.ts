// A change that withdraws someone's credentials — an API key revoked, a user frozen, a password
// changed — is announced on Redis pub/sub (`names.redis.credentialsChannel`), so every web
// instance can end the WebSocket subscriptions that were admitted under those credentials.
// The announcement is a hint for promptness, not the guard: the database row is the truth, and
// listeners also re-check what they hold on a timer in case a message was lost.
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { z } from "zod";

export const CREDENTIAL_CHANGE_REASONS = [
  "key_revoked",
  "user_frozen",
  "password_changed",
] as const;
export type CredentialChangeReason = (typeof CREDENTIAL_CHANGE_REASONS)[number];

export type CredentialChange = {
  userId: bigint;
  /** The key revoked (`key_revoked`); absent: every credential of the user is affected. */
  keyId?: bigint;
  reason: CredentialChangeReason;
};

const wire = z.strictObject({
  userId: z.string().regex(/^\d{1,19}$/),
  keyId: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
  reason: z.enum(CREDENTIAL_CHANGE_REASONS),
});

/** The message as published (bigints as decimal strings). */
export function encodeCredentialChange(change: CredentialChange): string {
  return JSON.stringify({
    userId: String(change.userId),
    ...(change.keyId === undefined ? {} : { keyId: String(change.keyId) }),
    reason: change.reason,
  });
}

/** A published message, or null when it is not one (ignored by listeners). */
export function decodeCredentialChange(text: string): CredentialChange | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = wire.safeParse(raw);
  if (!parsed.success) return null;
  const { userId, keyId, reason } = parsed.data;
  return {
    userId: BigInt(userId),
    ...(keyId === undefined ? {} : { keyId: BigInt(keyId) }),
    reason,
  };
}

/** Announces a change after it was committed to the database. */
export async function announceCredentialChange(
  redis: Redis,
  names: Topology,
  change: CredentialChange,
): Promise<void> {
  await redis.publish(names.redis.credentialsChannel, encodeCredentialChange(change));
}
