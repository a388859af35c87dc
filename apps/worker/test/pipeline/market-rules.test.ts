// A rules change on a live book (docs/decisions/006): a `rules` command through the outbox
// reaches the market's engine in order; the resting order off the new tick is cancelled
// (finish_as market_rules, its hold back), the other keeps resting, and settlement writes the
// new rules to the row. Then the determinism case: with every snapshot of the market gone, a new
// worker replays the orders topic from its start — from the LISTING rules, not the row's — and
// its book is the live one (the kept order still trades).
import { rulesCommand } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { balance, type Exchange, orderRow, startExchange, waitFor } from "./exchange";

let exchange: Exchange;
beforeAll(async () => {
  exchange = await startExchange();
});
afterAll(async () => {
  await exchange?.stop();
});

describe("a rules change on a live book", () => {
  it("cancels the misfit, keeps the rest, writes the row, and replays from the listing rules", {
    timeout: 180_000,
  }, async () => {
    const { trading, db, names } = exchange;
    const first = exchange.startWorker({ env: { ENGINE_SNAPSHOT_EVERY: "1000000" } });
    await first.port();
    const buyer = await exchange.createUser();
    const seller = await exchange.createUser();
    await exchange.fund(buyer, "USDT", 1_000_000_000n); // 1,000 USDT
    await exchange.fund(seller, "BTC", 100_000_000n); // 1 BTC
    const bid = (price: string) =>
      trading.placeOrder(buyer, {
        market: "BTC_USDT",
        side: "buy",
        type: "limit",
        amount: "0.001",
        price,
      });
    const offTick = await bid("29000.03");
    const onTick = await bid("29000.05");
    for (const placed of [offTick, onTick]) {
      await waitFor(async () => (await orderRow(db, placed.order.id))?.status === "open", {
        what: "the resting bids",
        timeoutMs: 30_000,
      });
    }

    // What admin.markets.changeRules queues: tick 0.05 (5 units), lot 0.001 (10 units).
    await db.execute(sql`
      INSERT INTO outbox (topic, key, payload)
      VALUES (${names.kafka.orders.topic}, 'BTC_USDT', ${JSON.stringify(
        rulesCommand(
          "BTC_USDT",
          {
            priceStepTicks: 5n,
            amountStepLots: 10n,
            minBaseLots: 10n,
            minQuoteAmount: 5_000_000n,
            priceBandBps: 1_000,
            makerFeePpm: 1_000,
            takerFeePpm: 2_000,
          },
          Date.now(),
        ),
      )}::jsonb)`);
    const cancelled = await waitFor(
      async () => {
        const row = await orderRow(db, offTick.order.id);
        return row?.status === "cancelled" ? row : null;
      },
      { what: "the off-tick bid to be cancelled", timeoutMs: 30_000 },
    );
    expect(cancelled).toMatchObject({ finish_as: "market_rules", hold_remaining: 0n });
    expect(await orderRow(db, onTick.order.id)).toMatchObject({ status: "open" });
    // 29.00005 USDT still held by the kept bid; the cancelled one's 29.00003 came back.
    expect(await balance(db, buyer, "USDT")).toEqual({
      available: 1_000_000_000n - 29_000_050n,
      locked: 29_000_050n,
    });
    const market = await db.execute<{ price_step_ticks: string; listed_rules: unknown }>(
      sql`SELECT price_step_ticks::text, listed_rules FROM markets WHERE symbol = 'BTC_USDT'`,
    );
    expect(market.rows[0]).toMatchObject({ price_step_ticks: "5" });
    expect(market.rows[0]?.listed_rules).not.toBeNull();

    // No snapshot left: the next owner replays the whole log, starting from the listing rules.
    first.child.kill("SIGKILL");
    await first.exited;
    await db.execute(sql`DELETE FROM engine_snapshots WHERE market = 'BTC_USDT'`);
    const second = exchange.startWorker();
    await second.port();
    // Replayed under the row's rules (tick 0.05) the off-tick bid would have been refused at its
    // place and the replay would diverge; from the listing rules it is the live book again.
    const sell = await trading.placeOrder(seller, {
      market: "BTC_USDT",
      side: "sell",
      type: "limit",
      amount: "0.001",
      price: "29000.05",
      timeInForce: "ioc",
    });
    await waitFor(async () => (await orderRow(db, sell.order.id))?.status === "closed", {
      what: "the sell to trade with the kept bid after the replay",
      timeoutMs: 60_000,
    });
    expect(await orderRow(db, onTick.order.id)).toMatchObject({
      status: "closed",
      finish_as: "filled",
    });
    second.child.kill("SIGTERM");
    await second.exited;
  });
});
