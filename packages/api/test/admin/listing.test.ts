// admin.assets and admin.markets.create/.delist (issue 19): listing an asset and a market with
// one precise label per refusal and an audit row per change; delisting closes the market at once
// (placement refused through tRPC and the gate.io REST API, resume refused), queues the engine's
// `delist` in the market's log and halts it in etcd — against the real PostgreSQL, etcd and Redis.
// The engine's cancels and settlement are proven in packages/db/test/delisting.test.ts and the
// worker's pipeline test (apps/worker/test/pipeline/listing.test.ts).
import { schema } from "@spotx/db";
import { and, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, startApiFixture, type TestUser } from "../api-fixture";
import { refusal } from "./refusal";

let f: ApiFixture;
let operator: TestUser;
let trader: TestUser;

beforeAll(async () => {
  f = await startApiFixture();
  operator = await f.createUser("operator");
  trader = await f.createUser();
  await f.fund(trader.id, "USDT", 10_000_000_000n); // 10,000 USDT
});
afterAll(async () => {
  await f?.stop();
});

const admin = () => f.callerAs(operator);

async function lastAudit(subject: string) {
  const [row] = await f.db
    .select()
    .from(schema.auditLog)
    .where(eq(schema.auditLog.subject, subject))
    .orderBy(desc(schema.auditLog.id))
    .limit(1);
  return row;
}

const market = (over: Record<string, unknown> = {}) => ({
  base: "SOL",
  quote: "USDT",
  pricePrecision: 2,
  amountPrecision: 3,
  minBaseAmount: "0.01",
  minQuoteAmount: "1",
  makerFeePercent: "0.1",
  takerFeePercent: "0.2",
  reason: "list SOL",
  ...over,
});

describe("admin.assets", () => {
  it("lists an asset with its decimals, audited, and shows it in the list", async () => {
    const caller = await admin();
    const created = await caller.admin.assets.create({
      symbol: "SOL",
      name: "Solana",
      decimals: 9,
      reason: "listing SOL",
    });
    expect(created).toMatchObject({ symbol: "SOL", name: "Solana", decimals: 9 });
    const listed = await caller.admin.assets.list();
    expect(listed.map((a) => a.symbol)).toEqual(["BTC", "ETH", "SOL", "USDT"]);
    expect(await lastAudit("asset:SOL")).toMatchObject({
      actorId: operator.id,
      action: "asset.create",
      details: expect.objectContaining({
        reason: "listing SOL",
        before: null,
        after: {
          symbol: "SOL",
          name: "Solana",
          decimals: 9,
          depositEnabled: true,
          withdrawEnabled: true,
        },
      }),
    });
  });

  it("refuses a taken symbol, a bad symbol and more than 9 decimals, writing nothing", async () => {
    const caller = await admin();
    const asset = { symbol: "DOGE", name: "Doge", decimals: 8, reason: "listing DOGE" };
    expect(await refusal(caller.admin.assets.create({ ...asset, symbol: "SOL" }))).toEqual({
      label: "ASSET_EXISTS",
      status: 409,
    });
    expect(await refusal(caller.admin.assets.create({ ...asset, symbol: "doge" }))).toEqual({
      label: "INVALID_PARAM_VALUE",
      status: 400,
    });
    expect(await refusal(caller.admin.assets.create({ ...asset, decimals: 18 }))).toEqual({
      label: "INVALID_PARAM_VALUE",
      status: 400,
    });
    expect(await refusal(caller.admin.assets.create({ ...asset, reason: "" }))).toEqual({
      label: "INVALID_PARAM_VALUE",
      status: 400,
    });
    const rows = await f.db.select().from(schema.assets).where(eq(schema.assets.symbol, "DOGE"));
    expect(rows).toEqual([]);
  });
});

