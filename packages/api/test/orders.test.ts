// The orders router with real numbers: placing holds exactly what the order can spend and
// answers at once (pending); the market's rules refuse with gate.io's labels and hold nothing;
// cancels travel to the engine through the outbox; open orders, history and fills read back
// what settlement made of them (applied here through the ledger's applySettlementBatch, as the
// pipeline's settlement does), a page at a time.
import { applySettlementBatch, loadMarket, type MarketSpec, schema } from "@spotx/db";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, startApiFixture, type TestUser } from "./api-fixture";

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

describe("orders.place", () => {
  it("holds price × amount for a limit buy and answers with the pending order", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const { order } = await caller.orders.place({
      market: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30000",
      text: "t-first",
    });
    expect(order).toMatchObject({
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      timeInForce: "gtc",
      price: "30000",
      amount: "0.01",
      amountAsset: "BTC",
      left: "0.01",
      filledAmount: "0",
      filledTotal: "0",
      avgDealPrice: "0",
      fee: "0",
      feeAsset: "BTC",
      status: "pending",
      finishAs: "open",
      text: "t-first",
    });
    expect(await balance(user, "USDT")).toEqual({ available: "700", locked: "300" });
    // The same client id again is a label on a second order, held on its own (gate.io's `text`).
    const again = await caller.orders.place({
      market: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "30000",
      text: "t-first",
    });
    expect(again.order).toMatchObject({ text: "t-first", status: "pending" });
    expect(again.order.id).not.toBe(order.id);
    expect(await balance(user, "USDT")).toEqual({ available: "400", locked: "600" });
  });

  it("takes a market buy's amount in the quote asset (spend 50 USDT)", async () => {
    const user = await funded();
    const { order } = await (await f.callerAs(user)).orders.place({
      market: "BTC_USDT",
      side: "buy",
      type: "market",
      amount: "50",
    });
    expect(order).toMatchObject({
      type: "market",
      timeInForce: "ioc",
      price: null,
      amount: "50",
      amountAsset: "USDT",
      text: "web", // no client text: labelled with where it came from, as gate.io does
    });
    expect(await balance(user, "USDT")).toEqual({ available: "950", locked: "50" });
  });

  it("refuses what the market's rules refuse, with gate.io's labels, holding nothing", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const cases: Array<[Record<string, string>, string]> = [
      [{ amount: "0.00001", price: "30000" }, "INVALID_PRECISION"],
      [{ amount: "0.01", price: "30000.001" }, "INVALID_PRECISION"],
      [{ amount: "0.0001", price: "100" }, "AMOUNT_TOO_LITTLE"],
      [{ amount: "1", price: "30000" }, "BALANCE_NOT_ENOUGH"],
      [{ amount: "0", price: "30000" }, "INVALID_PARAM_VALUE"],
      [{ amount: "0.01", price: "30000", market: "DOGE_USDT" }, "INVALID_CURRENCY_PAIR"],
      [{ amount: "0.01", price: "30000", text: "no-prefix" }, "INVALID_PARAM_VALUE"],
    ];
    for (const [change, label] of cases) {
      await expect(
        caller.orders.place({ market: "BTC_USDT", side: "buy", amount: "0.01", ...change }),
        JSON.stringify(change),
      ).rejects.toMatchObject({ label });
    }
    await expect(
      caller.orders.place({ market: "BTC_USDT", side: "buy", amount: "0.01" }),
    ).rejects.toMatchObject({
      label: "INVALID_PARAM_VALUE",
      message: "a limit order needs a price",
    });
    expect(await balance(user, "USDT")).toEqual({ available: "1000", locked: "0" });
    const orders = await f.db.select().from(schema.orders).where(eq(schema.orders.userId, user.id));
    expect(orders).toEqual([]);
  });

  it("refuses a post-only order that would take at the live book (POC_FILL_IMMEDIATELY), holding nothing", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    // The live book as market data keeps it in Redis: best ask 30,000.00, best bid 29,990.00.
    await f.redis.set(
      f.names.redis.book("BTC_USDT"),
      JSON.stringify({
        market: "BTC_USDT",
        seq: 7,
        time: Date.now(),
        bids: [["29990", "0.5"]],
        asks: [["30000", "0.2"]],
      }),
      "EX",
      60,
    );
    await expect(
      caller.orders.place({
        market: "BTC_USDT",
        side: "buy",
        amount: "0.01",
        price: "30000",
        timeInForce: "poc",
      }),
    ).rejects.toMatchObject({
      label: "POC_FILL_IMMEDIATELY",
      message: "a post-only buy at 30000 would take the best ask 30000",
    });
    await expect(
      caller.orders.place({
        market: "BTC_USDT",
        side: "sell",
        amount: "0.01",
        price: "29990",
        timeInForce: "poc",
      }),
    ).rejects.toMatchObject({ label: "POC_FILL_IMMEDIATELY" });
    expect(await balance(user, "USDT")).toEqual({ available: "1000", locked: "0" });
    // One tick inside the spread rests as a maker.
    const { order } = await caller.orders.place({
      market: "BTC_USDT",
      side: "buy",
      amount: "0.01",
      price: "29999.99",
      timeInForce: "poc",
    });
    expect(order).toMatchObject({ timeInForce: "poc", status: "pending" });
    await f.redis.del(f.names.redis.book("BTC_USDT"));
  });
});

