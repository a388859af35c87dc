// admin.markets.list: every market with what an operator tunes — precisions, minimums, fees,
// price band, open-order limit — its status in PostgreSQL and its live halt in etcd (with who
// halted it and why), and how many orders are live in it.
import { type Database, formatMinor, schema } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { breakers, isServiceUnavailable } from "@spotx/platform/breakers";
import type { Etcd3 } from "@spotx/platform/etcd";
import type { Topology } from "@spotx/platform/topology";
import { asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { parseLive } from "../../../admin/market-halts";
import { operatorProcedure } from "../../../trpc";

const liveHalt = z.object({
  halted: z.boolean(),
  reason: z.string().nullable(),
  by: z.string().nullable(),
  updatedAt: z.string(),
});

export const adminMarket = z.object({
  symbol: z.string(),
  base: z.string(),
  quote: z.string(),
  pricePrecision: z.number().int(),
  amountPrecision: z.number().int(),
  /** The current tick and lot (multiples of 10^-precision; see change-rules.ts). */
  tickSize: z.string(),
  lotSize: z.string(),
  minBaseAmount: z.string(),
  minQuoteAmount: z.string(),
  makerFeePercent: z.string(),
  takerFeePercent: z.string(),
  priceBandPercent: z.string(),
  maxOpenOrdersPerUser: z.number().int(),
  /** markets.status, the durable record (`closed`: delisted for good). */
  status: z.enum(["trading", "halted", "closed"]),
  /** The live halt in etcd; null when the market has no key (trading) or etcd is unavailable. */
  live: liveHalt.nullable(),
  liveUnavailable: z.boolean(),
  liveOrders: z.number().int(),
  createdAt: z.date(),
});
export type AdminMarket = z.infer<typeof adminMarket>;

type MarketRow = typeof schema.markets.$inferSelect;

/** A fee in parts per million as a percent string: 1000 → "0.1". */
export const ppmPercent = (ppm: number) => unitsToDecimal(BigInt(ppm), 4);
/** A band in basis points as a percent string: 1000 → "10". */
export const bpsPercent = (bps: number) => unitsToDecimal(BigInt(bps), 2);

export function presentMarket(
  m: MarketRow,
  quoteDecimals: number,
  live: { config: z.infer<typeof liveHalt> | null; unavailable: boolean },
  liveOrders: number,
): AdminMarket {
  return {
    symbol: m.symbol,
    base: m.base,
    quote: m.quote,
    pricePrecision: m.pricePrecision,
    amountPrecision: m.amountPrecision,
    tickSize: unitsToDecimal(m.priceStepTicks, m.pricePrecision),
    lotSize: unitsToDecimal(m.amountStepLots, m.amountPrecision),
    minBaseAmount: unitsToDecimal(m.minBaseLots, m.amountPrecision),
    minQuoteAmount: formatMinor(m.minQuoteAmount, quoteDecimals),
    makerFeePercent: ppmPercent(m.makerFeePpm),
    takerFeePercent: ppmPercent(m.takerFeePpm),
    priceBandPercent: bpsPercent(m.priceBandBps),
    maxOpenOrdersPerUser: m.maxOpenOrdersPerUser,
    status: m.status,
    live: live.config,
    liveUnavailable: live.unavailable,
    liveOrders,
    createdAt: m.createdAt,
  };
}

/** Markets as operators see them (all, or the named ones). */
export async function loadAdminMarkets(
  db: Database,
  etcd: Etcd3,
  names: Topology,
  symbols?: readonly string[],
): Promise<AdminMarket[]> {
  const { markets, assets, orders } = schema;
  const filter = symbols ? inArray(markets.symbol, [...symbols]) : undefined;
  const [rows, counts] = await Promise.all([
    db
      .select({ market: markets, quoteDecimals: assets.decimals })
      .from(markets)
      .innerJoin(assets, eq(assets.symbol, markets.quote))
      .where(filter)
      .orderBy(asc(markets.symbol)),
    db
      .select({ market: orders.market, live: sql<number>`count(*)::int` })
      .from(orders)
      .where(sql`${orders.status} IN ('pending', 'open')`)
      .groupBy(orders.market),
  ]);
  let configs: Record<string, string> = {};
  let unavailable = false;
  try {
    configs = await breakers.etcd.run(() =>
      etcd.getAll().prefix(names.etcd.marketConfigPrefix).strings(),
    );
  } catch (error) {
    // The list stays useful without etcd: it says the live halts are unknown.
    if (!isServiceUnavailable(error)) throw error;
    unavailable = true;
  }
  return rows.map(({ market, quoteDecimals }) =>
    presentMarket(
      market,
      quoteDecimals,
      {
        config: parseLive(configs[names.etcd.marketConfig(market.symbol)] ?? null),
        unavailable,
      },
      counts.find((c) => c.market === market.symbol)?.live ?? 0,
    ),
  );
}

export const listMarketsProcedure = operatorProcedure
  .output(z.array(adminMarket))
  .query(({ ctx }) => loadAdminMarkets(ctx.db, ctx.services.etcd, ctx.services.names));
