// Markets as the ledger needs them: symbol, assets, precisions and fee rates, with the unit
// scales checked on the way in (createMarket) and on the way out (loadMarket).
import { sql } from "drizzle-orm";
import type { Database, Transaction } from "./client";
import { LedgerError } from "./errors";
import {
  requireAmount,
  requireAssetSymbol,
  requireMarketSymbol,
  requireObject,
  requireOneOf,
  requireText,
  showValue,
} from "./input";
import { assets, markets } from "./schema";
import { type MarketScales, type MarketUnits, marketScales } from "./units";

export type MarketSpec = MarketUnits &
  MarketScales & {
    status: "trading" | "halted" | "closed";
    minBaseLots: bigint;
    minQuoteAmount: bigint;
    makerFeePpm: number;
    takerFeePpm: number;
    /** The tick in price units and the lot in amount units (≥ 1; see decisions/006). */
    priceStepTicks: bigint;
    amountStepLots: bigint;
  };

/** A market's row with its assets' decimals, as the ledger reads it. */
export type MarketRow = {
  symbol: string;
  base: string;
  quote: string;
  base_decimals: number;
  quote_decimals: number;
  price_precision: number;
  amount_precision: number;
  status: "trading" | "halted" | "closed";
  min_base_lots: bigint;
  min_quote_amount: bigint;
  maker_fee_ppm: number;
  taker_fee_ppm: number;
  /** Absent in reads that do not need the steps: 1. */
  price_step_ticks?: bigint;
  amount_step_lots?: bigint;
};

/** The market as the ledger works with it, from its row (the unit scales checked). */
export function toSpec(row: MarketRow): MarketSpec {
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
    priceStepTicks: row.price_step_ticks === undefined ? 1n : BigInt(row.price_step_ticks),
    amountStepLots: row.amount_step_lots === undefined ? 1n : BigInt(row.amount_step_lots),
  };
}

/** Several markets in one query, keyed by symbol; unknown symbols are simply absent. */
export async function loadMarkets(
  tx: Transaction | Database,
  symbols: readonly string[],
): Promise<Map<string, MarketSpec>> {
  if (!Array.isArray(symbols) || symbols.some((s) => typeof s !== "string")) {
    throw new LedgerError("INVALID_PARAM_VALUE", "markets are named by a list of symbols");
  }
  // A name that cannot be a market's is simply not found, like an unknown one.
  const wanted = [...new Set(symbols)].filter((s) => /^[A-Z0-9]{2,12}_[A-Z0-9]{2,12}$/.test(s));
  if (wanted.length === 0) return new Map();
  const found = await tx.execute<MarketRow>(sql`
    SELECT m.symbol, m.base, m.quote, b.decimals AS base_decimals, q.decimals AS quote_decimals,
           m.price_precision, m.amount_precision, m.status, m.min_base_lots, m.min_quote_amount,
           m.maker_fee_ppm, m.taker_fee_ppm, m.price_step_ticks, m.amount_step_lots
      FROM markets m
      JOIN assets b ON b.symbol = m.base
      JOIN assets q ON q.symbol = m.quote
     WHERE m.symbol = ANY(${sql.param(wanted)}::text[])`);
  return new Map(found.rows.map((row) => [row.symbol, toSpec(row)]));
}

