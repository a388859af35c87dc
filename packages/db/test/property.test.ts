// Property: any sequence of deposits, holds (orders), releases (cancels), settlements and
// withdrawals keeps the ledger equal to a simple reference model after every step, keeps every
// balance non-negative, and leaves reconciliation with nothing to report.
import { randomUUID } from "node:crypto";
import { platformEnv } from "@spotx/platform";
import { LockService } from "@spotx/platform/locks";
import { createRedis } from "@spotx/platform/redis";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReconciliation } from "../src/reconciliation";
import { createFixture, createUser, type Fixture } from "./fixtures";
import { LedgerSimulation, type Op } from "./simulation";

let f: Fixture;
const redis = createRedis(platformEnv().REDIS_URL);
const locks = new LockService(redis, { prefix: `test:property:${randomUUID()}:` });
beforeAll(async () => {
  f = await createFixture();
});
afterAll(async () => {
  await f?.test.drop();
  redis.disconnect();
});

const USERS = 3;
const user = fc.nat({ max: USERS - 1 });
const asset = fc.constantFrom("base" as const, "quote" as const);
// BTC_USDT: prices 29,990.00–30,010.00 so that bids and asks often cross; 1–500 lots of 0.0001 BTC.
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("deposit" as const),
    user,
    asset,
    amount: fc.bigInt({ min: 1n, max: 2_000_000_000n }),
  }),
  fc.record({
    kind: fc.constant("limit" as const),
    user,
    side: fc.constantFrom("buy" as const, "sell" as const),
    priceTicks: fc.bigInt({ min: 2_999_000n, max: 3_001_000n }),
    lots: fc.bigInt({ min: 1n, max: 500n }),
  }),
  fc.record({
    kind: fc.constant("marketBuy" as const),
    user,
    spend: fc.bigInt({ min: 1_000_000n, max: 2_000_000_000n }),
  }),
  fc.record({
    kind: fc.constant("match" as const),
    pick: fc.nat(),
    share: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({ kind: fc.constant("match" as const), pick: fc.nat(), share: fc.constant(1) }),
  fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant("withdraw" as const),
    user,
    asset,
    amount: fc.bigInt({ min: 1n, max: 1_000_000_000n }),
  }),
  fc.record({ kind: fc.constant("decide" as const), pick: fc.nat(), approve: fc.boolean() }),
);

describe("ledger property", () => {
  it("matches the reference model after every operation of random sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const users = await Promise.all(Array.from({ length: USERS }, () => createUser(f.db)));
        const sim = new LedgerSimulation(
          f.db,
          locks,
          f.btcUsdt,
          users,
          f.operatorId,
          `prop:${randomUUID()}`,
        );
        await sim.start();
        for (let i = 0; i < USERS; i++) {
          await sim.apply({ kind: "deposit", user: i, asset: "base", amount: 100_000_000n }); // 1 BTC
          await sim.apply({ kind: "deposit", user: i, asset: "quote", amount: 50_000_000_000n }); // 50,000 USDT
        }
        for (const next of ops) {
          await sim.apply(next);
          const differences = await sim.differences();
          if (differences.length > 0) {
            throw new Error(`after ${JSON.stringify(next, String)}: ${differences.join("; ")}`);
          }
        }
        const run = await runReconciliation(f.db);
        expect(run.findings).toEqual([]);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
