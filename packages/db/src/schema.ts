// The system of record's tables. Amounts are integers in each asset's minor units (int8,
// bigint in TypeScript); prices are integers in ticks of the market's price precision.
// Invariants that must hold whatever code runs are constraints here, not just checks in code.
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

export const userRole = pgEnum("user_role", ["trader", "operator"]);
export const userStatus = pgEnum("user_status", ["active", "frozen"]);
/** `closed`: delisted for good (admin.markets.delist); its history stays readable. */
export const marketStatus = pgEnum("market_status", ["trading", "halted", "closed"]);

export const users = pgTable(
  "users",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    email: text("email").notNull().unique(),
    passwordHash: text("password_hash").notNull(),
    role: userRole("role").notNull().default("trader"),
    status: userStatus("status").notNull().default("active"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * Two-factor sign-in (TOTP, @spotx/api auth/two-factor): the shared secret, sealed like API
     * key secrets (AES-256-GCM under a key derived from the server key). Set at enrolment; in
     * force once `totp_enabled_at` is set.
     */
    totpSecretSealed: text("totp_secret_sealed"),
    totpEnabledAt: timestamp("totp_enabled_at", { withTimezone: true }),
    /** The last time step a code was accepted for: a code is good once (no replay). */
    totpLastStep: bigint("totp_last_step", { mode: "bigint" }),
    /** SHA-256 (hex) of each recovery code not yet used; a used one is removed. */
    totpRecoveryHashes: text("totp_recovery_hashes").array(),
  },
  (t) => [
    check("users_email_lowercase", sql`${t.email} = lower(${t.email})`),
    check(
      "users_totp_enabled_has_secret",
      sql`${t.totpEnabledAt} IS NULL OR ${t.totpSecretSealed} IS NOT NULL`,
    ),
  ],
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
    // A balance (int8) must hold at least a billion whole units: 10^(9 + decimals) ≤ 2^63 − 1.
    // An 18-decimal asset could not hold 10 units in one balance (see MAX_ASSET_DECIMALS).
    check("assets_supply_fits_balance", sql`${t.decimals} <= 9`),
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
    /**
     * The tick, in price units (10^-pricePrecision): prices must be multiples of it. The units
     * never change after listing; an operator's rules change moves the step (decisions/006).
     */
    priceStepTicks: bigint("price_step_ticks", { mode: "bigint" }).notNull().default(1n),
    /** The lot, in amount units (10^-amountPrecision): amounts must be multiples of it. */
    amountStepLots: bigint("amount_step_lots", { mode: "bigint" }).notNull().default(1n),
    /**
     * The engine rules the market listed with, kept by settlement when the first rules change
     * applies (null until then): an engine replaying the log from its start begins with them.
     */
    listedRules: jsonb("listed_rules").$type<{
      minBaseLots: string;
      minQuoteAmount: string;
      priceBandBps: number;
    }>(),
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
    check("markets_steps_positive", sql`${t.priceStepTicks} >= 1 AND ${t.amountStepLots} >= 1`),
  ],
);

// ---------------------------------------------------------------------------------------------
// API keys. The secret is needed in clear to verify HMAC signatures, so it cannot be hashed:
// it is sealed with AES-256-GCM under a server key (see apiKeys.ts) and stored as
// base64url(iv | tag | ciphertext).

export const apiKeyPermission = pgEnum("api_key_permission", ["read", "trade"]);

