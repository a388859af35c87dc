// The system of record's tables. Amounts are integers in each asset's minor units (int8,
// bigint in TypeScript); prices are integers in ticks of the market's price precision.
// Invariants that must hold whatever code runs are constraints here, not just checks in code.
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  smallint,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

export const userRole = pgEnum("user_role", ["trader", "operator"]);
export const userStatus = pgEnum("user_status", ["active", "frozen"]);
export const marketStatus = pgEnum("market_status", ["trading", "halted"]);

export const users = pgTable(
  "users",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    email: text("email").notNull().unique(),
    passwordHash: text("password_hash").notNull(),
    role: userRole("role").notNull().default("trader"),
    status: userStatus("status").notNull().default("active"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("users_email_lowercase", sql`${t.email} = lower(${t.email})`)],
);

export const assets = pgTable(
  "assets",
  {
    symbol: text("symbol").primaryKey(),
    name: text("name").notNull(),
    /** Minor units per whole unit = 10^decimals. */
    decimals: smallint("decimals").notNull(),
    depositEnabled: boolean("deposit_enabled").notNull().default(true),
    withdrawEnabled: boolean("withdraw_enabled").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("assets_symbol_format", sql`${t.symbol} ~ '^[A-Z0-9]{2,12}$'`),
    check("assets_decimals_range", sql`${t.decimals} BETWEEN 0 AND 18`),
  ],
);

export const markets = pgTable(
  "markets",
  {
    /** gate.io's currency pair id, e.g. BTC_USDT. */
    symbol: text("symbol").primaryKey(),
    base: text("base")
      .notNull()
      .references(() => assets.symbol),
    quote: text("quote")
      .notNull()
      .references(() => assets.symbol),
    /** Price decimals: one tick is 10^-pricePrecision quote units. */
    pricePrecision: smallint("price_precision").notNull(),
    /** Amount decimals: one lot is 10^-amountPrecision base units. */
    amountPrecision: smallint("amount_precision").notNull(),
    /** Smallest order, in lots. */
    minBaseLots: bigint("min_base_lots", { mode: "bigint" }).notNull(),
    /** Smallest order value, in quote minor units. */
    minQuoteAmount: bigint("min_quote_amount", { mode: "bigint" }).notNull(),
    /** Fee rates in parts per million of the traded amount (0.1 % = 1000). */
    makerFeePpm: integer("maker_fee_ppm").notNull(),
    takerFeePpm: integer("taker_fee_ppm").notNull(),
    /** Limit prices further than this from the last trade are rejected (basis points). */
    priceBandBps: integer("price_band_bps").notNull().default(1000),
    maxOpenOrdersPerUser: integer("max_open_orders_per_user").notNull().default(200),
    status: marketStatus("status").notNull().default("trading"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("markets_base_quote").on(t.base, t.quote),
    check("markets_symbol_format", sql`${t.symbol} = ${t.base} || '_' || ${t.quote}`),
    check(
      "markets_precision_range",
      sql`${t.pricePrecision} BETWEEN 0 AND 18 AND ${t.amountPrecision} BETWEEN 0 AND 18`,
    ),
    check("markets_minimums_positive", sql`${t.minBaseLots} > 0 AND ${t.minQuoteAmount} > 0`),
    check(
      "markets_fees_range",
      sql`${t.makerFeePpm} BETWEEN 0 AND 100000 AND ${t.takerFeePpm} BETWEEN 0 AND 100000`,
    ),
    check("markets_price_band_positive", sql`${t.priceBandBps} > 0`),
  ],
);
