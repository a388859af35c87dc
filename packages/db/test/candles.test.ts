// Candles: the bucket a trade falls into for each interval, and settled trades folded into
// `candles` exactly once, in the transaction that advances the market's sequence.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CANDLE_INTERVALS, candleStart } from "../src/candles";
import { isLedgerError } from "../src/errors";
import { applySettlementBatch } from "../src/settlement";
import { BTC, createFixture, createUser, type Fixture, fund, USDT } from "./fixtures";
import { lastSeq, placeLimit, tradeEvent } from "./trading";

describe("candleStart", () => {
  // Thursday 2 January 2025, 03:04:05.678 UTC.
  const time = new Date("2025-01-02T03:04:05.678Z");
  const starts: Record<(typeof CANDLE_INTERVALS)[number], string> = {
    "10s": "2025-01-02T03:04:00.000Z",
    "1m": "2025-01-02T03:04:00.000Z",
    "5m": "2025-01-02T03:00:00.000Z",
    "15m": "2025-01-02T03:00:00.000Z",
    "30m": "2025-01-02T03:00:00.000Z",
    "1h": "2025-01-02T03:00:00.000Z",
    "4h": "2025-01-02T00:00:00.000Z",
    "8h": "2025-01-02T00:00:00.000Z",
    "1d": "2025-01-02T00:00:00.000Z",
    "7d": "2024-12-30T00:00:00.000Z", // the Monday before
    "30d": "2025-01-01T00:00:00.000Z", // the calendar month
  };

  it("floors a time to each of the 11 intervals", () => {
    expect(CANDLE_INTERVALS).toHaveLength(11);
    for (const interval of CANDLE_INTERVALS) {
      expect(candleStart(interval, time).toISOString(), interval).toBe(starts[interval]);
    }
  });

  it("starts weeks on Monday 00:00 UTC and months on the 1st, at the edges", () => {
    const week = (iso: string) => candleStart("7d", new Date(iso)).toISOString();
    expect(week("2025-01-05T23:59:59.999Z")).toBe("2024-12-30T00:00:00.000Z"); // Sunday night
    expect(week("2025-01-06T00:00:00.000Z")).toBe("2025-01-06T00:00:00.000Z"); // Monday
    expect(week("1970-01-01T00:00:00.000Z")).toBe("1969-12-29T00:00:00.000Z"); // before the first Monday
    const month = (iso: string) => candleStart("30d", new Date(iso)).toISOString();
    expect(month("2024-02-29T23:59:59.999Z")).toBe("2024-02-01T00:00:00.000Z");
    expect(month("2024-03-01T00:00:00.000Z")).toBe("2024-03-01T00:00:00.000Z");
    expect(candleStart("10s", new Date("2025-01-02T03:04:09.999Z")).toISOString()).toBe(
      "2025-01-02T03:04:00.000Z",
    );
  });

  it("refuses an unknown interval or an invalid time with a label", () => {
    for (const call of [
      () => candleStart("2m" as "1m", time),
      () => candleStart("1m", new Date(Number.NaN)),
    ]) {
      let error: unknown;
      try {
        call();
      } catch (caught) {
        error = caught;
      }
      expect(isLedgerError(error, "INVALID_PARAM_VALUE")).toBe(true);
    }
  });
});

describe("candles from settlement", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  });
  afterAll(async () => {
    await f?.test.drop();
  });

  const candle = async (interval: string, start: string) => {
    const found = await f.db.execute(sql`
      SELECT open, high, low, close, base_amount, quote_amount, trades, last_seq FROM candles
       WHERE market = 'BTC_USDT' AND interval = ${interval} AND start_time = ${start}::timestamptz`);
    return found.rows;
  };

  it("folds each applied trade into every interval once, however often it is delivered", async () => {
    const buyer = await createUser(f.db);
    const seller = await createUser(f.db);
    await fund(f.db, buyer, "USDT", USDT("10000"));
    await fund(f.db, seller, "BTC", BTC("1"));
    const asks = [
      await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30000"),
      await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.02", "30100"),
      await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.03", "29900"),
      await placeLimit(f.db, f.btcUsdt, seller, "sell", "0.01", "30050"),
    ];
    const bid = await placeLimit(f.db, f.btcUsdt, buyer, "buy", "0.07", "30100");
    const seq = (await lastSeq(f.db, "BTC_USDT")) + 1n;
    const at = (iso: string, event: ReturnType<typeof tradeEvent>) => ({
      ...event,
      time: new Date(iso),
    });
    const [a, b, c, d] = asks;
    if (!a || !b || !c || !d) throw new Error("asks missing");
    const first = [
      at("2025-01-02T03:04:01Z", tradeEvent(f.btcUsdt, seq, a, bid, "0.01", "30000")),
      at("2025-01-02T03:04:30Z", tradeEvent(f.btcUsdt, seq + 1n, b, bid, "0.02", "30100")),
    ];
    const second = [
      at("2025-01-02T03:04:59Z", tradeEvent(f.btcUsdt, seq + 2n, c, bid, "0.03", "29900")),
      // The next minute: a new 1m candle, the same 1h one.
      at("2025-01-02T03:05:00Z", tradeEvent(f.btcUsdt, seq + 3n, d, bid, "0.01", "30050")),
    ];
    expect((await applySettlementBatch(f.db, "BTC_USDT", first)).ok).toBe(true);
    expect((await applySettlementBatch(f.db, "BTC_USDT", first)).ok).toBe(true); // redelivered
    expect((await applySettlementBatch(f.db, "BTC_USDT", [...first, ...second])).ok).toBe(true);

    expect(await candle("1m", "2025-01-02T03:04:00Z")).toEqual([
      {
        open: 3_000_000n,
        high: 3_010_000n,
        low: 2_990_000n,
        close: 2_990_000n,
        base_amount: BTC("0.06"),
        // 300 + 602 + 897 USDT
        quote_amount: USDT("1799"),
        trades: 3,
        last_seq: seq + 2n,
      },
    ]);
    expect(await candle("1m", "2025-01-02T03:05:00Z")).toEqual([
      expect.objectContaining({ open: 3_005_000n, close: 3_005_000n, trades: 1 }),
    ]);
    expect(await candle("1h", "2025-01-02T03:00:00Z")).toEqual([
      {
        open: 3_000_000n,
        high: 3_010_000n,
        low: 2_990_000n,
        close: 3_005_000n,
        base_amount: BTC("0.07"),
        quote_amount: USDT("2099.5"),
        trades: 4,
        last_seq: seq + 3n,
      },
    ]);
    const perInterval = await f.db.execute(sql`
      SELECT interval, sum(trades)::int AS trades FROM candles WHERE market = 'BTC_USDT'
       GROUP BY interval ORDER BY interval`);
    expect(perInterval.rows).toHaveLength(11);
    expect(perInterval.rows.every((r) => r.trades === 4)).toBe(true);
  });
});