/** See `apiKeys.replayMode`. */
export const apiKeyReplayMode = pgEnum("api_key_replay_mode", ["gate", "strict"]);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    userId: bigint("user_id", { mode: "bigint" })
      .notNull()
      .references(() => users.id),
    /** The public key id sent in the KEY header. */
    key: text("key").notNull().unique(),
    secretSealed: text("secret_sealed").notNull(),
    permissions: apiKeyPermission("permissions").array().notNull(),
    /** Client addresses allowed to use the key (IPs or CIDRs); null allows any. */
    ipAllowlist: text("ip_allowlist").array(),
    /**
     * What the gate.io API does with an identical signed request inside the Timestamp window:
     * `gate` accepts it again (as gate.io does), `strict` refuses it (DUPLICATE_REQUEST).
     */
    replayMode: apiKeyReplayMode("replay_mode").notNull().default("gate"),
    label: text("label").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    index("api_keys_user").on(t.userId),
    check("api_keys_permissions_nonempty", sql`cardinality(${t.permissions}) > 0`),
  ],
);

// ---------------------------------------------------------------------------------------------
// The double-entry ledger. Every movement of money is a transfer with two or more entries;
// the entries of one transfer sum to zero per asset (checked in code and by a trigger, see
// drizzle/0002_ledger_invariants.sql). Entries and transfers are append-only.

/**
 * `user` accounts belong to a trader (one per user and asset, with a `balances` row);
 * system accounts exist once per asset: `external` is the outside world (deposits,
 * withdrawals), `fees` collects trading fees, `adjustment` balances operator corrections.
 */
export const accountKind = pgEnum("account_kind", ["user", "external", "fees", "adjustment"]);

/** Which part of an account an entry moves: user accounts have both, system accounts only `available`. */
export const ledgerBucket = pgEnum("ledger_bucket", ["available", "locked"]);

export const transferKind = pgEnum("transfer_kind", [
  "deposit",
  "hold",
  "release",
  "order_hold",
  "order_release",
  "trade",
  "withdrawal_hold",
  "withdrawal_payout",
  "withdrawal_return",
  "adjustment",
]);

export const accounts = pgTable(
  "accounts",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    kind: accountKind("kind").notNull(),
    userId: bigint("user_id", { mode: "bigint" }).references(() => users.id),
    asset: text("asset")
      .notNull()
      .references(() => assets.symbol),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("accounts_identity").on(t.kind, t.userId, t.asset).nullsNotDistinct(),
    check("accounts_owner", sql`(${t.kind} = 'user') = (${t.userId} IS NOT NULL)`),
  ],
);

/** A user account's balance, kept in step with its ledger entries in the same transaction. */
export const balances = pgTable(
  "balances",
  {
    accountId: bigint("account_id", { mode: "bigint" })
      .primaryKey()
      .references(() => accounts.id),
    userId: bigint("user_id", { mode: "bigint" })
      .notNull()
      .references(() => users.id),
    asset: text("asset")
      .notNull()
      .references(() => assets.symbol),
    available: bigint("available", { mode: "bigint" }).notNull().default(sql`0`),
    locked: bigint("locked", { mode: "bigint" }).notNull().default(sql`0`),
    /** Bumped on every change (gate.io's `update_id`). */
    updateId: bigint("update_id", { mode: "bigint" }).notNull().default(sql`0`),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("balances_user_asset").on(t.userId, t.asset),
    check("balances_non_negative", sql`${t.available} >= 0 AND ${t.locked} >= 0`),
  ],
);

