// orders.amend and the stop-limit procedures (orders.placeStop, orders.stops, orders.cancelStop)
// with real numbers, through the same trading service as the gate.io REST door: an amend locks
// what the amended order could spend beyond its hold at once (or refuses, changing nothing) and
// the engine's answer — applied here through the ledger's applySettlementBatch, as the pipeline's
// settlement does — returns what it no longer needs; a second amend while the first is with the
// engine is refused with TOO_MANY_REQUESTS. A stop holds nothing while it waits, is listed with
// its rule and, once ended, its reason; every create and cancel is announced on Redis.
import { applySettlementBatch, loadMarket, type MarketSpec, schema } from "@spotx/db";
import { decimalToUnits } from "@spotx/engine";
import { decodePriceOrderChanges } from "@spotx/protocol";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, errorOf, startApiFixture, type TestUser } from "./api-fixture";

let f: ApiFixture;
let btc: MarketSpec;
let seq = 0n;

beforeAll(async () => {
  f = await startApiFixture();
  btc = await loadMarket(f.db, "BTC_USDT");
});
afterAll(async () => {
  await f?.stop();
});

const units = (text: string, decimals: number) => {
  const converted = decimalToUnits(text, decimals);
  if (!converted.ok) throw new Error(`${text}: ${converted.error}`);
  return converted.value;
};
const ticks = (price: string) => units(price, btc.pricePrecision);
const lots = (amount: string) => units(amount, btc.amountPrecision);

async function balance(user: TestUser, asset: string) {
  const caller = await f.callerAs(user);
  const found = (await caller.account.balances()).find((b) => b.asset === asset);
  return { available: found?.available, locked: found?.locked };
}

async function funded() {
  const user = await f.createUser();
  await f.fund(user.id, "USDT", 1_000_000_000n); // 1,000 USDT
  await f.fund(user.id, "BTC", 10_000_000n); // 0.1 BTC
  return user;
}

/** A resting limit order of `user`'s, accepted by the engine (settled `open`). */
async function resting(user: TestUser, side: "buy" | "sell", amount: string, price: string) {
  const caller = await f.callerAs(user);
  const { order } = await caller.orders.place({ market: "BTC_USDT", side, amount, price });
  const applied = await applySettlementBatch(f.db, "BTC_USDT", [
    { kind: "order_accepted", seq: ++seq, orderId: BigInt(order.id) },
  ]);
  expect(applied.ok).toBe(true);
  return order;
}

/** Settles the engine's answer to an amend: the order rests at `price` with `left` lots left. */
async function settleAmend(orderId: string, price: string, left: string) {
  const applied = await applySettlementBatch(f.db, "BTC_USDT", [
    {
      kind: "order_amended",
      seq: ++seq,
      orderId: BigInt(orderId),
      priceTicks: ticks(price),
      leftLots: lots(left),
    },
  ]);
  expect(applied.ok).toBe(true);
}

async function lastCommand() {
  const last = await f.db.execute<{ payload: { command: Record<string, unknown> } }>(
    sql`SELECT payload FROM outbox ORDER BY id DESC LIMIT 1`,
  );
  return last.rows[0]?.payload.command;
}

async function outboxCount() {
  const rows = await f.db.execute<{ n: string }>(sql`SELECT count(*)::text AS n FROM outbox`);
  return rows.rows[0]?.n;
}

