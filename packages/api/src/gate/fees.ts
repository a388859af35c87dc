// Trading fees as gate.io reports them (GATE_API_MORE.md, "REST: ledger and fees"):
// `GET /wallet/fee` (TradeFee — what ccxt's fetchTradingFee(s) read), `GET /spot/fee` and
// `GET /spot/batch_fee` (SpotFee). spotx's fees are per market (maker and taker, parts per
// million) and the same for every user; rates are fractions here ("0.002"), not the percent of
// `currency_pairs.fee`. Without a pair, the answer is the highest maker and the highest taker rate
// of the trading markets: a client that applies it to every pair (ccxt does) never under-counts.
import { unitsToDecimal } from "@spotx/engine";
import { z } from "zod";
import { callerOf, type GateCall, ok } from "./call";
import { GateError } from "./errors";
import type { GateMarket } from "./market-directory";
import { pairParam, parseParams } from "./request-params";

/** A rate in parts per million as gate.io's fraction: 2000 → "0.002". */
const rate = (ppm: number) => unitsToDecimal(BigInt(ppm), 6);

/** SpotFee's fields but the pair: spotx has no GT or point-card discounts and no margin loans. */
function spotFeeFields(userId: bigint, makerPpm: number, takerPpm: number) {
  return {
    user_id: Number(userId),
    taker_fee: rate(takerPpm),
    maker_fee: rate(makerPpm),
    gt_discount: false,
    gt_taker_fee: "0",
    gt_maker_fee: "0",
    loan_fee: "0",
    point_type: "1",
    debit_fee: 3,
  };
}

/** The pair's rates, or the highest of the trading markets' when no pair is named. */
async function rates(call: GateCall, pair: string | undefined): Promise<[number, number]> {
  if (pair !== undefined) {
    const m = await call.services.markets.market(pair);
    return [m.makerFeePpm, m.takerFeePpm];
  }
  const markets = [...(await call.services.markets.markets()).values()].filter(
    (m) => m.status === "trading",
  );
  return [
    Math.max(0, ...markets.map((m) => m.makerFeePpm)),
    Math.max(0, ...markets.map((m) => m.takerFeePpm)),
  ];
}

const walletFeeQuery = z.strictObject({
  currency_pair: pairParam.optional(),
  /** Futures' settle currency: spotx has no futures, so it changes nothing. */
  settle: z.enum(["BTC", "USDT", "USD", "btc", "usdt", "usd"]).optional(),
});

/** GET /wallet/fee: TradeFee — SpotFee's fields without the pair, futures and delivery at 0. */
export async function walletFee(call: GateCall) {
  const { userId } = callerOf(call);
  const q = parseParams(walletFeeQuery, call.query);
  const [maker, taker] = await rates(call, q.currency_pair);
  return ok({
    ...spotFeeFields(userId, maker, taker),
    futures_taker_fee: "0",
    futures_maker_fee: "0",
    delivery_taker_fee: "0",
    delivery_maker_fee: "0",
  });
}

const spotFeeQuery = z.strictObject({ currency_pair: pairParam.optional() });

/** GET /spot/fee: SpotFee for a pair (or the highest rates, `currency_pair` then empty). */
export async function spotFee(call: GateCall) {
  const { userId } = callerOf(call);
  const q = parseParams(spotFeeQuery, call.query);
  const [maker, taker] = await rates(call, q.currency_pair);
  return ok({ ...spotFeeFields(userId, maker, taker), currency_pair: q.currency_pair ?? "" });
}

/** The most pairs one `GET /spot/batch_fee` names (gate.io's limit). */
export const BATCH_FEE_MAX_PAIRS = 50;

const batchFeeQuery = z.strictObject({
  currency_pairs: z
    .string()
    .min(1)
    .max(50 * 41),
});

/** GET /spot/batch_fee?currency_pairs=A_B,C_D: SpotFee per pair, keyed by pair. */
export async function batchFee(call: GateCall) {
  const { userId } = callerOf(call);
  const q = parseParams(batchFeeQuery, call.query);
  const names = [...new Set(q.currency_pairs.split(","))];
  if (names.some((name) => name === "")) {
    throw new GateError("INVALID_PARAM_VALUE", "invalid currency_pairs: an empty pair name");
  }
  if (names.length > BATCH_FEE_MAX_PAIRS) {
    throw new GateError(
      "INVALID_PARAM_VALUE",
      `invalid currency_pairs: at most ${BATCH_FEE_MAX_PAIRS} pairs, got ${names.length}`,
    );
  }
  const markets: GateMarket[] = [];
  for (const name of names) markets.push(await call.services.markets.market(name));
  return ok(
    Object.fromEntries(
      markets.map((m) => [
        m.symbol,
        { ...spotFeeFields(userId, m.makerFeePpm, m.takerFeePpm), currency_pair: m.symbol },
      ]),
    ),
  );
}