export const transfers = pgTable("transfers", {
  id: bigserial("id", { mode: "bigint" }).primaryKey(),
  kind: transferKind("kind").notNull(),
  /** The idempotency key: applying the same operation twice finds this row and does nothing. */
  ref: text("ref").notNull().unique(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    // No FOREIGN KEY on transfer_id and account_id: row-level RI triggers on the hottest
    // insert path cost half of settlement's insert time. The statement-level trigger
    // ledger_entries_balanced checks both references for the whole statement at once, and
    // transfers and accounts can never be deleted (see 0002_ledger_invariants.sql).
    transferId: bigint("transfer_id", { mode: "bigint" }).notNull(),
    /** Position of the entry within its transfer. */
    idx: smallint("idx").notNull(),
    accountId: bigint("account_id", { mode: "bigint" }).notNull(),
    /** Copied from the account so the per-asset zero sum needs no join. */
    asset: text("asset").notNull(),
    bucket: ledgerBucket("bucket").notNull(),
    /** Signed, in the asset's minor units: positive credits the account, negative debits it. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
  },
  (t) => [
    primaryKey({ name: "ledger_entries_pk", columns: [t.transferId, t.idx] }),
    index("ledger_entries_account").on(t.accountId, t.transferId),
    check("ledger_entries_amount_nonzero", sql`${t.amount} <> 0`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Orders and trades. Prices are in ticks, amounts in lots, except a market buy whose amount is
// quote minor units (gate.io's "spend 300 USDT"). The hold an order keeps is in hold_asset's
// minor units; an order that has ended holds nothing (CHECK orders_ended_holds_nothing).

export const orderSide = pgEnum("order_side", ["buy", "sell"]);
export const orderType = pgEnum("order_type", ["limit", "market"]);
export const timeInForce = pgEnum("time_in_force", ["gtc", "ioc", "poc", "fok"]);
/** gate.io's open|closed|cancelled, plus `pending` (not yet accepted by the engine) and `rejected`. */
export const orderStatus = pgEnum("order_status", [
  "pending",
  "open",
  "closed",
  "cancelled",
  "rejected",
]);
export const orderFinishAs = pgEnum("order_finish_as", [
  "open",
  "filled",
  "cancelled",
  "ioc",
  "poc",
  "fok",
  "stp",
  "rejected",
  // spotx's own: cancelled by the market's delisting (gate.io's wire shows "cancelled").
  "delisted",
  // spotx's own: a rules change left it off the new tick or lot (gate.io's wire: "cancelled").
  "market_rules",
]);
export const stpAct = pgEnum("stp_act", ["cn", "co", "cb"]);

export const orders = pgTable(
  "orders",
  {
    /** Assigned by the database; the engine's order id. */
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    userId: bigint("user_id", { mode: "bigint" })
      .notNull()
      .references(() => users.id),
    market: text("market")
      .notNull()
      .references(() => markets.symbol),
    side: orderSide("side").notNull(),
    type: orderType("type").notNull(),
    timeInForce: timeInForce("time_in_force").notNull(),
    /** Limit price in ticks; null for market orders. */
    priceTicks: bigint("price_ticks", { mode: "bigint" }),
    /** Lots, or quote minor units for a market buy. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    filledBaseLots: bigint("filled_base_lots", { mode: "bigint" }).notNull().default(sql`0`),
    /** Quote minor units traded so far (gate.io's filled_total). */
    filledQuote: bigint("filled_quote", { mode: "bigint" }).notNull().default(sql`0`),
    /** Fee charged so far, in fee_asset minor units: the asset the order receives. */
    fee: bigint("fee", { mode: "bigint" }).notNull().default(sql`0`),
    feeAsset: text("fee_asset")
      .notNull()
      .references(() => assets.symbol),
    holdAsset: text("hold_asset")
      .notNull()
      .references(() => assets.symbol),
    /** The hold taken at placement, in hold_asset minor units. */
    holdAmount: bigint("hold_amount", { mode: "bigint" }).notNull(),
    /** What is still locked for this order. */
    holdRemaining: bigint("hold_remaining", { mode: "bigint" }).notNull(),
    status: orderStatus("status").notNull().default("pending"),
    finishAs: orderFinishAs("finish_as").notNull().default("open"),
    /**
     * Client order id (gate.io's `text`, "t-…"): a label, not a key — two orders may carry the
     * same one; a lookup by text finds the user's newest in the pair (packages/db/src/orders.ts).
     */
    text: text("text"),
    stpAct: stpAct("stp_act"),
    rejectReason: text("reject_reason"),
    /** gate.io's `amend_text`: the client's note on its latest amend request. */
    amendText: text("amend_text"),
    /** Amends the engine applied (settlement counts them); its hold then follows the amend. */
    amends: integer("amends").notNull().default(0),
    /** An amend request the engine has not answered yet: one at a time per order. */
    amendPending: boolean("amend_pending").notNull().default(false),
    /** What that request added to the hold, returned if the engine refuses the amend. */
    amendReserved: bigint("amend_reserved", { mode: "bigint" }).notNull().default(sql`0`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("orders_user_market_text")
      .on(t.userId, t.market, t.text, t.id)
      .where(sql`${t.text} IS NOT NULL`),
    index("orders_user_market_live")
      .on(t.userId, t.market)
      .where(sql`${t.status} IN ('pending', 'open')`),
    index("orders_user_created").on(t.userId, t.createdAt),
    // The live orders of a market (operator console, engine recovery checks).
    index("orders_market_live")
      .on(t.market, t.status)
      .where(sql`${t.status} IN ('pending', 'open')`),
    check("orders_amount_positive", sql`${t.amount} > 0`),
    check(
      "orders_price_by_type",
      sql`(${t.type} = 'limit' AND ${t.priceTicks} > 0) OR (${t.type} = 'market' AND ${t.priceTicks} IS NULL)`,
    ),
    check(
      "orders_market_time_in_force",
      sql`${t.type} = 'limit' OR ${t.timeInForce} IN ('ioc', 'fok')`,
    ),
    check(
      "orders_fills_non_negative",
      sql`${t.filledBaseLots} >= 0 AND ${t.filledQuote} >= 0 AND ${t.fee} >= 0`,
    ),
    check(
      "orders_hold_range",
      sql`${t.holdRemaining} >= 0 AND ${t.holdRemaining} <= ${t.holdAmount}`,
    ),
    check(
      "orders_ended_holds_nothing",
      sql`${t.status} IN ('pending', 'open') OR ${t.holdRemaining} = 0`,
    ),
    check(
      "orders_finish_matches_status",
      sql`(${t.status} IN ('pending', 'open')) = (${t.finishAs} = 'open')`,
    ),
  ],
);

export const trades = pgTable(
  "trades",
  {
    market: text("market")
      .notNull()
      .references(() => markets.symbol),
    /** The engine's trade id. */
    id: bigint("id", { mode: "bigint" }).notNull(),
    /** The engine sequence number of the trade event. */
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    makerOrderId: bigint("maker_order_id", { mode: "bigint" }).notNull(),
    takerOrderId: bigint("taker_order_id", { mode: "bigint" }).notNull(),
    makerUserId: bigint("maker_user_id", { mode: "bigint" }).notNull(),
    takerUserId: bigint("taker_user_id", { mode: "bigint" }).notNull(),
    takerSide: orderSide("taker_side").notNull(),
    priceTicks: bigint("price_ticks", { mode: "bigint" }).notNull(),
    qtyLots: bigint("qty_lots", { mode: "bigint" }).notNull(),
    /** price × amount in quote minor units. */
    quoteAmount: bigint("quote_amount", { mode: "bigint" }).notNull(),
    /** The buyer's fee, in base minor units. */
    buyerFee: bigint("buyer_fee", { mode: "bigint" }).notNull(),
    /** The seller's fee, in quote minor units. */
    sellerFee: bigint("seller_fee", { mode: "bigint" }).notNull(),
    transferId: bigint("transfer_id", { mode: "bigint" }).notNull(),
    /** The engine's time of the match. */
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ name: "trades_pk", columns: [t.market, t.id] }),
    index("trades_maker_user").on(t.makerUserId, t.market, t.id),
    index("trades_taker_user").on(t.takerUserId, t.market, t.id),
    // Recent trades of a market and candle rebuilds read trades by time.
    index("trades_market_created").on(t.market, t.createdAt),
    check(
      "trades_amounts_positive",
      sql`${t.priceTicks} > 0 AND ${t.qtyLots} > 0 AND ${t.quoteAmount} > 0`,
    ),
    check("trades_fees_non_negative", sql`${t.buyerFee} >= 0 AND ${t.sellerFee} >= 0`),
  ],
);

/** Messages written in the same transaction as the state they announce; a relay publishes them. */
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    topic: text("topic").notNull(),
    key: text("key"),
    payload: jsonb("payload").notNull(),
    headers: jsonb("headers").notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true }),
  },
  (t) => [index("outbox_unsent").on(t.id).where(sql`${t.sentAt} IS NULL`)],
);