describe("orders.amend", () => {
  it("a higher price locks the difference at once; the settled amend reprices the order", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const order = await resting(user, "buy", "0.01", "20000");
    expect(await balance(user, "USDT")).toEqual({ available: "800", locked: "200" });

    const answer = await caller.orders.amend({
      market: "BTC_USDT",
      orderId: order.id,
      price: "21000",
      amendText: "web-amend",
    });
    // Answered at once: the amend is with the engine, the order still at its old price.
    expect(answer).toMatchObject({
      amendPending: true,
      order: { id: order.id, price: "20000", amount: "0.01", status: "open" },
    });
    expect(await balance(user, "USDT")).toEqual({ available: "790", locked: "210" });
    expect(await lastCommand()).toMatchObject({
      type: "amend",
      orderId: Number(order.id),
      price: Number(ticks("21000")),
    });

    await settleAmend(order.id, "21000", "0.01");
    const open = await caller.orders.open({ market: "BTC_USDT" });
    expect(open.items.find((o) => o.id === order.id)).toMatchObject({
      price: "21000",
      amount: "0.01",
      left: "0.01",
    });
    expect(await balance(user, "USDT")).toEqual({ available: "790", locked: "210" });
  });

  it("a smaller amount locks nothing more, and returns the difference once settled", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const order = await resting(user, "buy", "0.02", "20000");
    expect(await balance(user, "USDT")).toEqual({ available: "600", locked: "400" });

    const answer = await caller.orders.amend({
      market: "BTC_USDT",
      orderId: order.id,
      amount: "0.01",
    });
    expect(answer.amendPending).toBe(true);
    expect(await balance(user, "USDT")).toEqual({ available: "600", locked: "400" });
    expect(await lastCommand()).toMatchObject({ type: "amend", amount: Number(lots("0.01")) });

    await settleAmend(order.id, "20000", "0.01");
    expect(await balance(user, "USDT")).toEqual({ available: "800", locked: "200" });
    const open = await caller.orders.open({ market: "BTC_USDT" });
    expect(open.items.find((o) => o.id === order.id)).toMatchObject({ amount: "0.01" });
  });

  it("amends a sell by its client text: a larger amount locks more of the base asset", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const { order } = await caller.orders.place({
      market: "BTC_USDT",
      side: "sell",
      amount: "0.01",
      price: "40000",
      text: "t-amend-me",
    });
    expect(await balance(user, "BTC")).toEqual({ available: "0.09", locked: "0.01" });
    const answer = await caller.orders.amend({
      market: "BTC_USDT",
      orderId: "t-amend-me",
      amount: "0.03",
    });
    expect(answer.order.id).toBe(order.id);
    expect(await balance(user, "BTC")).toEqual({ available: "0.07", locked: "0.03" });
  });

  it("refuses an amend beyond the balance (BALANCE_NOT_ENOUGH) and changes nothing", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const order = await resting(user, "buy", "0.01", "20000");
    const before = await outboxCount();
    await expect(
      caller.orders.amend({ market: "BTC_USDT", orderId: order.id, amount: "1" }),
    ).rejects.toMatchObject({ label: "BALANCE_NOT_ENOUGH", code: "BAD_REQUEST" });
    expect(await balance(user, "USDT")).toEqual({ available: "800", locked: "200" });
    expect(await outboxCount()).toBe(before);
    const [row] = await f.db
      .select()
      .from(schema.orders)
      .where(eq(schema.orders.id, BigInt(order.id)));
    expect(row).toMatchObject({
      amendPending: false,
      amendReserved: 0n,
      holdRemaining: 200_000_000n,
    });
  });

  it("refuses what the market's rules refuse, with their labels", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const order = await resting(user, "buy", "0.01", "20000");
    const cases: Array<[Record<string, string>, string]> = [
      [{ price: "20000.001" }, "INVALID_PRECISION"],
      [{ amount: "0.00001" }, "INVALID_PRECISION"],
      [{ price: "0" }, "INVALID_PARAM_VALUE"],
      [{ amount: "0.0001", price: "1" }, "AMOUNT_TOO_LITTLE"],
      [{}, "INVALID_PARAM_VALUE"],
      [{ price: "21000", market: "DOGE_USDT" }, "INVALID_CURRENCY_PAIR"],
      [{ price: "21000", orderId: "t-never-used" }, "CLIENT_ID_NOT_FOUND"],
    ];
    for (const [change, label] of cases) {
      await expect(
        caller.orders.amend({ market: "BTC_USDT", orderId: order.id, ...change }),
        JSON.stringify(change),
      ).rejects.toMatchObject({ label });
    }
    expect(await balance(user, "USDT")).toEqual({ available: "800", locked: "200" });
  });

  it("refuses a second amend while the first is with the engine (TOO_MANY_REQUESTS, 429), then takes it", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const order = await resting(user, "buy", "0.01", "20000");
    await caller.orders.amend({ market: "BTC_USDT", orderId: order.id, price: "21000" });
    const before = await outboxCount();
    await expect(
      caller.orders.amend({ market: "BTC_USDT", orderId: order.id, price: "22000" }),
    ).rejects.toMatchObject({
      label: "TOO_MANY_REQUESTS",
      code: "TOO_MANY_REQUESTS",
      message: `an earlier amend of order ${order.id} is still with the matching engine; try again shortly`,
    });
    // Over HTTP: 429 with Retry-After, as the browser sees it.
    const jar = await f.signIn(user);
    const refused = await f.http("orders.amend", {
      input: { market: "BTC_USDT", orderId: order.id, price: "22000" },
      jar,
    });
    expect(refused.status).toBe(429);
    expect(errorOf(refused).label).toBe("TOO_MANY_REQUESTS");
    expect(refused.headers.get("retry-after")).toBe("1");
    // Nothing of the refused ones was locked or queued.
    expect(await outboxCount()).toBe(before);
    expect(await balance(user, "USDT")).toEqual({ available: "790", locked: "210" });

    await settleAmend(order.id, "21000", "0.01");
    const again = await caller.orders.amend({
      market: "BTC_USDT",
      orderId: order.id,
      price: "22000",
    });
    expect(again).toMatchObject({ amendPending: true, order: { price: "21000" } });
    expect(await balance(user, "USDT")).toEqual({ available: "780", locked: "220" });
  });

  it("another user's order is not found, and stays as it was", async () => {
    const owner = await funded();
    const other = await funded();
    const order = await resting(owner, "buy", "0.01", "20000");
    const caller = await f.callerAs(other);
    await expect(
      caller.orders.amend({ market: "BTC_USDT", orderId: order.id, price: "21000" }),
    ).rejects.toMatchObject({ label: "ORDER_NOT_FOUND", code: "NOT_FOUND" });
    expect(await balance(owner, "USDT")).toEqual({ available: "800", locked: "200" });
    expect(await balance(other, "USDT")).toEqual({ available: "1000", locked: "0" });
  });

  it("refuses an ended order (ORDER_CLOSED)", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const order = await resting(user, "buy", "0.01", "20000");
    const applied = await applySettlementBatch(f.db, "BTC_USDT", [
      { kind: "order_finished", seq: ++seq, orderId: BigInt(order.id), finishAs: "cancelled" },
    ]);
    expect(applied.ok).toBe(true);
    await expect(
      caller.orders.amend({ market: "BTC_USDT", orderId: order.id, price: "21000" }),
    ).rejects.toMatchObject({ label: "ORDER_CLOSED" });
  });
});

