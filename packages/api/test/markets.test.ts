// markets.list reads the markets from PostgreSQL and presents them as gate.io does.
import { seedDemo } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../src/root";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
  await seedDemo(test.db);
});
afterAll(async () => {
  await test?.drop();
});

describe("markets.list", () => {
  it("lists the seeded markets with decimal minimums and percent fees", async () => {
    const markets = await createCaller({ db: test.db }).markets.list();
    expect(markets.map((m) => m.symbol)).toEqual(["BTC_USDT", "ETH_USDT"]);
    expect(markets[0]).toEqual({
      symbol: "BTC_USDT",
      base: "BTC",
      quote: "USDT",
      pricePrecision: 2,
      amountPrecision: 4,
      minBaseAmount: "0.0001",
      minQuoteAmount: "1",
      makerFeePercent: "0.1",
      takerFeePercent: "0.2",
      status: "trading",
    });
    expect(markets[1]?.minBaseAmount).toBe("0.001");
  });
});
