// What turns the ledger's integers into the decimal strings operators read: each asset's
// decimals and each market's price and amount precision. Both tables are small, so a console
// request loads them whole.
import { type Database, formatMinor, schema } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";

type MarketPrecision = {
  base: string;
  quote: string;
  pricePrecision: number;
  amountPrecision: number;
};

export class MarketUnits {
  constructor(
    private readonly assets: ReadonlyMap<string, number>,
    private readonly markets: ReadonlyMap<string, MarketPrecision>,
  ) {}

  static async load(db: Database): Promise<MarketUnits> {
    const [assetRows, marketRows] = await Promise.all([
      db
        .select({ symbol: schema.assets.symbol, decimals: schema.assets.decimals })
        .from(schema.assets),
      db
        .select({
          symbol: schema.markets.symbol,
          base: schema.markets.base,
          quote: schema.markets.quote,
          pricePrecision: schema.markets.pricePrecision,
          amountPrecision: schema.markets.amountPrecision,
        })
        .from(schema.markets),
    ]);
    return new MarketUnits(
      new Map(assetRows.map((a) => [a.symbol, a.decimals])),
      new Map(marketRows.map((m) => [m.symbol, m])),
    );
  }

  decimals(asset: string): number {
    const decimals = this.assets.get(asset);
    if (decimals === undefined) throw new Error(`asset ${asset} has no decimals on record`);
    return decimals;
  }

  market(symbol: string): MarketPrecision {
    const market = this.markets.get(symbol);
    if (!market) throw new Error(`market ${symbol} has no precision on record`);
    return market;
  }

  /** An amount of `asset` in its minor units. */
  amount(asset: string, minor: bigint): string {
    return formatMinor(minor, this.decimals(asset));
  }

  /** A price in the market's ticks. */
  price(symbol: string, ticks: bigint): string {
    return unitsToDecimal(ticks, this.market(symbol).pricePrecision);
  }

  /** A base amount in the market's lots. */
  lots(symbol: string, lots: bigint): string {
    return unitsToDecimal(lots, this.market(symbol).amountPrecision);
  }
}
