// Placing orders: one transaction holds the funds, inserts the order and its outbox row; 200
// concurrent placements from separate connections never spend a balance twice.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLedgerError } from "../src/errors";
import { ordersByText } from "../src/orders";
import { placeOrderHold } from "../src/placement";
import { BTC, balanceOf, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";

let f: Fixture;
beforeAll(async () => {
  // One connection per concurrent placement.
  // 200 connections opened at once take seconds here (each a SCRAM exchange and a backend):
  // the concurrency test needs every one of them, not a connect timeout.
  f = await createFixture({ poolSize: 200, connectTimeoutMs: 60_000 });
});
afterAll(async () => {
  await f?.test.drop();
});

describe("placeOrderHold", () => {
  it("holds price × amount for a limit buy and writes the order and its outbox row together", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("1000"));
    const placed = await placeOrderHold(f.db, {
      userId: user,
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      priceTicks: 3_000_000n, // 30,000.00
      amount: 150n, // 0.0150 BTC
      text: "t-first",
      stpAct: "cn",
      outbox: {
        topic: "spotx.orders",
        headers: { "x-request-id": "req-1" },
        payload: (order) => ({ type: "place", orderId: order.id, amount: order.amount }),
      },
    });
    expect(placed.order).toMatchObject({
      status: "pending",
      finishAs: "open",
      timeInForce: "gtc",
      holdAsset: "USDT",
      holdAmount: USDT("450"),
      holdRemaining: USDT("450"),
      feeAsset: "BTC",
      text: "t-first",
    });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({
      available: USDT("550"),
      locked: USDT("450"),
    });
    const outbox = await f.db.execute(
      sql`SELECT topic, key, payload, headers, sent_at FROM outbox WHERE id = ${placed.outboxId}`,
    );
    expect(outbox.rows).toEqual([
      {
        topic: "spotx.orders",
        key: "BTC_USDT",
        payload: { type: "place", orderId: placed.order.id.toString(), amount: "150" },
        headers: { "x-request-id": "req-1" },
        sent_at: null,
      },
    ]);
  });

  it("holds the base amount for a sell and the quote amount for a market buy, never a fee", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "BTC", BTC("1"));
    await fund(f.db, user, "USDT", USDT("100"));
    const sell = await placeOrderHold(f.db, {
      userId: user,
      market: "BTC_USDT",
      side: "sell",
      type: "limit",
      priceTicks: 3_000_000n,
      amount: 2_500n,
    });
    const marketBuy = await placeOrderHold(f.db, {
      userId: user,
      market: "BTC_USDT",
      side: "buy",
      type: "market",
      amount: USDT("100"),
    });
    expect(sell.order).toMatchObject({ holdAsset: "BTC", holdAmount: BTC("0.25") });
    expect(marketBuy.order).toMatchObject({
      holdAsset: "USDT",
      holdAmount: USDT("100"),
      timeInForce: "ioc",
    });
    expect(await balanceOf(f.db, user, "BTC")).toEqual({
      available: BTC("0.75"),
      locked: BTC("0.25"),
    });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: 0n, locked: USDT("100") });
  });

  it("refuses bad orders with gate.io labels and leaves no trace", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("10"));
    const base = { userId: user, market: "BTC_USDT", side: "buy" as const, type: "limit" as const };
    const cases = [
      [{ ...base, priceTicks: 3_000_000n, amount: 100n }, "BALANCE_NOT_ENOUGH"], // 300 USDT > 10
      [{ ...base, priceTicks: 3_000_000n, amount: 0n }, "INVALID_PARAM_VALUE"],
      [{ ...base, amount: 1n }, "INVALID_PARAM_VALUE"], // no price
      [{ ...base, priceTicks: 100n, amount: 1n }, "AMOUNT_TOO_LITTLE"], // 0.0001 × 1.00 < 1 USDT
      [{ ...base, market: "DOGE_USDT", priceTicks: 1n, amount: 1n }, "INVALID_CURRENCY_PAIR"],
      [
        { ...base, type: "market" as const, amount: USDT("5"), timeInForce: "gtc" as const },
        "INVALID_PARAM_VALUE",
      ],
    ] as const;
    for (const [input, label] of cases) {
      const error = await placeOrderHold(f.db, input).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isLedgerError(error, label), `${JSON.stringify(input, String)} → ${label}`).toBe(true);
    }
    await f.db.execute(sql`UPDATE markets SET status = 'halted' WHERE symbol = 'ETH_USDT'`);
    const halted = await placeOrderHold(f.db, {
      ...base,
      market: "ETH_USDT",
      priceTicks: 100_000n,
      amount: 10n,
    }).catch((e: unknown) => e);
    expect(isLedgerError(halted, "INVALID_CURRENCY_PAIR")).toBe(true);
    await f.db.execute(sql`UPDATE markets SET status = 'trading' WHERE symbol = 'ETH_USDT'`);
    const orders = await f.db.execute(
      sql`SELECT count(*)::int AS n FROM orders WHERE user_id = ${user}`,
    );
    expect(orders.rows[0]).toEqual({ n: 0 });
    expect(await balanceOf(f.db, user, "USDT")).toEqual({ available: USDT("10"), locked: 0n });
  });

  it("places a second order for a client order id the user already used: a text is a label", async () => {
    const user = await createUser(f.db);
    await fund(f.db, user, "USDT", USDT("100"));
    const order = {
      userId: user,
      market: "BTC_USDT",
      side: "buy" as const,
      type: "limit" as const,
      priceTicks: 3_000_000n,
      amount: 1n,
      text: "t-dup",
      outbox: { topic: "spotx.orders", payload: (o: { id: bigint }) => ({ id: o.id }) },
    };
    const first = await placeOrderHold(f.db, order);
    const again = await placeOrderHold(f.db, order);
    expect(again.order.id).not.toBe(first.order.id);
    expect(again.order.text).toBe("t-dup");
    expect(again.hold.transferId).not.toBe(first.hold.transferId);
    expect(again.outboxId).not.toBeNull();
    expect(await balanceOf(f.db, user, "USDT")).toEqual({
      available: USDT("94"),
      locked: USDT("6"),
    });
    const counts = await f.db.execute(sql`
      SELECT (SELECT count(*)::int FROM orders WHERE user_id = ${user}) AS orders,
             (SELECT count(*)::int FROM outbox
               WHERE payload->>'id' IN (${first.order.id.toString()}, ${again.order.id.toString()})) AS outbox`);
    expect(counts.rows[0]).toEqual({ orders: 2, outbox: 2 });

    // A lookup by the text finds the newer; another pair's or another user's text is not it.
    const now = new Date();
    const [newest, otherPair, nobody] = await ordersByText(
      f.db,
      [
        { userId: user, market: "BTC_USDT", text: "t-dup" },
        { userId: user, market: "ETH_USDT", text: "t-dup" },
        { userId: user + 1_000_000n, market: "BTC_USDT", text: "t-dup" },
      ],
      now,
    );
    expect(newest?.id).toBe(again.order.id);
    expect([otherPair, nobody]).toEqual([undefined, undefined]);
  });

  it("200 concurrent holds from separate connections against a balance covering 50: exactly 50 succeed", async () => {
    const seller = await createUser(f.db);
    await fund(f.db, seller, "BTC", BTC("5")); // 50 × 0.1 BTC
    const attempts = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        placeOrderHold(f.db, {
          userId: seller,
          market: "BTC_USDT",
          side: "sell",
          type: "limit",
          priceTicks: 3_000_000n,
          amount: 1_000n, // 0.1 BTC
        }),
      ),
    );
    expect(f.test.pool.totalCount).toBe(200);
    const succeeded = attempts.filter((a) => a.status === "fulfilled");
    const refused = attempts.filter(
      (a) => a.status === "rejected" && isLedgerError(a.reason, "BALANCE_NOT_ENOUGH"),
    );
    expect(succeeded).toHaveLength(50);
    expect(refused).toHaveLength(150);
    expect(await balanceOf(f.db, seller, "BTC")).toEqual({ available: 0n, locked: BTC("5") });
    const orders = await f.db.execute(
      sql`SELECT count(*)::int AS n, sum(hold_remaining)::int8 AS held FROM orders WHERE user_id = ${seller}`,
    );
    expect(orders.rows[0]).toEqual({ n: 50, held: BTC("5") });
  });
});