/** Awaits the next announcement on the price-orders channel. */
async function nextAnnouncement() {
  const subscriber = f.redis.duplicate();
  await subscriber.subscribe(f.names.redis.priceOrdersChannel);
  const message = new Promise<string>((resolve) => {
    subscriber.on("message", (_channel: string, text: string) => resolve(text));
  });
  return {
    message: async () => {
      const text = await message;
      subscriber.disconnect();
      return decodePriceOrderChanges(text);
    },
  };
}

describe("stop-limit orders", () => {
  it("places a stop holding nothing, lists it waiting, cancels it, lists it finished", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const created = await nextAnnouncement();
    const stop = await caller.orders.placeStop({
      market: "BTC_USDT",
      side: "buy",
      triggerPrice: "31000",
      price: "31100",
      amount: "0.01",
    });
    expect(stop).toMatchObject({
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      triggerPrice: "31000",
      // No rule given: a buy stop fires when the price rises to the trigger.
      rule: ">=",
      price: "31100",
      amount: "0.01",
      amountAsset: "BTC",
      timeInForce: "gtc",
      status: "open",
      reason: null,
      firedOrderId: null,
      finishTime: null,
      expireTime: null,
    });
    expect(await created.message()).toEqual({ changed: [[String(user.id), stop.id]] });
    // Nothing is held while it waits; the engine is asked to arm its trigger.
    expect(await balance(user, "USDT")).toEqual({ available: "1000", locked: "0" });
    expect(await lastCommand()).toMatchObject({
      type: "arm",
      triggerId: Number(stop.id),
      price: Number(ticks("31000")),
      trigger: "gte",
    });
    expect(await caller.orders.stops({ market: "BTC_USDT" })).toEqual({
      waiting: [stop],
      finished: [],
    });

    const cancelledAnnouncement = await nextAnnouncement();
    const cancelled = await caller.orders.cancelStop({ id: stop.id });
    expect(cancelled).toMatchObject({
      id: stop.id,
      status: "cancelled",
      reason: "cancelled by the user",
    });
    expect(cancelled.finishTime).toEqual(expect.any(Number));
    expect(await cancelledAnnouncement.message()).toEqual({
      changed: [[String(user.id), stop.id]],
    });
    expect(await lastCommand()).toMatchObject({ type: "disarm", triggerId: Number(stop.id) });
    expect(await caller.orders.stops({ market: "BTC_USDT" })).toEqual({
      waiting: [],
      finished: [cancelled],
    });
    // Cancelled already: ORDER_CLOSED, saying so.
    await expect(caller.orders.cancelStop({ id: stop.id })).rejects.toMatchObject({
      label: "ORDER_CLOSED",
      message: `stop order ${stop.id} is cancelled`,
    });
  });

  it("takes the rule, expiry and time in force given; a sell stop defaults to <=", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const sell = await caller.orders.placeStop({
      market: "BTC_USDT",
      side: "sell",
      triggerPrice: "25000",
      price: "24900",
      amount: "0.01",
    });
    expect(sell.rule).toBe("<=");
    const dip = await caller.orders.placeStop({
      market: "BTC_USDT",
      side: "buy",
      triggerPrice: "25000",
      rule: "<=",
      price: "25000",
      amount: "0.01",
      timeInForce: "ioc",
      expiration: 3600,
    });
    expect(dip).toMatchObject({ rule: "<=", timeInForce: "ioc" });
    expect(dip.expireTime).toBe(dip.createTime + 3_600_000);
    const listed = await caller.orders.stops({ market: "BTC_USDT" });
    expect(listed.waiting.map((s) => s.id)).toEqual([dip.id, sell.id]);
    // Another market's list does not show them.
    expect(await caller.orders.stops({ market: "ETH_USDT" })).toEqual({
      waiting: [],
      finished: [],
    });
  });

  it("shows a fired stop as open, and a finished or failed one with its reason", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const place = () =>
      caller.orders.placeStop({
        market: "BTC_USDT",
        side: "buy",
        triggerPrice: "31000",
        price: "31100",
        amount: "0.01",
      });
    const fired = await place();
    const failed = await place();
    const p = schema.priceOrders;
    await f.db
      .update(p)
      .set({ status: "triggered" })
      .where(eq(p.id, BigInt(fired.id)));
    await f.db
      .update(p)
      .set({
        status: "failed",
        reason: "BALANCE_NOT_ENOUGH: not enough USDT",
        finishedAt: new Date(),
      })
      .where(eq(p.id, BigInt(failed.id)));
    const listed = await caller.orders.stops({ market: "BTC_USDT", limit: 5 });
    expect(listed.waiting).toEqual([{ ...fired, status: "open" }]);
    expect(listed.finished).toMatchObject([
      { id: failed.id, status: "failed", reason: "BALANCE_NOT_ENOUGH: not enough USDT" },
    ]);
    // A fired stop can no longer be cancelled.
    await expect(caller.orders.cancelStop({ id: fired.id })).rejects.toMatchObject({
      label: "ORDER_CLOSED",
      message: `stop order ${fired.id} has fired; its order is being placed`,
    });
  });

  it("refuses bad stops with their labels and records nothing", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const base = {
      market: "BTC_USDT",
      side: "buy" as const,
      triggerPrice: "31000",
      price: "31100",
      amount: "0.01",
    };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ triggerPrice: "31000.001" }, "INVALID_PRECISION"],
      [{ price: "31100.001" }, "INVALID_PRECISION"],
      [{ amount: "0.00001" }, "INVALID_PRECISION"],
      [{ triggerPrice: "0" }, "INVALID_PARAM_VALUE"],
      [{ amount: "0" }, "INVALID_PARAM_VALUE"],
      [{ amount: "0.0001", price: "1" }, "AMOUNT_TOO_LITTLE"],
      [{ market: "DOGE_USDT" }, "INVALID_CURRENCY_PAIR"],
      [{ rule: ">" }, "INVALID_PARAM_VALUE"],
      [{ timeInForce: "poc" }, "INVALID_PARAM_VALUE"],
      [{ expiration: -1 }, "INVALID_PARAM_VALUE"],
      [{ price: undefined }, "MISSING_REQUIRED_PARAM"],
    ];
    for (const [change, label] of cases) {
      await expect(
        caller.orders.placeStop({ ...base, ...change } as typeof base),
        JSON.stringify(change),
      ).rejects.toMatchObject({ label });
    }
    const rows = await f.db
      .select()
      .from(schema.priceOrders)
      .where(eq(schema.priceOrders.userId, user.id));
    expect(rows).toEqual([]);
    await expect(caller.orders.stops({ market: "DOGE_USDT" })).rejects.toMatchObject({
      label: "INVALID_CURRENCY_PAIR",
    });
  });

  it("another user's stop is not found, and keeps waiting", async () => {
    const owner = await funded();
    const other = await funded();
    const stop = await (await f.callerAs(owner)).orders.placeStop({
      market: "BTC_USDT",
      side: "sell",
      triggerPrice: "25000",
      price: "24900",
      amount: "0.01",
    });
    const caller = await f.callerAs(other);
    await expect(caller.orders.cancelStop({ id: stop.id })).rejects.toMatchObject({
      label: "ORDER_NOT_FOUND",
      code: "NOT_FOUND",
    });
    expect((await caller.orders.stops({ market: "BTC_USDT" })).waiting).toEqual([]);
    const mine = await (await f.callerAs(owner)).orders.stops({ market: "BTC_USDT" });
    expect(mine.waiting).toEqual([stop]);
  });
});
