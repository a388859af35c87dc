// The Kafka broker restarts in the middle of a run: placement goes on (it only needs
// PostgreSQL), the outbox backlog grows while the broker is away and drains once it is back,
// and nothing is lost or doubled. This restarts the stack's own broker, so it needs the stack's
// Kafka (not one named by KAFKA_BROKERS).
import { isLedgerError } from "@spotx/db";
import { ourPid, stopProcess } from "@spotx/stack/process";
import { up } from "@spotx/stack/stack";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drained, expectExactlyOnce } from "./drain";
import { type Exchange, startExchange, waitFor } from "./exchange";

let exchange: Exchange;
beforeAll(async () => {
  exchange = await startExchange();
});
afterAll(async () => {
  // Whatever happened, leave the broker running for the suites after this one.
  await up(() => undefined);
  await exchange?.stop();
});

async function unsent(): Promise<bigint> {
  const found = await exchange.db.execute<{ n: bigint }>(
    sql`SELECT count(*)::int8 AS n FROM outbox WHERE sent_at IS NULL`,
  );
  return found.rows[0]?.n ?? 0n;
}

describe("a broker restart in the middle of a run", () => {
  it("loses nothing: the outbox backlog drains once the broker is back", {
    timeout: 240_000,
  }, async () => {
    const kafkaPid = ourPid("kafka");
    if (kafkaPid === undefined) {
      throw new Error(
        "this test restarts the stack's Kafka broker; run it with the stack's own Kafka",
      );
    }
    const { trading, db } = exchange;
    const worker = exchange.startWorker();
    const users = [await exchange.createUser(), await exchange.createUser()];
    for (const user of users) {
      await exchange.fund(user, "USDT", 1_000_000_000_000n);
      await exchange.fund(user, "BTC", 10_000_000_000n);
    }
    await worker.port();

    let placed = 0;
    const place = async (i: number) => {
      const user = users[i % 2] ?? 0n;
      try {
        await trading.placeOrder(user, {
          market: "BTC_USDT",
          side: i % 2 === 0 ? "buy" : "sell",
          type: "limit",
          amount: "0.001",
          price: String(30_000 + ((i * 7) % 21) - 10),
        });
        placed += 1;
      } catch (error) {
        if (!isLedgerError(error)) throw error;
      }
    };
    const burst = async (from: number, to: number) => {
      const inFlight = new Set<Promise<void>>();
      for (let i = from; i < to; i++) {
        const p = place(i).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 32) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    };

    await burst(0, 1_000);
    await stopProcess(kafkaPid, "SIGKILL", 5_000);
    // Orders are still taken while the broker is down; they wait in the outbox.
    await burst(1_000, 2_000);
    expect(await unsent()).toBeGreaterThan(0n);

    await up(() => undefined);
    await burst(2_000, 3_000);
    expect(placed).toBe(3_000);
    await waitFor(async () => (await unsent()) === 0n, {
      what: "the outbox backlog to drain after the restart",
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    await drained(db, await worker.port(), ["BTC_USDT"], 120_000);
    await expectExactlyOnce(db);
  });
});
