// admin.markets.create: lists a new market. Minimums come as decimal strings (checked against the
// market's amount precision and the quote asset's decimals), fees as percentages with up to four
// decimals (parts per million), the price band as a percentage with up to two (basis points).
// The matching engine's own check (resolveMarket on the config it will be built from) runs
// before anything is written, so a market the engine would refuse — a tick × lot finer than the
// quote asset's minor unit, bounds past 2^53 — is refused here with INVALID_MARKET_CONFIG and the
// engine's reason, never found out by a worker. The ledger's createMarket checks the precisions
// against the assets' decimals again. The market's live configuration in etcd is written with it
// — halted if asked, else trading — so both halt records agree from the start; the engine owner
// of its partition builds its book on its first command (engine-host.ts), and the web's market
// caches (2 s) learn it without a restart. Labels: UNKNOWN_ASSET, MARKET_EXISTS,
// INVALID_CURRENCY_PAIR (base = quote), INVALID_MARKET_CONFIG, INVALID_PARAM_VALUE/PRECISION.
import { createMarket, LedgerError, parseDecimal, schema } from "@spotx/db";
import { decimalToUnits, resolveMarket } from "@spotx/engine";
import { logger } from "@spotx/platform/logger";
import { engineMarketConfig } from "@spotx/protocol";
import { inArray } from "drizzle-orm";
import { z } from "zod";
import { type LiveHaltWrite, undoLiveHalt, writeLiveHalt } from "../../../admin/market-halts";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { assetSymbol, decimalText, percentIn, reason } from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";
import { adminMarket, loadAdminMarkets } from "./list";

const log = logger("admin");

export const createMarketInput = z.object({
  base: assetSymbol,
  quote: assetSymbol,
  /** Price decimals: one tick is 10^-pricePrecision of the quote asset. */
  pricePrecision: z.number().int().min(0).max(18),
  /** Amount decimals: one lot is 10^-amountPrecision of the base asset. */
  amountPrecision: z.number().int().min(0).max(18),
  /** The smallest order, in the base asset: a whole number of lots. */
  minBaseAmount: decimalText,
  /** The smallest order value, in the quote asset. */
  minQuoteAmount: decimalText,
  makerFeePercent: decimalText,
  takerFeePercent: decimalText,
  /** Limit prices further than this from the last trade are refused. */
  priceBandPercent: decimalText.default("10"),
  maxOpenOrdersPerUser: z.number().int().min(1).max(1_000_000).default(200),
  /** List it halted, to be resumed when ready. */
  startHalted: z.boolean().default(false),
  reason,
});

export const createMarketProcedure = operatorProcedure
  .input(createMarketInput)
  .output(adminMarket)
  .mutation(async ({ ctx, input }) => {
    const { etcd, names } = ctx.services;
    const symbol = `${input.base}_${input.quote}`;
    if (input.base === input.quote) {
      throw new LedgerError(
        "INVALID_CURRENCY_PAIR",
        `a market trades two assets, not ${input.base} for itself`,
      );
    }
    const fees = { min: 0n, max: 100_000n };
    const makerFeePpm = percentIn(input.makerFeePercent, 4, "makerFeePercent", fees);
    const takerFeePpm = percentIn(input.takerFeePercent, 4, "takerFeePercent", fees);
    const priceBandBps = percentIn(input.priceBandPercent, 2, "priceBandPercent", {
      min: 1n,
      max: 1_000_000n,
    });
    const minBaseLots = decimalToUnits(input.minBaseAmount, input.amountPrecision);
    if (!minBaseLots.ok || minBaseLots.value <= 0n) {
      throw new LedgerError(
        minBaseLots.ok ? "INVALID_PARAM_VALUE" : "INVALID_PRECISION",
        `minBaseAmount ${input.minBaseAmount} must be a positive whole number of lots (10^-${input.amountPrecision} ${input.base})`,
      );
    }
    const state: { write?: LiveHaltWrite } = {};
    try {
      await ctx.db.transaction(async (tx) => {
        const found = await tx
          .select({ symbol: schema.assets.symbol, decimals: schema.assets.decimals })
          .from(schema.assets)
          .where(inArray(schema.assets.symbol, [input.base, input.quote]));
        const decimalsOf = (asset: string) => {
          const row = found.find((a) => a.symbol === asset);
          if (!row) throw new LedgerError("UNKNOWN_ASSET", `unknown asset ${asset}: list it first`);
          return row.decimals;
        };
        const baseDecimals = decimalsOf(input.base);
        const quoteDecimals = decimalsOf(input.quote);
        const minQuoteAmount = parseDecimal(input.minQuoteAmount, quoteDecimals);
        if (minQuoteAmount <= 0n) {
          throw new LedgerError("INVALID_PARAM_VALUE", "minQuoteAmount must be positive");
        }
        refuseWhatTheEngineWould({
          symbol,
          baseDecimals,
          quoteDecimals,
          pricePrecision: input.pricePrecision,
          amountPrecision: input.amountPrecision,
          minBaseLots: minBaseLots.value,
          minQuoteAmount,
          priceBandBps,
          maxOpenOrdersPerUser: input.maxOpenOrdersPerUser,
        });
        const created = await createMarket(tx, {
          symbol,
          base: input.base,
          quote: input.quote,
          pricePrecision: input.pricePrecision,
          amountPrecision: input.amountPrecision,
          minBaseLots: minBaseLots.value,
          minQuoteAmount,
          makerFeePpm,
          takerFeePpm,
          priceBandBps,
          maxOpenOrdersPerUser: input.maxOpenOrdersPerUser,
          status: input.startHalted ? "halted" : "trading",
        });
        state.write = await writeLiveHalt(etcd, names, symbol, {
          halted: input.startHalted,
          reason: input.reason,
          by: `operator:${ctx.session.userId}`,
        });
        await auditOperatorAction(tx, ctx, {
          action: "market.create",
          subject: `market:${symbol}`,
          reason: input.reason,
          before: null,
          after: {
            ...created,
            priceBandBps,
            maxOpenOrdersPerUser: input.maxOpenOrdersPerUser,
            live: state.write.written,
          },
        });
      });
    } catch (error) {
      if (state.write) await undoLiveHalt(etcd, names, symbol, state.write, log);
      throw error;
    }
    const [market] = await loadAdminMarkets(ctx.db, etcd, names, [symbol]);
    if (!market) throw new Error(`market ${symbol} vanished after it was created`);
    return market;
  });

/** Builds the engine's config as the worker will, and lets the engine judge it. */
function refuseWhatTheEngineWould(rules: Parameters<typeof engineMarketConfig>[0]): void {
  try {
    resolveMarket(engineMarketConfig(rules));
  } catch (error) {
    // engineBounds (a RangeError) and resolveMarket (MarketConfigError) say what is wrong.
    if (error instanceof Error) {
      throw new LedgerError(
        "INVALID_MARKET_CONFIG",
        `the matching engine refuses ${rules.symbol}: ${error.message}`,
      );
    }
    throw error;
  }
}
