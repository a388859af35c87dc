// GET /spot/tickers (an array, one pair or all) and GET /spot/order_book (levels from the
// market-data snapshot, with its sequence number as `id` for clients that then follow
// spot.order_book_update).
import { z } from "zod";
import { type GateCall, ok } from "./call";
import { bookSnapshot, ticker } from "./market-snapshots";
import { boolParam, intParam, pairParam, parseParams } from "./request-params";

const tickersQuery = z.object({
  currency_pair: pairParam.optional(),
  timezone: z.enum(["utc0", "utc8", "all"]).optional(),
});

export async function listTickers({ services, query }: GateCall) {
  const q = parseParams(tickersQuery, query);
  const markets = q.currency_pair
    ? [await services.markets.market(q.currency_pair)]
    : [...(await services.markets.markets()).values()];
  return ok(await Promise.all(markets.map((m) => ticker(services, m))));
}

const orderBookQuery = z.object({
  currency_pair: pairParam,
  limit: intParam(1, 100).default(10),
  // gate.io merges levels by `interval`; spotx serves unmerged levels only ("0").
  interval: z.literal("0", { error: 'only "0" (no merging) is supported' }).default("0"),
  with_id: boolParam.default(false),
});

export async function orderBook({ services, query }: GateCall) {
  const q = parseParams(orderBookQuery, query);
  const m = await services.markets.market(q.currency_pair);
  const book = await bookSnapshot(services, m, q.limit);
  return ok({
    ...(q.with_id ? { id: book.seq } : {}),
    current: Date.now(),
    update: book.time,
    asks: book.asks,
    bids: book.bids,
  });
}
