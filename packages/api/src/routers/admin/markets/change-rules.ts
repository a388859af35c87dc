// admin.markets.changeRules: changes a listed market's tick, lot, minimums, price band and fees
// (docs/decisions/006). Prices and amounts stay stored in the units the market listed with
// (10^-precision); the tick and lot are whole multiples of them, so a tick finer than the price
// unit is refused TICK_FINER_THAN_UNIT (a lot, LOT_FINER_THAN_UNIT). The new config is checked by
// the engine's own resolveMarket before anything is written. One transaction writes the audit row
// (before and after) and queues a `rules` command through the outbox: the engine applies it in
// the market's order like any command, cancels the resting orders whose price or amount is not
// a multiple of the new tick or lot (finish_as market_rules) and leaves every other order
// resting; settlement then writes the markets row (and the new fees) at that sequence point.
// So the answer is the QUEUED change; the market list shows the applied values moments later.
import { LedgerError } from "@spotx/db";
import { decimalToUnits, MarketConfigError, resolveMarket, unitsToDecimal } from "@spotx/engine";
import { COMMAND_HEADERS, engineMarketConfig, rulesCommand } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { unknownMarket } from "../../../admin/market-halts";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { decimalText, marketSymbol, percentIn, reason } from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";
import { bpsPercent, ppmPercent } from "./list";

/** What the console says happens to the book; kept here so the audit row and the UI agree. */
export const RULES_POLICY =
  "Resting orders whose price or amount is not a multiple of the new tick or lot are cancelled; everything else keeps resting.";

export const changeRulesInput = z.object({
  symbol: marketSymbol,
  /** The price step, e.g. "0.05": a whole multiple of the listing unit 10^-pricePrecision. */
  tickSize: decimalText,
  /** The amount step, e.g. "0.001": a whole multiple of the listing unit 10^-amountPrecision. */
  lotSize: decimalText,
  /** The smallest order, in the base asset: a whole number of the new lot. */
  minBaseAmount: decimalText,
  /** The smallest order value, in the quote asset. */
  minQuoteAmount: decimalText,
  /** Limit prices further than this from the last trade are refused (percent, 2 decimals). */
  priceBandPercent: decimalText,
  /** Percent with up to four decimals, at most 10 %. */
  makerFeePercent: decimalText,
  takerFeePercent: decimalText,
  reason,
});

const marketRulesView = z.object({
  tickSize: z.string(),
  lotSize: z.string(),
  minBaseAmount: z.string(),
  minQuoteAmount: z.string(),
  priceBandPercent: z.string(),
  makerFeePercent: z.string(),
  takerFeePercent: z.string(),
});
export type MarketRulesView = z.infer<typeof marketRulesView>;

export const changeRulesOutput = z.object({
  symbol: z.string(),
  before: marketRulesView,
  after: marketRulesView,
  /** The `rules` command is on its way to the engine (the outbox row's id). */
  outboxId: z.bigint(),
  policy: z.string(),
  auditId: z.bigint(),
});

type RulesRow = {
  base: string;
  quote: string;
  status: string;
  base_decimals: number;
  quote_decimals: number;
  price_precision: number;
  amount_precision: number;
  min_base_lots: string;
  min_quote_amount: string;
  price_band_bps: number;
  maker_fee_ppm: number;
  taker_fee_ppm: number;
  max_open_orders_per_user: number;
  price_step_ticks: string;
  amount_step_lots: string;
};

/** A step given as a decimal, in listing units; finer than one unit is its own refusal. */
function stepUnits(text: string, precision: number, what: "tick" | "lot", symbol: string): bigint {
  const unit = unitsToDecimal(1n, precision);
  const converted = decimalToUnits(text, precision);
  if (!converted.ok && converted.error === "INVALID_PRECISION") {
    throw new LedgerError(
      what === "tick" ? "TICK_FINER_THAN_UNIT" : "LOT_FINER_THAN_UNIT",
      `${what} ${text} is finer than ${symbol}'s ${what === "tick" ? "price" : "amount"} unit ${unit}: ` +
        `${what === "tick" ? "prices" : "amounts"} are kept in that unit since listing, so the finest ${what} possible is ${unit}`,
    );
  }
  if (!converted.ok || converted.value <= 0n) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `${what} ${text} must be a positive multiple of ${symbol}'s unit ${unit}`,
    );
  }
  return converted.value;
}

