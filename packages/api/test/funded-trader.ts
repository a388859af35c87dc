// A user straight in the database with 1,000,000 USDT, for tests that drive TradingService
// without the whole API fixture.
import { randomUUID } from "node:crypto";
import { type Database, deposit, schema } from "@spotx/db";

export async function fundedTrader(db: Database): Promise<bigint> {
  const [row] = await db
    .insert(schema.users)
    .values({ email: `${randomUUID()}@test.spotx.dev`, passwordHash: "x" })
    .returning({ id: schema.users.id });
  if (!row) throw new Error("user not created");
  await deposit(db, { userId: row.id, asset: "USDT", amount: 10n ** 12n, ref: `f:${row.id}` });
  return row.id;
}