describe("orders.cancel and orders.cancelAll", () => {
  it("queues the engine's cancel and answers with the order as it stands", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const { order } = await caller.orders.place({
      market: "BTC_USDT",
      side: "sell",
      amount: "0.02",
      price: "40000",
    });
    const answer = await caller.orders.cancel({ market: "BTC_USDT", orderId: order.id });
    expect(answer).toMatchObject({ id: order.id, status: "pending" });
    const last = await f.db.execute<{ payload: { command: Record<string, unknown> } }>(
      sql`SELECT payload FROM outbox ORDER BY id DESC LIMIT 1`,
    );
    expect(last.rows[0]?.payload.command).toMatchObject({
      type: "cancel",
      orderId: Number(order.id),
    });
    // By client id too; a client id that names nothing is CLIENT_ID_NOT_FOUND, as on gate.io.
    await expect(
      caller.orders.cancel({ market: "BTC_USDT", orderId: "t-never-used" }),
    ).rejects.toMatchObject({ label: "CLIENT_ID_NOT_FOUND", code: "NOT_FOUND" });
  });

  it("cancelAll answers with the user's live orders of the market", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const placed = [];
    for (const price of ["20000", "21000"]) {
      placed.push(
        (await caller.orders.place({ market: "BTC_USDT", side: "buy", amount: "0.001", price }))
          .order.id,
      );
    }
    const cancelled = await caller.orders.cancelAll({ market: "BTC_USDT", side: "buy" });
    expect(cancelled.map((o) => o.id).sort()).toEqual([...placed].sort());
  });
});

