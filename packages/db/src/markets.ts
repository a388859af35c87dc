// Markets as the ledger needs them: symbol, assets, precisions and fee rates, with the unit
// scales checked on the way in (createMarket) and on the way out (loadMarket).
import { sql } from "drizzle-orm";
import type { Database, Transaction } from "./client";
import { LedgerError } from "./errors";
import { markets } from "./schema";
import { type MarketScales, type MarketUnits, marketScales } from "./units";

export type MarketSpec = MarketUnits &
  MarketScales & {
    status: "trading" | "halted";
    minBaseLots: bigint;
    minQuoteAmount: bigint;
    makerFeePpm: number;
    takerFeePpm: number;
  };

export async function loadMarket(tx: Transaction | Database, symbol: string): Promise<MarketSpec> {
  const found = await tx.execute<{
    symbol: string;
    base: string;
    quote: string;
    base_decimals: number;
    quote_decimals: number;
    price_precision: number;
    amount_precision: number;
    status: "trading" | "halted";
    min_base_lots: bigint;
    min_quote_amount: bigint;
    maker_fee_ppm: number;
    taker_fee_ppm: number;
  }>(sql`
    SELECT m.symbol, m.base, m.quote, b.decimals AS base_decimals, q.decimals AS quote_decimals,
           m.price_precision, m.amount_precision, m.status, m.min_base_lots, m.min_quote_amount,
           m.maker_fee_ppm, m.taker_fee_ppm
      FROM markets m
      JOIN assets b ON b.symbol = m.base
      JOIN assets q ON q.symbol = m.quote
     WHERE m.symbol = ${symbol}`);
  const row = found.rows[0];
  if (!row) throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${symbol}`);
  const units: MarketUnits = {
    symbol: row.symbol,
    base: row.base,
    quote: row.quote,
    baseDecimals: row.base_decimals,
    quoteDecimals: row.quote_decimals,
    pricePrecision: row.price_precision,
    amountPrecision: row.amount_precision,
  };
  return {
    ...units,
    ...marketScales(units),
    status: row.status,
    minBaseLots: row.min_base_lots,
    minQuoteAmount: row.min_quote_amount,
    makerFeePpm: row.maker_fee_ppm,
    takerFeePpm: row.taker_fee_ppm,
  };
}

export type NewMarket = typeof markets.$inferInsert;

/** Validates the market's precisions against its assets' decimals, then inserts it. */
export async function createMarket(db: Database, market: NewMarket): Promise<MarketSpec> {
  return db.transaction(async (tx) => {
    const decimals = await tx.execute<{ symbol: string; decimals: number }>(
      sql`SELECT symbol, decimals FROM assets WHERE symbol IN (${market.base}, ${market.quote})`,
    );
    const of = (symbol: string) => {
      const row = decimals.rows.find((r) => r.symbol === symbol);
      if (!row) throw new LedgerError("INVALID_PARAM_VALUE", `unknown asset ${symbol}`);
      return row.decimals;
    };
    marketScales({
      symbol: market.symbol,
      base: market.base,
      quote: market.quote,
      baseDecimals: of(market.base),
      quoteDecimals: of(market.quote),
      pricePrecision: market.pricePrecision,
      amountPrecision: market.amountPrecision,
    });
    await tx.insert(markets).values(market);
    return loadMarket(tx, market.symbol);
  });
}
