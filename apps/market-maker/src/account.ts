// The market maker's account on the exchange, made idempotently at every start: the user
// marketmaker@spotx.dev (no password anyone knows: it never signs in to the pages), funded with
// demo balances by ledger deposits (topped up when a balance runs below half its target), and
// one API key with read and trade permissions, stored sealed like any key. The key's secret is
// opened with the server key; a key sealed under another server key (after a reset of the
// secret) is revoked and replaced.
import { randomBytes } from "node:crypto";
import {
  createApiKey,
  type Database,
  deposit,
  hashPassword,
  isLedgerError,
  openSecret,
  revokeApiKey,
  schema,
} from "@spotx/db";
import { and, eq, isNull } from "drizzle-orm";
import type { GateCredentials } from "./gate-client";

export const MARKET_MAKER_EMAIL = "marketmaker@spotx.dev";
export const MARKET_MAKER_KEY_LABEL = "demo market maker";

/** What the market maker keeps of each asset, in whole units (it is topped up to this). */
export const MARKET_MAKER_FUNDS: Record<string, bigint> = {
  BTC: 200n,
  ETH: 3_000n,
  USDT: 10_000_000n,
};

export async function provisionMarketMaker(
  db: Database,
  sealingKey: Buffer,
): Promise<{ userId: bigint; credentials: GateCredentials }> {
  const userId = await marketMakerUser(db);
  await topUp(db, userId);
  return { userId, credentials: await marketMakerKey(db, sealingKey, userId) };
}

async function marketMakerUser(db: Database): Promise<bigint> {
  const { users } = schema;
  const passwordHash = await hashPassword(randomBytes(24).toString("base64url"));
  await db
    .insert(users)
    .values({ email: MARKET_MAKER_EMAIL, passwordHash, role: "trader", status: "active" })
    .onConflictDoNothing({ target: users.email });
  const [found] = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.email, MARKET_MAKER_EMAIL));
  if (!found) throw new Error(`${MARKET_MAKER_EMAIL} missing after creating it`);
  return found.id;
}

async function topUp(db: Database, userId: bigint) {
  const assets = await db.select().from(schema.assets);
  for (const asset of assets) {
    const target = (MARKET_MAKER_FUNDS[asset.symbol] ?? 1_000n) * 10n ** BigInt(asset.decimals);
    const [held] = await db
      .select({ available: schema.balances.available, locked: schema.balances.locked })
      .from(schema.balances)
      .where(and(eq(schema.balances.userId, userId), eq(schema.balances.asset, asset.symbol)));
    const total = (held?.available ?? 0n) + (held?.locked ?? 0n);
    if (total * 2n >= target) continue;
    await deposit(db, {
      userId,
      asset: asset.symbol,
      amount: target - total,
      ref: `market-maker:${asset.symbol}:${Date.now()}:${randomBytes(4).toString("hex")}`,
    });
  }
}

async function marketMakerKey(
  db: Database,
  sealingKey: Buffer,
  userId: bigint,
): Promise<GateCredentials> {
  const k = schema.apiKeys;
  const live = await db
    .select({ key: k.key, sealed: k.secretSealed })
    .from(k)
    .where(and(eq(k.userId, userId), eq(k.label, MARKET_MAKER_KEY_LABEL), isNull(k.revokedAt)));
  for (const row of live) {
    try {
      return { key: row.key, secret: openSecret(row.sealed, sealingKey) };
    } catch (error) {
      if (!isLedgerError(error)) throw error;
      // Sealed under another server key: useless now, so it goes.
      await revokeApiKey(db, userId, row.key);
    }
  }
  const created = await createApiKey(db, sealingKey, {
    userId,
    permissions: ["read", "trade"],
    label: MARKET_MAKER_KEY_LABEL,
  });
  return { key: created.key, secret: created.secret };
}