describe("orders.open, orders.history and orders.fills", () => {
  it("read back a trade as settlement applied it: both sides, fees in what each received", async () => {
    const seller = await funded();
    const buyer = await funded();
    const ask = (
      await (
        await f.callerAs(seller)
      ).orders.place({
        market: "BTC_USDT",
        side: "sell",
        amount: "0.03",
        price: "30000",
      })
    ).order;
    const bid = (
      await (
        await f.callerAs(buyer)
      ).orders.place({
        market: "BTC_USDT",
        side: "buy",
        amount: "0.01",
        price: "30000",
      })
    ).order;
    const applied = await applySettlementBatch(f.db, "BTC_USDT", [
      { kind: "order_accepted", seq: ++seq, orderId: BigInt(ask.id) },
      {
        kind: "trade",
        seq: ++seq,
        tradeId: seq,
        makerOrderId: BigInt(ask.id),
        takerOrderId: BigInt(bid.id),
        makerUserId: seller.id,
        takerUserId: buyer.id,
        takerSide: "buy",
        priceTicks: 3_000_000n,
        qtyLots: 100n,
        quoteAmount: 3_000_000n * 100n * btc.quoteMinorPerTickLot,
        time: new Date(),
      },
    ]);
    expect(applied.ok).toBe(true);

    const buyerCaller = await f.callerAs(buyer);
    const sellerCaller = await f.callerAs(seller);
    // The buyer's order filled completely: history, closed. The seller's rests, a third done.
    const history = await buyerCaller.orders.history();
    expect(history.items).toEqual([
      expect.objectContaining({
        id: bid.id,
        status: "closed",
        finishAs: "filled",
        filledAmount: "0.01",
        filledTotal: "300",
        avgDealPrice: "30000",
        fee: "0.00002",
        left: "0",
      }),
    ]);
    const open = await sellerCaller.orders.open({ market: "BTC_USDT" });
    expect(open.items).toEqual([
      expect.objectContaining({ id: ask.id, status: "open", left: "0.02", filledAmount: "0.01" }),
    ]);
    expect(await buyerCaller.orders.fills()).toEqual({
      items: [
        expect.objectContaining({
          orderId: bid.id,
          side: "buy",
          role: "taker",
          price: "30000",
          amount: "0.01",
          total: "300",
          fee: "0.00002",
          feeAsset: "BTC",
        }),
      ],
      nextCursor: null,
    });
    expect((await sellerCaller.orders.fills()).items).toEqual([
      expect.objectContaining({
        orderId: ask.id,
        side: "sell",
        role: "maker",
        fee: "0.3",
        feeAsset: "USDT",
      }),
    ]);
    expect(await balance(buyer, "BTC")).toEqual({ available: "0.10998", locked: "0" });
  });

  it("pages through open orders newest first without repeats or gaps", async () => {
    const user = await funded();
    const caller = await f.callerAs(user);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(
        (
          await caller.orders.place({
            market: "BTC_USDT",
            side: "buy",
            amount: "0.001",
            price: String(20_000 + i),
          })
        ).order.id,
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await caller.orders.open({ limit: 2, cursor });
      seen.push(...page.items.map((o) => o.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it("pages through fills by the opaque cursor, and refuses one it did not give out", async () => {
    const maker = await funded();
    const taker = await funded();
    const asks = [];
    for (let i = 0; i < 3; i += 1) {
      asks.push(
        (
          await (
            await f.callerAs(maker)
          ).orders.place({
            market: "BTC_USDT",
            side: "sell",
            amount: "0.001",
            price: "30000",
          })
        ).order,
      );
    }
    const events = [];
    const time = new Date();
    for (const ask of asks) {
      const bid = (
        await (
          await f.callerAs(taker)
        ).orders.place({
          market: "BTC_USDT",
          side: "buy",
          amount: "0.001",
          price: "30000",
        })
      ).order;
      events.push({ kind: "order_accepted" as const, seq: ++seq, orderId: BigInt(ask.id) });
      events.push({
        kind: "trade" as const,
        seq: ++seq,
        tradeId: seq,
        makerOrderId: BigInt(ask.id),
        takerOrderId: BigInt(bid.id),
        makerUserId: maker.id,
        takerUserId: taker.id,
        takerSide: "buy" as const,
        priceTicks: 3_000_000n,
        qtyLots: 10n,
        quoteAmount: 3_000_000n * 10n * btc.quoteMinorPerTickLot,
        // All three at the same instant: the cursor must still tell them apart.
        time,
      });
    }
    expect((await applySettlementBatch(f.db, "BTC_USDT", events)).ok).toBe(true);
    const caller = await f.callerAs(maker);
    const first = await caller.orders.fills({ limit: 2 });
    const second = await caller.orders.fills({ limit: 2, cursor: first.nextCursor ?? undefined });
    const ids = [...first.items, ...second.items].map((fill) => fill.tradeId);
    expect(new Set(ids).size).toBe(3);
    expect(second.nextCursor).toBeNull();
    await expect(caller.orders.fills({ cursor: "bm90IG91cnM" })).rejects.toMatchObject({
      label: "INVALID_PARAM_VALUE",
    });
    // Well-formed JSON whose time or id PostgreSQL would refuse is refused here, with a label.
    const forged = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString("base64url");
    for (const key of [
      ["x", "BTC_USDT", "1", 0],
      ["2026-13-01 00:00:00+00", "BTC_USDT", "1", 0],
      ["2026-02-30 00:00:00+00", "BTC_USDT", "1", 0],
      ["2026-11-24 24:00:00+00", "BTC_USDT", "1", 0],
      ["2026-11-24 07:00:00+99", "BTC_USDT", "1", 0],
      ["2026-11-24 07:00:00+00", "BTC_USDT", "9999999999999999999", 0],
    ]) {
      await expect(caller.orders.fills({ cursor: forged(key) })).rejects.toMatchObject({
        label: "INVALID_PARAM_VALUE",
      });
    }
    // One in PostgreSQL's own form pages from that point.
    const fromKey = await caller.orders.fills({
      cursor: forged(["2999-01-01 00:00:00.5+00", "BTC_USDT", "1", 0]),
    });
    expect(fromKey.items).toHaveLength(3);
    const byOrder = await caller.orders.fills({ orderId: asks[1]?.id });
    expect(byOrder.items.map((fill) => fill.orderId)).toEqual([asks[1]?.id]);
    const rows = await f.db
      .select()
      .from(schema.trades)
      .where(and(eq(schema.trades.makerUserId, maker.id)));
    expect(rows).toHaveLength(3);
  });
});

// Last: once it knows the trade, the band refuses prices the tests above place far from it.
describe("the price band", () => {
  it("refuses a limit price outside the band around that trade with a label, holding nothing", async () => {
    // The trade read back above was at 30,000; BTC_USDT's band is ±10 %. The last price is cached for
    // a moment, so the refusal is awaited (an unfunded user: before the band is known, the
    // order is refused for its balance, and nothing is ever placed).
    const user = await f.createUser();
    const caller = await f.callerAs(user);
    await expect
      .poll(
        () =>
          caller.orders
            .place({ market: "BTC_USDT", side: "buy", amount: "0.01", price: "33001" })
            .then(
              () => "placed",
              (error: { label?: string; message?: string }) => `${error.label}: ${error.message}`,
            ),
        { timeout: 10_000 },
      )
      .toMatch(/^INVALID_PARAM_VALUE: price is more than 10% away from the last trade price/);
    const orders = await f.db.select().from(schema.orders).where(eq(schema.orders.userId, user.id));
    expect(orders).toEqual([]);
  });
});
