// The benchmark's traders in the database: users funded far beyond what a run can spend, and,
// for the phases through the front door, one gate.io API key each (permission `trade`, replay
// "gate" — the default a trading program gets), created as the account page creates them.
import { createApiKey, type Database, deposit } from "@spotx/db";
import { apiKeySealingKey } from "@spotx/platform/secrets";
import { sql } from "drizzle-orm";

/** A trader's key: KEY and the secret it signs with (held only by the bench and its generators). */
export type TraderKey = { userId: bigint; key: string; secret: string };

/** Creates `count` users and funds each far beyond what the run can spend; their ids. */
export async function createTraders(db: Database, count: number): Promise<bigint[]> {
  const inserted = await db.execute<{ id: bigint }>(sql`
    INSERT INTO users (email, password_hash)
    SELECT 'bench' || n || '@bench.spotx.dev', 'x' FROM generate_series(1, ${count}) AS n
    RETURNING id`);
  const ids = inserted.rows.map((r) => r.id);
  const funding: Array<{ userId: bigint; asset: string; amount: bigint }> = [];
  for (const userId of ids) {
    funding.push({ userId, asset: "BTC", amount: 1_000n * 10n ** 8n });
    funding.push({ userId, asset: "ETH", amount: 10_000n * 10n ** 8n });
    funding.push({ userId, asset: "USDT", amount: 100_000_000n * 10n ** 6n });
  }
  await inParallel(funding, 8, (f) =>
    deposit(db, { ...f, ref: `bench:${f.userId}:${f.asset}` }).then(() => undefined),
  );
  return ids;
}

/** One API key per trader, sealed with the key the web server derives from `serverKey`. */
export async function createTraderKeys(
  db: Database,
  serverKey: Buffer,
  userIds: readonly bigint[],
): Promise<TraderKey[]> {
  const sealing = apiKeySealingKey(serverKey);
  const keys: TraderKey[] = [];
  await inParallel(userIds, 8, async (userId) => {
    const created = await createApiKey(db, sealing, {
      userId,
      permissions: ["read", "trade"],
      label: "bench",
      replayMode: "gate",
    });
    keys.push({ userId, key: created.key, secret: created.secret });
  });
  return keys;
}

async function inParallel<T>(items: readonly T[], lanes: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let i = next++; i < items.length; i = next++) {
        const item = items[i];
        if (item !== undefined) await work(item);
      }
    }),
  );
}