export const changeRulesProcedure = operatorProcedure
  .input(changeRulesInput)
  .output(changeRulesOutput)
  .mutation(async ({ ctx, input }) => {
    const { names } = ctx.services;
    const fees = { min: 0n, max: 100_000n };
    const makerFeePpm = percentIn(input.makerFeePercent, 4, "makerFeePercent", fees);
    const takerFeePpm = percentIn(input.takerFeePercent, 4, "takerFeePercent", fees);
    const priceBandBps = percentIn(input.priceBandPercent, 2, "priceBandPercent", {
      min: 1n,
      max: 1_000_000n,
    });
    const result = await ctx.db.transaction(async (tx) => {
      // Locked: two changes of one market queue in the order their audit rows are written.
      const found = await tx.execute<RulesRow>(sql`
        SELECT m.base, m.quote, m.status, b.decimals AS base_decimals, q.decimals AS quote_decimals,
               m.price_precision, m.amount_precision, m.min_base_lots::text,
               m.min_quote_amount::text, m.price_band_bps, m.maker_fee_ppm, m.taker_fee_ppm,
               m.max_open_orders_per_user, m.price_step_ticks::text, m.amount_step_lots::text
          FROM markets m
          JOIN assets b ON b.symbol = m.base
          JOIN assets q ON q.symbol = m.quote
         WHERE m.symbol = ${input.symbol}
           FOR UPDATE OF m`);
      const row = found.rows[0];
      if (!row) throw unknownMarket(input.symbol);
      if (row.status === "closed") {
        throw new LedgerError("MARKET_CLOSED", `${input.symbol} is delisted: its rules are final`);
      }
      const symbol = input.symbol;
      const priceStepTicks = stepUnits(input.tickSize, row.price_precision, "tick", symbol);
      const amountStepLots = stepUnits(input.lotSize, row.amount_precision, "lot", symbol);
      const minBase = decimalToUnits(input.minBaseAmount, row.amount_precision);
      if (!minBase.ok || minBase.value <= 0n || minBase.value % amountStepLots !== 0n) {
        throw new LedgerError(
          minBase.ok ? "INVALID_PARAM_VALUE" : "INVALID_PRECISION",
          `minBaseAmount ${input.minBaseAmount} must be a positive whole number of lots (${input.lotSize} ${row.base})`,
        );
      }
      const minQuote = decimalToUnits(input.minQuoteAmount, row.quote_decimals);
      if (!minQuote.ok || minQuote.value <= 0n) {
        throw new LedgerError(
          minQuote.ok ? "INVALID_PARAM_VALUE" : "INVALID_PRECISION",
          `minQuoteAmount ${input.minQuoteAmount} must be a positive amount of ${row.quote} with at most ${row.quote_decimals} decimals`,
        );
      }
      const listing = {
        symbol,
        baseDecimals: row.base_decimals,
        quoteDecimals: row.quote_decimals,
        pricePrecision: row.price_precision,
        amountPrecision: row.amount_precision,
        maxOpenOrdersPerUser: row.max_open_orders_per_user,
      };
      // The engine's own check of the config it will run, before anything is written.
      try {
        resolveMarket(
          engineMarketConfig({
            ...listing,
            minBaseLots: minBase.value,
            minQuoteAmount: minQuote.value,
            priceBandBps,
            priceStepTicks,
            amountStepLots,
          }),
        );
      } catch (error) {
        if (!(error instanceof MarketConfigError)) throw error;
        throw new LedgerError("INVALID_MARKET_CONFIG", error.message);
      }
      const view = (r: {
        priceStepTicks: bigint;
        amountStepLots: bigint;
        minBaseLots: bigint;
        minQuoteAmount: bigint;
        priceBandBps: number;
        makerFeePpm: number;
        takerFeePpm: number;
      }): MarketRulesView => ({
        tickSize: unitsToDecimal(r.priceStepTicks, row.price_precision),
        lotSize: unitsToDecimal(r.amountStepLots, row.amount_precision),
        minBaseAmount: unitsToDecimal(r.minBaseLots, row.amount_precision),
        minQuoteAmount: unitsToDecimal(r.minQuoteAmount, row.quote_decimals),
        priceBandPercent: bpsPercent(r.priceBandBps),
        makerFeePercent: ppmPercent(r.makerFeePpm),
        takerFeePercent: ppmPercent(r.takerFeePpm),
      });
      const next = {
        priceStepTicks,
        amountStepLots,
        minBaseLots: minBase.value,
        minQuoteAmount: minQuote.value,
        priceBandBps,
        makerFeePpm,
        takerFeePpm,
      };
      const before = view({
        priceStepTicks: BigInt(row.price_step_ticks),
        amountStepLots: BigInt(row.amount_step_lots),
        minBaseLots: BigInt(row.min_base_lots),
        minQuoteAmount: BigInt(row.min_quote_amount),
        priceBandBps: row.price_band_bps,
        makerFeePpm: row.maker_fee_ppm,
        takerFeePpm: row.taker_fee_ppm,
      });
      const after = view(next);
      const queued = await tx.execute<{ id: string }>(sql`
        INSERT INTO outbox (topic, key, payload, headers)
        VALUES (${names.kafka.orders.topic}, ${symbol},
                ${JSON.stringify(rulesCommand(symbol, next, Date.now()))}::jsonb,
                ${JSON.stringify({ [COMMAND_HEADERS.requestId]: ctx.request.requestId })}::jsonb)
        RETURNING id::text`);
      const outboxId = BigInt(queued.rows[0]?.id ?? "0");
      const auditId = await auditOperatorAction(tx, ctx, {
        action: "market.rules",
        subject: `market:${symbol}`,
        reason: input.reason,
        before,
        after,
        details: { outboxId: outboxId.toString(), policy: RULES_POLICY },
      });
      return { symbol, before, after, outboxId, policy: RULES_POLICY, auditId };
    });
    // The relay also polls every second; this only saves the wait.
    await ctx.db
      .execute(sql`SELECT pg_notify(${names.postgres.outboxChannel}, '')`)
      .catch(() => undefined);
    return result;
  });
