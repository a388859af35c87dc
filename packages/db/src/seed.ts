// Demo data for a fresh exchange: three assets, two markets, one operator and two traders with
// demo balances. Safe to run on every start: rows that exist are left alone, and the balances
// are deposits with stable references, so they are credited once.
import { eq } from "drizzle-orm";
import type { Database } from "./client";
import { deposit } from "./ledger";
import { hashPassword } from "./passwords";
import { assets, markets, users } from "./schema";
import { marketScales } from "./units";

export const DEMO_ASSETS = [
  { symbol: "BTC", name: "Bitcoin", decimals: 8 },
  { symbol: "ETH", name: "Ethereum", decimals: 8 },
  { symbol: "USDT", name: "Tether USD", decimals: 6 },
] as const;

// price precision + amount precision never exceeds the quote asset's decimals, so
// price × amount is always a whole number of quote minor units: no rounding in matching.
export const DEMO_MARKETS = [
  {
    symbol: "BTC_USDT",
    base: "BTC",
    quote: "USDT",
    pricePrecision: 2,
    amountPrecision: 4,
    minBaseLots: 1n, // 0.0001 BTC
    minQuoteAmount: 1_000_000n, // 1 USDT
    makerFeePpm: 1_000, // 0.1 %
    takerFeePpm: 2_000, // 0.2 %
    priceBandBps: 1_000, // ±10 % of the last trade
    maxOpenOrdersPerUser: 200,
  },
  {
    symbol: "ETH_USDT",
    base: "ETH",
    quote: "USDT",
    pricePrecision: 2,
    amountPrecision: 4,
    minBaseLots: 10n, // 0.001 ETH
    minQuoteAmount: 1_000_000n,
    makerFeePpm: 1_000,
    takerFeePpm: 2_000,
    priceBandBps: 1_000,
    maxOpenOrdersPerUser: 200,
  },
] as const;

export const DEMO_USERS = [
  { email: "operator@spotx.dev", password: "operator-demo", role: "operator" },
  { email: "trader1@spotx.dev", password: "trader1-demo", role: "trader" },
  { email: "trader2@spotx.dev", password: "trader2-demo", role: "trader" },
] as const;

/** What each demo trader is given, in whole units; deposited as `seed:<email>:<asset>`. */
export const DEMO_BALANCES = { BTC: 10n, ETH: 100n, USDT: 1_000_000n } as const;

export type SeedResult = { created: boolean; users: typeof DEMO_USERS };

export async function seedDemo(db: Database): Promise<SeedResult> {
  for (const market of DEMO_MARKETS) {
    const decimals = (symbol: string) =>
      DEMO_ASSETS.find((a) => a.symbol === symbol)?.decimals ?? Number.NaN;
    marketScales({
      ...market,
      baseDecimals: decimals(market.base),
      quoteDecimals: decimals(market.quote),
    });
  }
  let created = false;
  await db.transaction(async (tx) => {
    const insertedAssets = await tx
      .insert(assets)
      .values([...DEMO_ASSETS])
      .onConflictDoNothing()
      .returning();
    const insertedMarkets = await tx
      .insert(markets)
      .values([...DEMO_MARKETS])
      .onConflictDoNothing()
      .returning();
    created = insertedAssets.length + insertedMarkets.length > 0;
    for (const user of DEMO_USERS) {
      const existing = await tx
        .select({ id: users.id })
        .from(users)
        .where(eq(users.email, user.email));
      if (existing.length > 0) continue;
      await tx.insert(users).values({
        email: user.email,
        passwordHash: await hashPassword(user.password),
        role: user.role,
      });
      created = true;
    }
  });
  for (const user of DEMO_USERS) {
    if (user.role !== "trader") continue;
    const found = await db.select({ id: users.id }).from(users).where(eq(users.email, user.email));
    const userId = found[0]?.id;
    if (userId === undefined) throw new Error(`demo user ${user.email} missing after seeding`);
    for (const [symbol, whole] of Object.entries(DEMO_BALANCES)) {
      const asset = DEMO_ASSETS.find((a) => a.symbol === symbol);
      if (!asset) throw new Error(`demo balance in unknown asset ${symbol}`);
      const outcome = await deposit(db, {
        userId,
        asset: symbol,
        amount: whole * 10n ** BigInt(asset.decimals),
        ref: `seed:${user.email}:${symbol}`,
      });
      if (!outcome.duplicate) created = true;
    }
  }
  return { created, users: DEMO_USERS };
}