export async function loadMarket(tx: Transaction | Database, symbol: string): Promise<MarketSpec> {
  const market = (await loadMarkets(tx, [requireMarketSymbol(symbol)])).get(symbol);
  if (!market) throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${symbol}`);
  return market;
}

/**
 * The most decimals an asset may have: a balance (int8, at most 2^63 − 1 minor units) must be
 * able to hold a billion whole units, 10^(9 + decimals) ≤ 2^63 − 1. An 18-decimal asset could
 * not hold ten whole units in one balance. The CHECK assets_supply_fits_balance says the same.
 */
export const MAX_ASSET_DECIMALS = 9;

export type NewAsset = {
  symbol: string;
  name: string;
  decimals: number;
  depositEnabled?: boolean;
  withdrawEnabled?: boolean;
};

/** Adds an asset (its system accounts come with it, by trigger); refuses decimals a balance cannot carry. */
export async function createAsset(db: Database, input: NewAsset): Promise<NewAsset> {
  const a = requireObject(input, "asset");
  const symbol = requireAssetSymbol(a.symbol, "symbol");
  const name = requireText(a.name, "name", 100);
  if (
    typeof a.decimals !== "number" ||
    !Number.isInteger(a.decimals) ||
    a.decimals < 0 ||
    a.decimals > MAX_ASSET_DECIMALS
  ) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `an asset has 0 to ${MAX_ASSET_DECIMALS} decimals (a balance must hold a billion whole units), got ${showValue(a.decimals)}`,
    );
  }
  for (const flag of ["depositEnabled", "withdrawEnabled"] as const) {
    if (a[flag] !== undefined && typeof a[flag] !== "boolean") {
      throw new LedgerError("INVALID_PARAM_VALUE", `${flag} must be true or false`);
    }
  }
  const inserted = await db
    .insert(assets)
    .values({
      symbol,
      name,
      decimals: a.decimals,
      depositEnabled: (a.depositEnabled as boolean | undefined) ?? true,
      withdrawEnabled: (a.withdrawEnabled as boolean | undefined) ?? true,
    })
    .onConflictDoNothing()
    .returning();
  const row = inserted[0];
  if (!row) throw new LedgerError("ASSET_EXISTS", `asset ${symbol} already exists`);
  return {
    symbol: row.symbol,
    name: row.name,
    decimals: row.decimals,
    depositEnabled: row.depositEnabled,
    withdrawEnabled: row.withdrawEnabled,
  };
}

export type NewMarket = typeof markets.$inferInsert;

function requireInt(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `${what} must be a whole number from ${min} to ${max}, got ${showValue(value)}`,
    );
  }
  return value;
}

/**
 * Validates the market (fields, precisions against its assets' decimals), then inserts it. Given
 * a transaction, it works inside it (a savepoint), so the caller's audit row commits with it.
 */
export async function createMarket(
  db: Database | Transaction,
  input: NewMarket,
): Promise<MarketSpec> {
  const m = requireObject(input, "market");
  const base = requireAssetSymbol(m.base, "base");
  const quote = requireAssetSymbol(m.quote, "quote");
  const symbol = requireMarketSymbol(m.symbol);
  if (symbol !== `${base}_${quote}`) {
    throw new LedgerError("INVALID_CURRENCY_PAIR", `market ${symbol} is not ${base}_${quote}`);
  }
  if (base === quote) {
    throw new LedgerError(
      "INVALID_CURRENCY_PAIR",
      `a market trades two assets, not ${base} for itself`,
    );
  }
  const optionalInt = (value: unknown, what: string, min: number, max: number) =>
    value === undefined ? undefined : requireInt(value, what, min, max);
  const market: NewMarket = {
    symbol,
    base,
    quote,
    pricePrecision: requireInt(m.pricePrecision, "pricePrecision", 0, 18),
    amountPrecision: requireInt(m.amountPrecision, "amountPrecision", 0, 18),
    minBaseLots: requireAmount(m.minBaseLots, "minBaseLots"),
    minQuoteAmount: requireAmount(m.minQuoteAmount, "minQuoteAmount"),
    makerFeePpm: requireInt(m.makerFeePpm, "makerFeePpm", 0, 100_000),
    takerFeePpm: requireInt(m.takerFeePpm, "takerFeePpm", 0, 100_000),
    priceBandBps: optionalInt(m.priceBandBps, "priceBandBps", 1, 1_000_000),
    maxOpenOrdersPerUser: optionalInt(m.maxOpenOrdersPerUser, "maxOpenOrdersPerUser", 1, 1_000_000),
    status:
      m.status === undefined
        ? undefined
        : requireOneOf(m.status, ["trading", "halted"] as const, "status"),
    // A market is listed trading or halted; only a delisting closes it.
  };
  return db.transaction(async (tx) => {
    const decimals = await tx.execute<{ symbol: string; decimals: number }>(
      sql`SELECT symbol, decimals FROM assets WHERE symbol IN (${base}, ${quote})`,
    );
    const of = (asset: string) => {
      const row = decimals.rows.find((r) => r.symbol === asset);
      if (!row) throw new LedgerError("UNKNOWN_ASSET", `unknown asset ${asset}: list it first`);
      return row.decimals;
    };
    marketScales({
      symbol,
      base,
      quote,
      baseDecimals: of(base),
      quoteDecimals: of(quote),
      pricePrecision: market.pricePrecision,
      amountPrecision: market.amountPrecision,
    });
    const inserted = await tx.insert(markets).values(market).onConflictDoNothing().returning();
    if (inserted.length === 0) {
      throw new LedgerError("MARKET_EXISTS", `market ${symbol} already exists`);
    }
    return loadMarket(tx, symbol);
  });
}

export type Delisting = {
  /** The status it had: trading or halted. */
  previous: "trading" | "halted";
  /** Orders live when it closed (the engine's delist cancels each). */
  liveOrders: number;
  /** Price orders waiting when it closed (the delisting's settlement ends each). */
  openPriceOrders: number;
};

/**
 * Closes a market for good and queues the engine's `delist` command (`command`, an outbox row
 * keyed by the market), in the caller's transaction: from its commit, placement refuses the
 * market (MARKET_CLOSED) and the engine delists it in its log's order. The market's row is taken
 * exclusively, so a price order being created (which shares it) is either seen here and ended by
 * the delisting's settlement, or finds the market closed. INVALID_CURRENCY_PAIR for an unknown
 * market, MARKET_CLOSED for one delisted already.
 */
export async function delistMarket(
  tx: Transaction,
  symbol: string,
  command: { topic: string; payload: unknown; headers?: Record<string, string> },
): Promise<Delisting> {
  requireMarketSymbol(symbol);
  const c = requireObject(command, "command");
  const topic = requireText(c.topic, "command.topic", 200);
  if (c.payload === undefined) {
    throw new LedgerError("INVALID_PARAM_VALUE", "command.payload is required");
  }
  const headers = c.headers === undefined ? {} : requireObject(c.headers, "command.headers");
  const found = await tx.execute<{ status: "trading" | "halted" | "closed" }>(
    sql`SELECT status FROM markets WHERE symbol = ${symbol} FOR UPDATE`,
  );
  const row = found.rows[0];
  if (!row) throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${symbol}`);
  if (row.status === "closed") {
    throw new LedgerError("MARKET_CLOSED", `${symbol} is delisted already`);
  }
  const counts = await tx.execute<{ orders: number; price_orders: number }>(sql`
    SELECT (SELECT count(*)::int FROM orders
             WHERE market = ${symbol} AND status IN ('pending', 'open')) AS orders,
           (SELECT count(*)::int FROM price_orders
             WHERE market = ${symbol} AND status = 'open') AS price_orders`);
  await tx.execute(sql`UPDATE markets SET status = 'closed' WHERE symbol = ${symbol}`);
  await tx.execute(sql`
    INSERT INTO outbox (topic, key, payload, headers)
    VALUES (${topic}, ${symbol}, ${JSON.stringify(c.payload)}::jsonb,
            ${JSON.stringify(headers)}::jsonb)`);
  return {
    previous: row.status,
    liveOrders: counts.rows[0]?.orders ?? 0,
    openPriceOrders: counts.rows[0]?.price_orders ?? 0,
  };
}
