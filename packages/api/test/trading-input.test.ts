// The placement service refuses a malformed request with a label before it touches anything:
// a caller that skipped the front doors' own validation still gets INVALID_PARAM_VALUE, never
// a raw schema exception.
import { createDatabase, isLedgerError } from "@spotx/db";
import { createPostgresPool } from "@spotx/platform/postgres";
import { topology } from "@spotx/platform/topology";
import { afterAll, describe, expect, it } from "vitest";
import { TradingService } from "../src/trading/trading-service";

// Never queried: every request below is refused before the database is reached.
const pool = createPostgresPool("postgres://nobody:nobody@127.0.0.1:1/none", { max: 1 });
afterAll(() => pool.end());
const trading = new TradingService({
  db: createDatabase(pool),
  names: topology("input-test"),
  halts: { get: () => ({ halted: false, reason: null }) },
});

async function labelOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (error) {
    if (isLedgerError(error)) return `${error.label}: ${error.message}`;
    throw error;
  }
  throw new Error("the request was accepted");
}

describe("malformed requests to the placement service", () => {
  it("are INVALID_PARAM_VALUE naming the field, for place, cancel and cancel-all", async () => {
    const bad = { market: 5, orderId: [], side: "sideways" } as never;
    expect(await labelOf(() => trading.placeOrder(1n, bad))).toMatch(
      /^INVALID_PARAM_VALUE: market/,
    );
    expect(await labelOf(() => trading.cancelOrder(1n, bad))).toMatch(
      /^INVALID_PARAM_VALUE: market/,
    );
    expect(await labelOf(() => trading.cancelAll(1n, bad))).toMatch(/^INVALID_PARAM_VALUE: market/);
    expect(
      await labelOf(() =>
        trading.placeOrder(1n, { market: "BTC_USDT", side: "buy", amount: "1", text: "no-prefix" }),
      ),
    ).toMatch(/^INVALID_PARAM_VALUE: text/);
  });
});