/** The last engine sequence number applied to PostgreSQL, per market. */
export const priceTriggerRule = pgEnum("price_trigger_rule", ["gte", "lte"]);
export const priceOrderStatus = pgEnum("price_order_status", [
  "open",
  // The engine fired it; its order is being placed (shown as open until it is).
  "triggered",
  "cancelled",
  "finish",
  "failed",
  "expired",
]);

/**
 * gate.io's price-triggered orders (`/spot/price_orders`). Nothing is held while one waits: the
 * engine arms its trigger (its id is this row's id) and fires it, in the market's sequence, when
 * the last trade price reaches it; settlement marks it `triggered`; its order (the `put`) is then
 * placed like any other — `finish` with `fired_order_id` — or, without the funds, it ends
 * `failed` with the refusal in `reason`.
 */
export const priceOrders = pgTable(
  "price_orders",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    userId: bigint("user_id", { mode: "bigint" })
      .notNull()
      .references(() => users.id),
    market: text("market")
      .notNull()
      .references(() => markets.symbol),
    triggerPriceTicks: bigint("trigger_price_ticks", { mode: "bigint" }).notNull(),
    rule: priceTriggerRule("rule").notNull(),
    /** Seconds it waits before expiring; 0 never expires. */
    expirationSeconds: integer("expiration_seconds").notNull().default(0),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    side: orderSide("side").notNull(),
    type: orderType("type").notNull(),
    /** Ticks; null for a market order. */
    priceTicks: bigint("price_ticks", { mode: "bigint" }),
    /** Lots, or quote minor units for a market buy. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    timeInForce: timeInForce("time_in_force").notNull(),
    /** gate.io's `put.text`: where the order came from (`api`, `web`, …). */
    text: text("text"),
    status: priceOrderStatus("status").notNull().default("open"),
    reason: text("reason"),
    firedOrderId: bigint("fired_order_id", { mode: "bigint" }).references(() => orders.id),
    /** The engine sequence number of its `fired` event. */
    firedSeq: bigint("fired_seq", { mode: "bigint" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    index("price_orders_user").on(t.userId, t.status, t.id),
    index("price_orders_waiting")
      .on(t.status, t.expiresAt)
      .where(sql`${t.status} IN ('open', 'triggered')`),
  ],
);

export const marketSequences = pgTable(
  "market_sequences",
  {
    market: text("market")
      .primaryKey()
      .references(() => markets.symbol),
    lastSeq: bigint("last_seq", { mode: "bigint" }).notNull().default(sql`0`),
    /**
     * The highest engine-owner epoch (the etcd revision of the market's ownership) that has
     * applied a batch: batches from an older owner are refused (STALE_EPOCH).
     */
    lastEpoch: bigint("last_epoch", { mode: "bigint" }).notNull().default(sql`0`),
    /** The Kafka offset, in the events topic, of the last applied message. */
    lastOffset: bigint("last_offset", { mode: "bigint" }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("market_sequences_non_negative", sql`${t.lastSeq} >= 0`)],
);

/** A serialised order book and the input position it reflects. */
export const engineSnapshots = pgTable(
  "engine_snapshots",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    market: text("market")
      .notNull()
      .references(() => markets.symbol),
    /** The last engine sequence number included in the snapshot. */
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    /** The Kafka offset of the last command included (string: Kafka offsets are int64). */
    inputOffset: text("input_offset").notNull(),
    state: bytea("state").notNull(),
    /** The offset in the events topic of the last event the snapshot reflects (engine host's). */
    eventsOffset: bigint("events_offset", { mode: "bigint" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("engine_snapshots_market_seq").on(t.market, t.seq)],
);

/** Candle intervals, gate.io's names. `7d` starts on Monday 00:00 UTC, `30d` is the calendar month. */
export const CANDLE_INTERVALS = [
  "10s",
  "1m",
  "5m",
  "15m",
  "30m",
  "1h",
  "4h",
  "8h",
  "1d",
  "7d",
  "30d",
] as const;

/**
 * OHLC candles per market and interval, folded from settled trades in the same transaction
 * that advances the market's sequence, so each trade counts exactly once.
 */
export const candles = pgTable(
  "candles",
  {
    market: text("market")
      .notNull()
      .references(() => markets.symbol),
    interval: text("interval").notNull(),
    startTime: timestamp("start_time", { withTimezone: true }).notNull(),
    /** Prices in ticks. */
    open: bigint("open", { mode: "bigint" }).notNull(),
    high: bigint("high", { mode: "bigint" }).notNull(),
    low: bigint("low", { mode: "bigint" }).notNull(),
    close: bigint("close", { mode: "bigint" }).notNull(),
    /** Volume in base minor units. */
    baseAmount: bigint("base_amount", { mode: "bigint" }).notNull(),
    /** Volume in quote minor units. */
    quoteAmount: bigint("quote_amount", { mode: "bigint" }).notNull(),
    trades: integer("trades").notNull(),
    /** The sequence number of the last trade folded in. */
    lastSeq: bigint("last_seq", { mode: "bigint" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "candles_pk", columns: [t.market, t.interval, t.startTime] }),
    check(
      "candles_interval",
      sql.raw(`"interval" IN (${CANDLE_INTERVALS.map((i) => `'${i}'`).join(", ")})`),
    ),
    check(
      "candles_prices",
      sql`${t.low} > 0 AND ${t.low} <= ${t.open} AND ${t.low} <= ${t.close} AND ${t.high} >= ${t.open} AND ${t.high} >= ${t.close}`,
    ),
    check("candles_amounts", sql`${t.baseAmount} > 0 AND ${t.quoteAmount} > 0 AND ${t.trades} > 0`),
  ],
);

/**
 * One row per applied settlement batch, append-only: the batches of a market must cover
 * 1 … market_sequences.last_seq without a hole or overlap, which reconciliation checks, so an
 * edited sequence row (that would silently skip or replay events) is noticed.
 */
export const settlementBatches = pgTable(
  "settlement_batches",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    market: text("market")
      .notNull()
      .references(() => markets.symbol),
    firstSeq: bigint("first_seq", { mode: "bigint" }).notNull(),
    lastSeq: bigint("last_seq", { mode: "bigint" }).notNull(),
    epoch: bigint("epoch", { mode: "bigint" }),
    eventsOffset: bigint("events_offset", { mode: "bigint" }),
    appliedAt: timestamp("applied_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("settlement_batches_market_first").on(t.market, t.firstSeq),
    check("settlement_batches_range", sql`${t.firstSeq} >= 1 AND ${t.lastSeq} >= ${t.firstSeq}`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Withdrawals, operator audit, fencing and reconciliation.

export const withdrawalStatus = pgEnum("withdrawal_status", ["pending", "completed", "rejected"]);

export const withdrawals = pgTable(
  "withdrawals",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    userId: bigint("user_id", { mode: "bigint" })
      .notNull()
      .references(() => users.id),
    asset: text("asset")
      .notNull()
      .references(() => assets.symbol),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    address: text("address").notNull(),
    /** The client's idempotency key. */
    ref: text("ref").notNull().unique(),
    status: withdrawalStatus("status").notNull().default("pending"),
    requestedAt: timestamp("requested_at", { withTimezone: true }).notNull().defaultNow(),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    decidedBy: bigint("decided_by", { mode: "bigint" }).references(() => users.id),
    reason: text("reason"),
  },
  (t) => [
    index("withdrawals_pending").on(t.userId, t.asset).where(sql`${t.status} = 'pending'`),
    check("withdrawals_amount_positive", sql`${t.amount} > 0`),
    check(
      "withdrawals_decision",
      sql`(${t.status} = 'pending') = (${t.decidedAt} IS NULL AND ${t.decidedBy} IS NULL)`,
    ),
  ],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    /** The operator (or null for the system itself). */
    actorId: bigint("actor_id", { mode: "bigint" }).references(() => users.id),
    action: text("action").notNull(),
    /** What was acted on, e.g. `user:42`, `withdrawal:7`, `market:BTC_USDT`. */
    subject: text("subject").notNull(),
    details: jsonb("details").notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** The previous row's hash (null only for the first row): the rows form a hash chain. */
    prevHash: bytea("prev_hash"),
    /** sha256 of prev_hash and this row's content (audit_row_hash, see 0005_hardening.sql). */
    hash: bytea("hash").notNull(),
  },
  (t) => [
    index("audit_log_subject").on(t.subject, t.id),
    index("audit_log_created").on(t.createdAt),
  ],
);

/** The highest fencing token each guarded resource has accepted (see fencing.ts). */
export const fencingTokens = pgTable("fencing_tokens", {
  resource: text("resource").primaryKey(),
  lastToken: bigint("last_token", { mode: "bigint" }).notNull(),
  /** The lock owner (acquisition id) that wrote with last_token: an equal token must come from it. */
  lastOwner: text("last_owner"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const reconciliationStatus = pgEnum("reconciliation_status", ["clean", "mismatch"]);
export const reconciliationFindingKind = pgEnum("reconciliation_finding_kind", [
  "available_mismatch",
  "locked_mismatch",
  "hold_mismatch",
  "asset_not_zero",
  "transfer_not_zero",
  "trade_mismatch",
  "order_fill_mismatch",
  "order_hold_mismatch",
  "sequence_mismatch",
  "audit_chain_broken",
]);

export const reconciliationRuns = pgTable("reconciliation_runs", {
  id: bigserial("id", { mode: "bigint" }).primaryKey(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
  finishedAt: timestamp("finished_at", { withTimezone: true }).notNull().defaultNow(),
  status: reconciliationStatus("status").notNull(),
  /** The lock's fencing token the run was written under, when run as the singleton job. */
  fencingToken: bigint("fencing_token", { mode: "bigint" }),
  accountsChecked: integer("accounts_checked").notNull(),
  entriesChecked: bigint("entries_checked", { mode: "bigint" }).notNull(),
  findingsCount: integer("findings_count").notNull(),
  durationMs: integer("duration_ms").notNull(),
  /**
   * The audit chain's head (last row) when the run checked it: the next run checks that row is
   * still there with the same hash, so even cutting rows off the chain's end is noticed.
   */
  auditHeadId: bigint("audit_head_id", { mode: "bigint" }),
  auditHeadHash: bytea("audit_head_hash"),
});

export const reconciliationFindings = pgTable(
  "reconciliation_findings",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    runId: bigint("run_id", { mode: "bigint" })
      .notNull()
      .references(() => reconciliationRuns.id),
    kind: reconciliationFindingKind("kind").notNull(),
    userId: bigint("user_id", { mode: "bigint" }),
    asset: text("asset"),
    transferId: bigint("transfer_id", { mode: "bigint" }),
    /** What the ledger (or the holds) say the value should be (numeric: sums can pass int8). */
    expected: numeric("expected", { precision: 40, scale: 0, mode: "bigint" }).notNull(),
    /** What was found. */
    actual: numeric("actual", { precision: 40, scale: 0, mode: "bigint" }).notNull(),
    detail: text("detail").notNull(),
  },
  (t) => [index("reconciliation_findings_run").on(t.runId)],
);