describe("admin.markets.create", () => {
  it("refuses an unknown asset, a pair of one asset, what the engine refuses, and a second listing", async () => {
    const caller = await admin();
    expect(await refusal(caller.admin.markets.create(market({ base: "XRP" })))).toEqual({
      label: "UNKNOWN_ASSET",
      status: 400,
    });
    expect(await refusal(caller.admin.markets.create(market({ quote: "SOL" })))).toEqual({
      label: "INVALID_CURRENCY_PAIR",
      status: 400,
    });
    // USDT keeps 6 decimals: a tick of 0.0001 × a lot of 0.001 is 10^-7 USDT, which the engine
    // cannot settle exactly.
    const engineRefused = await caller.admin.markets
      .create(market({ pricePrecision: 4, minBaseAmount: "0.01" }))
      .catch((e: unknown) => e as { label?: string; message?: string });
    expect(engineRefused).toMatchObject({
      label: "INVALID_MARKET_CONFIG",
      message: expect.stringContaining("matching engine refuses SOL_USDT"),
    });
    // SOL keeps 9 decimals: a lot of 10^-10 is finer than its minor unit.
    expect(
      await refusal(
        caller.admin.markets.create(
          market({ quote: "BTC", pricePrecision: 0, amountPrecision: 10, minBaseAmount: "1" }),
        ),
      ),
    ).toEqual({ label: "INVALID_MARKET_CONFIG", status: 400 });
    expect(await f.db.select().from(schema.markets).where(eq(schema.markets.base, "SOL"))).toEqual(
      [],
    );

    const created = await caller.admin.markets.create(market());
    expect(created).toMatchObject({ symbol: "SOL_USDT", status: "trading", liveOrders: 0 });
    expect(await refusal(caller.admin.markets.create(market()))).toEqual({
      label: "MARKET_EXISTS",
      status: 409,
    });
  });
});

describe("admin.markets.delist", () => {
  it("closes the market at once: queued for the engine, halted in etcd, audited; orders and resume refused", async () => {
    const caller = await admin();
    const trading = await f.callerAs(trader);
    // Placement works before (the market cache may need its 2 s to see the new market).
    const placed = await placeWhenKnown(() =>
      trading.orders.place({
        market: "SOL_USDT",
        side: "buy",
        type: "limit",
        price: "150",
        amount: "1",
      }),
    );
    expect(placed.order.status).toBe("pending");

    const delisted = await caller.admin.markets.delist({
      symbol: "SOL_USDT",
      reason: "project abandoned",
    });
    expect(delisted).toMatchObject({ symbol: "SOL_USDT", status: "closed", liveOrders: 1 });

    const [row] = await f.db
      .select()
      .from(schema.markets)
      .where(eq(schema.markets.symbol, "SOL_USDT"));
    expect(row?.status).toBe("closed");
    const live = JSON.parse(
      (await f.etcd.get(f.names.etcd.marketConfig("SOL_USDT")).string()) ?? "{}",
    );
    expect(live).toMatchObject({ halted: true, reason: "delisted: project abandoned" });
    const queued = await f.db
      .select()
      .from(schema.outbox)
      .where(and(eq(schema.outbox.key, "SOL_USDT")))
      .orderBy(desc(schema.outbox.id))
      .limit(1);
    expect(queued[0]?.payload).toMatchObject({
      v: 1,
      market: "SOL_USDT",
      command: { type: "delist" },
    });
    expect(await lastAudit("market:SOL_USDT")).toMatchObject({
      id: delisted.auditId,
      action: "market.delist",
      details: expect.objectContaining({
        reason: "project abandoned",
        before: expect.objectContaining({ status: "trading", liveOrders: 1, openPriceOrders: 0 }),
        after: expect.objectContaining({ status: "closed" }),
      }),
    });

    // Refused from the commit on, whatever the trading service's cache holds.
    const refusedPlace = await refusal(
      trading.orders.place({
        market: "SOL_USDT",
        side: "buy",
        type: "limit",
        price: "150",
        amount: "1",
      }),
    );
    expect(["MARKET_CLOSED", "INVALID_CURRENCY_PAIR"]).toContain(refusedPlace.label);
    await expect
      .poll(
        async () =>
          (
            await refusal(
              trading.orders.place({
                market: "SOL_USDT",
                side: "sell",
                type: "limit",
                price: "150",
                amount: "1",
              }),
            )
          ).label,
        { timeout: 5_000, interval: 100 },
      )
      .toBe("MARKET_CLOSED");
    expect(
      await refusal(caller.admin.markets.resume({ symbol: "SOL_USDT", reason: "oops" })),
    ).toEqual({
      label: "MARKET_CLOSED",
      status: 400,
    });
    expect(
      await refusal(caller.admin.markets.delist({ symbol: "SOL_USDT", reason: "again" })),
    ).toEqual({ label: "MARKET_CLOSED", status: 400 });
    expect(
      await refusal(caller.admin.markets.delist({ symbol: "XRP_USDT", reason: "no such market" })),
    ).toEqual({ label: "INVALID_CURRENCY_PAIR", status: 400 });
    const listed = await caller.admin.markets.list();
    expect(listed.find((m) => m.symbol === "SOL_USDT")?.status).toBe("closed");
  });
});

/** The trading service caches markets for 2 s: a market listed a moment ago may be unknown. */
async function placeWhenKnown<T>(place: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await place();
    } catch (error) {
      if (Date.now() - started > 5_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
