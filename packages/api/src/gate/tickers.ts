// GET /spot/tickers (an array, one pair or all) and GET /spot/order_book (levels from the
// market-data snapshot, with its sequence number as `id` for clients that then follow
// spot.order_book_update; merged by `interval` in book-merging.ts).
import { z } from "zod";
import { MERGED_FROM_DEPTH, mergeBook, mergeStep } from "./book-merging";
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
  // "0": no merging; else a price step, checked against the market's tick (mergeStep).
  interval: z.string().max(64).default("0"),
  with_id: boolParam.default(false),
});

export async function orderBook({ services, query }: GateCall) {
  const q = parseParams(orderBookQuery, query);
  const m = await services.markets.market(q.currency_pair);
  const step = mergeStep(q.interval, m);
  const book = await bookSnapshot(services, m, step === 0n ? q.limit : MERGED_FROM_DEPTH);
  const levels = step === 0n ? book : mergeBook(book, step, m, MERGED_FROM_DEPTH, q.limit);
  return ok({
    ...(q.with_id ? { id: book.seq } : {}),
    current: Date.now(),
    update: book.time,
    asks: levels.asks,
    bids: levels.bids,
  });
}
