// A market's rules as the engine and placement check them: precisions, asset decimals, the
// tick and lot steps, minimums, the price band and the open-order limit — and the rules it
// listed with, once they changed (see @spotx/protocol engineMarketConfig, listingMarketConfig).
import type { MarketRules } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import type { Database, Transaction } from "./client";
import { LedgerError } from "./errors";

/** Every market's rules (or only the named ones), keyed by symbol. */
export async function loadMarketRules(
  db: Database | Transaction,
  symbols?: readonly string[],
): Promise<Map<string, MarketRules>> {
  if (
    symbols !== undefined &&
    (!Array.isArray(symbols) || symbols.some((symbol) => typeof symbol !== "string"))
  ) {
    throw new LedgerError("INVALID_PARAM_VALUE", "markets are named by a list of symbols");
  }
  const filter =
    symbols === undefined
      ? sql``
      : sql`WHERE m.symbol = ANY(${sql.param(
          // A name that cannot be a market's is simply not found (and never reaches SQL).
          symbols.filter((s) => /^[A-Z0-9]{2,12}_[A-Z0-9]{2,12}$/.test(s)),
        )}::text[])`;
  const found = await db.execute<{
    symbol: string;
    base_decimals: number;
    quote_decimals: number;
    price_precision: number;
    amount_precision: number;
    min_base_lots: bigint;
    min_quote_amount: bigint;
    price_band_bps: number;
    max_open_orders_per_user: number;
    price_step_ticks: bigint;
    amount_step_lots: bigint;
    listed_rules: { minBaseLots: string; minQuoteAmount: string; priceBandBps: number } | null;
  }>(sql`
    SELECT m.symbol, b.decimals AS base_decimals, q.decimals AS quote_decimals,
           m.price_precision, m.amount_precision, m.min_base_lots, m.min_quote_amount,
           m.price_band_bps, m.max_open_orders_per_user, m.price_step_ticks, m.amount_step_lots,
           m.listed_rules
      FROM markets m
      JOIN assets b ON b.symbol = m.base
      JOIN assets q ON q.symbol = m.quote
      ${filter}`);
  return new Map(
    found.rows.map((r) => [
      r.symbol,
      {
        symbol: r.symbol,
        baseDecimals: r.base_decimals,
        quoteDecimals: r.quote_decimals,
        pricePrecision: r.price_precision,
        amountPrecision: r.amount_precision,
        minBaseLots: r.min_base_lots,
        minQuoteAmount: r.min_quote_amount,
        priceBandBps: r.price_band_bps,
        maxOpenOrdersPerUser: r.max_open_orders_per_user,
        priceStepTicks: BigInt(r.price_step_ticks),
        amountStepLots: BigInt(r.amount_step_lots),
        listed:
          r.listed_rules === null
            ? null
            : {
                minBaseLots: BigInt(r.listed_rules.minBaseLots),
                minQuoteAmount: BigInt(r.listed_rules.minQuoteAmount),
                priceBandBps: r.listed_rules.priceBandBps,
              },
      },
    ]),
  );
}
