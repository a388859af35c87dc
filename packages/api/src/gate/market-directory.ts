// The markets and currencies as the gate.io API presents them, read from PostgreSQL and kept
// for a couple of seconds (every request needs a market's precisions; few change them). A
// market is tradable unless it is halted in the database or by an operator's live halt in etcd.
import { type Database, schema } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { engineBounds, type MarketPrecision } from "@spotx/protocol";
import { asc, eq } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { Refreshing } from "../single-flight";
import type { HaltSource } from "../trading/trading-service";
import { GateError } from "./errors";

export type GateMarket = MarketPrecision & {
  baseName: string;
  quoteName: string;
  /** `closed`: delisted; its pair shows `trade_status: "untradable"`, its history stays. */
  status: "trading" | "halted" | "closed";
  minBaseLots: bigint;
  minQuoteAmount: bigint;
  makerFeePpm: number;
  takerFeePpm: number;
  /** The largest order value the engine accepts, in quote minor units. */
  maxQuoteAmount: bigint;
  /** The largest amount, in lots. */
  maxLots: bigint;
  /** The tick and the lot as multiples of the listing units (decisions/006). */
  priceStepTicks: bigint;
  amountStepLots: bigint;
  createdAt: Date;
};

export type GateAsset = {
  symbol: string;
  name: string;
  decimals: number;
  depositEnabled: boolean;
  withdrawEnabled: boolean;
};

/** gate.io's CurrencyPair object. */
export type CurrencyPairObject = {
  id: string;
  base: string;
  base_name: string;
  quote: string;
  quote_name: string;
  fee: string;
  min_base_amount: string;
  min_quote_amount: string;
  max_base_amount: string;
  max_quote_amount: string;
  amount_precision: number;
  precision: number;
  trade_status: "tradable" | "untradable";
  sell_start: number;
  buy_start: number;
  type: "normal";
};

/** gate.io's Currency object. */
export type CurrencyObject = {
  currency: string;
  name: string;
  delisted: boolean;
  withdraw_disabled: boolean;
  withdraw_delayed: boolean;
  deposit_disabled: boolean;
  trade_disabled: boolean;
  chain: string;
};

const PAIR = /^[A-Z0-9]{2,12}_[A-Z0-9]{2,12}$/;
const CURRENCY = /^[A-Z0-9]{2,12}$/;

export class MarketDirectory {
  private readonly marketsCache: Refreshing<Map<string, GateMarket>>;
  private readonly assetsCache: Refreshing<Map<string, GateAsset>>;

  constructor(
    private readonly db: Database,
    private readonly halts: HaltSource,
    cacheMs = 2_000,
  ) {
    this.marketsCache = new Refreshing(() => this.loadMarkets(), cacheMs);
    this.assetsCache = new Refreshing(() => this.loadAssets(), cacheMs);
  }

  /** Every market, read at most once per `cacheMs` however many requests ask meanwhile. */
  markets(): Promise<Map<string, GateMarket>> {
    return this.marketsCache.get();
  }

  private async loadMarkets(): Promise<Map<string, GateMarket>> {
    const { markets } = schema;
    const base = alias(schema.assets, "base_asset");
    const quote = alias(schema.assets, "quote_asset");
    const rows = await this.db
      .select({ market: markets, base, quote })
      .from(markets)
      .innerJoin(base, eq(base.symbol, markets.base))
      .innerJoin(quote, eq(quote.symbol, markets.quote))
      .orderBy(asc(markets.symbol));
    const value = new Map<string, GateMarket>();
    for (const { market, base: b, quote: q } of rows) {
      const bounds = engineBounds({
        symbol: market.symbol,
        baseDecimals: b.decimals,
        quoteDecimals: q.decimals,
        pricePrecision: market.pricePrecision,
        amountPrecision: market.amountPrecision,
        minBaseLots: market.minBaseLots,
        minQuoteAmount: market.minQuoteAmount,
        priceBandBps: market.priceBandBps,
        maxOpenOrdersPerUser: market.maxOpenOrdersPerUser,
      });
      value.set(market.symbol, {
        symbol: market.symbol,
        base: market.base,
        quote: market.quote,
        baseName: b.name,
        quoteName: q.name,
        pricePrecision: market.pricePrecision,
        amountPrecision: market.amountPrecision,
        baseDecimals: b.decimals,
        quoteDecimals: q.decimals,
        status: market.status,
        minBaseLots: market.minBaseLots,
        minQuoteAmount: market.minQuoteAmount,
        makerFeePpm: market.makerFeePpm,
        takerFeePpm: market.takerFeePpm,
        maxQuoteAmount: bounds.maxQuoteAmount,
        maxLots: bounds.maxQuantity,
        priceStepTicks: market.priceStepTicks,
        amountStepLots: market.amountStepLots,
        createdAt: market.createdAt,
      });
    }
    return value;
  }

