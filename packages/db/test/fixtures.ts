// Shared setup for the ledger's integration tests: a fresh database with the demo assets and
// markets, users made without password hashing, and short ways to read balances.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Database } from "../src/client";
import { deposit } from "../src/ledger";
import { loadMarket, type MarketSpec } from "../src/markets";
import { assets, markets, users } from "../src/schema";
import { DEMO_ASSETS, DEMO_MARKETS } from "../src/seed";
import { createTestDatabase, type TestDatabase } from "../src/testing";

export type Fixture = {
  test: TestDatabase;
  db: Database;
  btcUsdt: MarketSpec;
  ethUsdt: MarketSpec;
  operatorId: bigint;
};

export async function createFixture(
  options: { poolSize?: number; connectTimeoutMs?: number } = {},
): Promise<Fixture> {
  const test = await createTestDatabase(undefined, options);
  const db = test.db;
  await db.insert(assets).values([...DEMO_ASSETS]);
  await db.insert(markets).values([...DEMO_MARKETS]);
  const operatorId = await createUser(db, "operator");
  return {
    test,
    db,
    btcUsdt: await loadMarket(db, "BTC_USDT"),
    ethUsdt: await loadMarket(db, "ETH_USDT"),
    operatorId,
  };
}

export async function createUser(
  db: Database,
  role: "trader" | "operator" = "trader",
): Promise<bigint> {
  const inserted = await db
    .insert(users)
    .values({ email: `${randomUUID()}@test.spotx.dev`, passwordHash: "x", role })
    .returning({ id: users.id });
  const id = inserted[0]?.id;
  if (id === undefined) throw new Error("user not created");
  return id;
}

export async function fund(db: Database, userId: bigint, asset: string, amount: bigint) {
  return deposit(db, { userId, asset, amount, ref: `test:${randomUUID()}` });
}

export async function balanceOf(db: Database, userId: bigint, asset: string) {
  const found = await db.execute<{ available: bigint; locked: bigint }>(
    sql`SELECT available, locked FROM balances WHERE user_id = ${userId} AND asset = ${asset}`,
  );
  return found.rows[0] ?? { available: 0n, locked: 0n };
}

/** The balance of a system account: the sum of its entries (system accounts keep no row). */
export async function systemBalance(db: Database, kind: string, asset: string): Promise<bigint> {
  const found = await db.execute<{ total: bigint }>(sql`
    SELECT coalesce(sum(e.amount), 0)::int8 AS total
      FROM ledger_entries e JOIN accounts a ON a.id = e.account_id
     WHERE a.kind = ${kind} AND a.user_id IS NULL AND a.asset = ${asset}`);
  return found.rows[0]?.total ?? 0n;
}

/** Whole units to minor units: units(1.5, 8) → 150000000n (test readability only). */
export function units(value: string, decimals: number): bigint {
  const [whole = "0", fraction = ""] = value.split(".");
  return BigInt(whole + fraction.padEnd(decimals, "0"));
}

export const BTC = (value: string) => units(value, 8);
export const ETH = (value: string) => units(value, 8);
export const USDT = (value: string) => units(value, 6);
