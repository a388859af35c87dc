// gate.io's countdown cancel-all timers live in Redis, not in the web instance that armed them: a
// second instance (or the same one restarted) fires a timer another armed; of two instances
// polling, exactly one fires it; a re-arm before the deadline pushes it back; a disarm removes it.
// Clocks are injected; the cancel-all is the trading service's, really queued for the engine.
import { logger } from "@spotx/platform/logger";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CountdownCancels } from "../../src/gate/countdown";
import { type ApiFixture, startApiFixture } from "../api-fixture";
import { fundedTrader } from "../funded-trader";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApiFixture();
});
afterAll(async () => {
  await f?.stop();
});

function instance(clock: { now: number }) {
  return new CountdownCancels({
    redis: f.redis,
    names: f.names,
    db: f.db,
    trading: f.trading,
    log: logger("countdown-test"),
    now: () => clock.now,
  });
}

/** Cancel-all commands queued for a user (the engine would end the orders). */
async function cancelAlls(userId: bigint) {
  const found = await f.db.execute<{ market: string }>(sql`
    SELECT payload->>'market' AS market FROM outbox
     WHERE payload->'command'->>'type' = 'cancelAll'
       AND payload->'command'->>'userId' = ${String(userId)}
     ORDER BY id`);
  return found.rows.map((r) => r.market);
}

describe("countdown cancel-all timers", () => {
  it("fire once, from whichever instance polls after the deadline, for the pair armed", async () => {
    const user = await fundedTrader(f.db);
    await f.trading.placeOrder(user, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      amount: "0.01",
      price: "20000",
    });
    const clock = { now: 1_000_000 };
    const armedBy = instance(clock);
    const other = instance(clock);
    expect(await armedBy.arm(user, "BTC_USDT", 10)).toBe(1_010_000);
    clock.now = 1_009_999;
    expect(await other.fireDue()).toBe(0);
    // Re-armed in time: pushed back.
    expect(await armedBy.arm(user, "BTC_USDT", 10)).toBe(1_019_999);
    clock.now = 1_015_000;
    expect(await other.fireDue()).toBe(0);
    clock.now = 1_020_000;
    // The instance that armed it is gone; the other fires it, once.
    const fired = await Promise.all([other.fireDue(), instance(clock).fireDue()]);
    expect(fired.sort()).toEqual([0, 1]);
    expect(await cancelAlls(user)).toEqual(["BTC_USDT"]);
    expect(await other.fireDue()).toBe(0);
  });

  it("without a pair, cancels in every market the user has open orders; 0 disarms", async () => {
    const user = await fundedTrader(f.db);
    for (const market of ["BTC_USDT", "ETH_USDT"]) {
      await f.trading.placeOrder(user, {
        market,
        side: "buy",
        type: "limit",
        amount: "0.01",
        price: "1000",
      });
    }
    const clock = { now: 5_000_000 };
    const timers = instance(clock);
    await timers.arm(user, null, 5);
    await timers.arm(user, "BTC_USDT", 5);
    expect(await timers.arm(user, "BTC_USDT", 0)).toBe(0);
    clock.now = 5_005_000;
    expect(await timers.fireDue()).toBe(1);
    expect((await cancelAlls(user)).sort()).toEqual(["BTC_USDT", "ETH_USDT"]);
  });
});