  /** The market named by a `currency_pair`, or INVALID_CURRENCY_PAIR. */
  async market(symbol: string): Promise<GateMarket> {
    const found = PAIR.test(symbol) ? (await this.markets()).get(symbol) : undefined;
    if (!found) throw new GateError("INVALID_CURRENCY_PAIR", `unknown currency pair ${symbol}`);
    return found;
  }

  /** Every asset, read at most once per `cacheMs`. */
  assets(): Promise<Map<string, GateAsset>> {
    return this.assetsCache.get();
  }

  private async loadAssets(): Promise<Map<string, GateAsset>> {
    const rows = await this.db.select().from(schema.assets).orderBy(asc(schema.assets.symbol));
    return new Map(rows.map((a) => [a.symbol, a]));
  }

  /** The asset named, or a GateError: INVALID_PARAM_VALUE for a parameter, NOT_FOUND for a path. */
  async asset(
    symbol: string,
    label: "INVALID_PARAM_VALUE" | "NOT_FOUND" = "INVALID_PARAM_VALUE",
  ): Promise<GateAsset> {
    const found = CURRENCY.test(symbol) ? (await this.assets()).get(symbol) : undefined;
    if (!found) throw new GateError(label, `unknown currency ${symbol}`);
    return found;
  }

  tradable(market: GateMarket): boolean {
    return market.status === "trading" && !this.halts.get(market.symbol).halted;
  }

  pairObject(m: GateMarket): CurrencyPairObject {
    const start = Math.floor(m.createdAt.getTime() / 1000);
    return {
      id: m.symbol,
      base: m.base,
      base_name: m.baseName,
      quote: m.quote,
      quote_name: m.quoteName,
      // gate.io's `fee` is the taker rate, in percent: 2000 ppm → "0.2".
      fee: unitsToDecimal(BigInt(m.takerFeePpm), 4),
      min_base_amount: unitsToDecimal(m.minBaseLots, m.amountPrecision),
      min_quote_amount: unitsToDecimal(m.minQuoteAmount, m.quoteDecimals),
      max_base_amount: unitsToDecimal(m.maxLots, m.amountPrecision),
      max_quote_amount: unitsToDecimal(m.maxQuoteAmount, m.quoteDecimals),
      // The decimals of the current tick and lot: a tick of 0.05 (5 units of 0.01) is 2, one of
      // 0.1 is 1. gate.io has no step field; prices off the step are refused INVALID_PRECISION.
      amount_precision: stepDecimals(m.amountStepLots, m.amountPrecision),
      precision: stepDecimals(m.priceStepTicks, m.pricePrecision),
      trade_status: this.tradable(m) ? "tradable" : "untradable",
      sell_start: start,
      buy_start: start,
      type: "normal",
    };
  }

  async currencyObject(asset: GateAsset): Promise<CurrencyObject> {
    const markets = [...(await this.markets()).values()];
    const traded = markets.some(
      (m) => (m.base === asset.symbol || m.quote === asset.symbol) && this.tradable(m),
    );
    return {
      currency: asset.symbol,
      name: asset.name,
      delisted: false,
      withdraw_disabled: !asset.withdrawEnabled,
      withdraw_delayed: false,
      deposit_disabled: !asset.depositEnabled,
      trade_disabled: !traded,
      // spotx keeps no chains: the currency is its own.
      chain: asset.symbol,
    };
  }
}

/** Decimals of a step of `step` units of 10^-precision: trailing zeros of the step come off. */
export function stepDecimals(step: bigint, precision: number): number {
  let decimals = precision;
  let rest = step;
  while (decimals > 0 && rest % 10n === 0n) {
    rest /= 10n;
    decimals -= 1;
  }
  return decimals;
}
