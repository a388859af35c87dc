// Group-commit order placement: many orders written by ONE statement, whatever the batch size.
// Each order still gets exactly what placing it alone would: its hold (available → locked, a
// balanced `order_hold` transfer), its row as `pending` and its outbox row, or its own refusal.
// The caller (the API's batcher) gathers concurrent placements for a millisecond or two and
// sends them here together; one commit's fsync then carries a hundred orders instead of one.
//
// Balance rows are the hot rows of the exchange — settlement changes them with every trade —
// so a batch never holds their locks while it reads and decides: it reads them unlocked,
// decides each order in input order, and writes with a guarded update that re-checks the
// balance under the row lock and is the last thing before the commit. A lost race (another
// placement spent from the account in between) sends only that account's orders round again.
//
// A client order id (`text`) is a label, as on gate.io: two orders may carry the same one, and
// each is an order of its own. A request sent twice is caught before it gets here, by the replay
// guard on the signed request (packages/api/src/guards/replay.ts), not by its label.
import { sql } from "drizzle-orm";
import type { Database, Transaction } from "./client";
import { invariant, LedgerError } from "./errors";
import {
  INT8_MAX,
  optionalText,
  requireAmount,
  requireFitsInt8,
  requireId,
  requireMarketSymbol,
  requireObject,
  requireOneOf,
  requireText,
} from "./input";
import { accountKey, type Balance, retryTransaction, type TransferOutcome } from "./ledger";
import { type MarketSpec, toSpec } from "./markets";
import {
  jsonSafe,
  type Order,
  type OrderType,
  type PlaceOrderInput,
  type TimeInForce,
} from "./orders";
import { executePrepared } from "./prepared";
import type { Side } from "./settlement";
import { lotsToBaseMinor, quoteMinorFor } from "./units";

export type PlaceResult =
  | { ok: true; order: Order; outboxId: bigint | null }
  | { ok: false; error: LedgerError };

/** The most placements one call takes: a batch is one statement, kept short. */
export const MAX_PLACE_BATCH = 5_000;

const TEXT_MAX = 64;

type Parsed = {
  userId: bigint;
  market: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce | undefined;
  priceTicks: bigint | null;
  amount: bigint;
  text: string | null;
  stpAct: "cn" | "co" | "cb" | null;
  outbox: {
    topic: string;
    key: string | null;
    headers: Record<string, string>;
    payload: (order: Order) => unknown;
  } | null;
};

/** Checks one input's shape without the database; a LedgerError names what is wrong. */
function parse(raw: unknown): Parsed {
  const input = requireObject(raw, "order");
  const type = requireOneOf(input.type, ["limit", "market"] as const, "type");
  const priceTicks =
    type === "limit"
      ? input.priceTicks === undefined || input.priceTicks === null
        ? (() => {
            throw new LedgerError("INVALID_PARAM_VALUE", "a limit order needs a positive price");
          })()
        : requireAmount(input.priceTicks, "price")
      : input.priceTicks === undefined || input.priceTicks === null
        ? null
        : (() => {
            throw new LedgerError("INVALID_PARAM_VALUE", "a market order has no price");
          })();
  let outbox: Parsed["outbox"] = null;
  if (input.outbox !== undefined && input.outbox !== null) {
    const o = requireObject(input.outbox, "outbox");
    if (typeof o.payload !== "function") {
      throw new LedgerError("INVALID_PARAM_VALUE", "outbox.payload must be a function");
    }
    const headers = o.headers === undefined ? {} : requireObject(o.headers, "outbox.headers");
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== "string") {
        throw new LedgerError("INVALID_PARAM_VALUE", `outbox header ${name} must be a string`);
      }
    }
    outbox = {
      topic: requireText(o.topic, "outbox.topic"),
      key: optionalText(o.key, "outbox.key"),
      headers: headers as Record<string, string>,
      payload: o.payload as (order: Order) => unknown,
    };
  }
  return {
    userId: requireId(input.userId, "userId"),
    market: requireMarketSymbol(input.market),
    side: requireOneOf(input.side, ["buy", "sell"] as const, "side"),
    type,
    timeInForce:
      input.timeInForce === undefined
        ? undefined
        : requireOneOf(input.timeInForce, ["gtc", "ioc", "poc", "fok"] as const, "timeInForce"),
    priceTicks,
    amount: requireAmount(input.amount, "amount"),
    text: optionalText(input.text, "text", TEXT_MAX),
    stpAct:
      input.stpAct === undefined || input.stpAct === null
        ? null
        : requireOneOf(input.stpAct, ["cn", "co", "cb"] as const, "stpAct"),
    outbox,
  };
}

/** What an order must lock: the most it can spend. Fees are never held (they come out of what is received). */
export function orderHold(
  market: MarketSpec,
  order: { side: Side; type: OrderType; priceTicks: bigint | null; amount: bigint },
): { asset: string; amount: bigint } {
  if (order.side === "buy") {
    if (order.type === "market") return { asset: market.quote, amount: order.amount };
    return {
      asset: market.quote,
      amount: quoteMinorFor(order.priceTicks ?? 0n, order.amount, market),
    };
  }
  return { asset: market.base, amount: lotsToBaseMinor(order.amount, market) };
}

/** The market's rules for one order: trading, minimums, time in force; returns it ready to hold. */
function check(market: MarketSpec | undefined, order: Parsed) {
  if (!market) throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${order.market}`);
  if (market.status === "closed") {
    throw new LedgerError("MARKET_CLOSED", `${market.symbol} was delisted: it takes no orders`);
  }
  if (market.status !== "trading") {
    throw new LedgerError("INVALID_CURRENCY_PAIR", `${market.symbol} is halted`);
  }
  const timeInForce: TimeInForce = order.timeInForce ?? (order.type === "limit" ? "gtc" : "ioc");
  const hold = orderHold(market, order);
  requireFitsInt8(hold.amount, "the order's value");
  // The tick and lot an operator set (decisions/006): multiples of the steps, in listing units.
  if (order.priceTicks !== null && order.priceTicks % market.priceStepTicks !== 0n) {
    throw new LedgerError(
      "INVALID_PRECISION",
      `price is not a multiple of ${market.symbol}'s tick (${market.priceStepTicks} × 10^-${market.pricePrecision})`,
    );
  }
  const byQuote = order.type === "market" && order.side === "buy";
  if (!byQuote && order.amount % market.amountStepLots !== 0n) {
    throw new LedgerError(
      "INVALID_PRECISION",
      `amount is not a multiple of ${market.symbol}'s lot (${market.amountStepLots} × 10^-${market.amountPrecision})`,
    );
  }
  if (order.type === "limit") {
    if (order.amount < market.minBaseLots) {
      throw new LedgerError("AMOUNT_TOO_LITTLE", `amount is below ${market.symbol}'s minimum`);
    }
    if (quoteMinorFor(order.priceTicks ?? 0n, order.amount, market) < market.minQuoteAmount) {
      throw new LedgerError("AMOUNT_TOO_LITTLE", `order value is below ${market.symbol}'s minimum`);
    }
  } else {
    if (timeInForce !== "ioc" && timeInForce !== "fok") {
      throw new LedgerError("INVALID_PARAM_VALUE", "a market order is ioc or fok");
    }
    const minimum = order.side === "buy" ? market.minQuoteAmount : market.minBaseLots;
    if (order.amount < minimum) {
      throw new LedgerError("AMOUNT_TOO_LITTLE", `amount is below ${market.symbol}'s minimum`);
    }
  }
  return { market, timeInForce, hold };
}

/** The full outcome of one placement (placeOrderHold reports the hold transfer as well). */
type Placement =
  | {
      ok: true;
      order: Order;
      outboxId: bigint | null;
      hold: TransferOutcome;
    }
  | { ok: false; error: LedgerError };

/** One valid input on its way through the rounds; its ids are drawn once and kept. */
type Work = { index: number; p: Parsed; orderId: bigint | null; outboxId: bigint | null };

/** An input accepted by a decision, ready to write. */
type Accepted = {
  work: Work;
  order: Order;
  /** The outbox row's payload as JSON text (null: the input has no outbox message). */
  payload: string | null;
};

type Round = {
  /** Final outcomes of this round, by input index. */
  decided: Map<number, Placement>;
  /** Inputs whose balance changed between the read and the write: decided again next round. */
  lost: Work[];
};

/**
 * Rounds that read balances without locking them before one falls back to locking them for
 * its whole transaction: a lost race needs another placement of the same account to commit
 * between our read and our write, so a third loss in a row means a hot account worth queueing on.
 */
const OPTIMISTIC_ROUNDS = 3;

type Executor = Database | Transaction;

/** A market row as the placement read returns it (int8 columns as text). */
type MarketJson = [
  symbol: string,
  base: string,
  quote: string,
  baseDecimals: number,
  quoteDecimals: number,
  pricePrecision: number,
  amountPrecision: number,
  status: "trading" | "halted" | "closed",
  minBaseLots: string,
  minQuoteAmount: string,
  makerFeePpm: number,
  takerFeePpm: number,
  priceStepTicks: string,
  amountStepLots: string,
];

function marketFromJson(m: MarketJson): MarketSpec {
  return toSpec({
    symbol: m[0],
    base: m[1],
    quote: m[2],
    base_decimals: m[3],
    quote_decimals: m[4],
    price_precision: m[5],
    amount_precision: m[6],
    status: m[7],
    min_base_lots: BigInt(m[8]),
    min_quote_amount: BigInt(m[9]),
    maker_fee_ppm: m[10],
    taker_fee_ppm: m[11],
    price_step_ticks: BigInt(m[12]),
    amount_step_lots: BigInt(m[13]),
  });
}

// ---------------------------------------------------------------------------------------------
// What a placement knows without asking the database

/** Ids drawn from the sequences ahead of need, per database: a batch does not wait for a draw. */
const ID_BLOCK = 512;
const idBlocks = new WeakMap<Database, { orders: bigint[]; outbox: bigint[] }>();

async function takeIds(db: Database, kind: "orders" | "outbox", count: number): Promise<bigint[]> {
  let blocks = idBlocks.get(db);
  if (!blocks) {
    blocks = { orders: [], outbox: [] };
    idBlocks.set(db, blocks);
  }
  const block = blocks[kind];
  const taken = block.splice(0, count);
  if (taken.length < count) {
    const want = count - taken.length + ID_BLOCK;
    const drawn = await executePrepared<{ ids: string[] }>(
      db,
      kind === "orders"
        ? sql`SELECT array_agg(id ORDER BY id)::text[] AS ids
                FROM (SELECT nextval('orders_id_seq') AS id FROM generate_series(1, ${want}::int)) s`
        : sql`SELECT array_agg(id ORDER BY id)::text[] AS ids
                FROM (SELECT nextval('outbox_id_seq') AS id FROM generate_series(1, ${want}::int)) s`,
    );
    const ids = (drawn.rows[0]?.ids ?? []).map(BigInt);
    invariant(ids.length === want, "not enough ids drawn");
    const short = count - taken.length;
    taken.push(...ids.slice(0, short));
    // Concurrent draws may return out of order: keep the block ascending.
    block.push(...ids.slice(short));
    block.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return taken;
}

/**
 * The markets as the last careful round read them, per database. A market's precisions and
 * assets never change once it exists (see createMarket); its status does, and is checked by the
 * write statement itself. Its tick, lot and minimums change with an operator's rules change
 * (decisions/006), so a remembered market is used for KNOWN_MARKET_MS only. The API checks
 * the rules first (its cache lives 2 s), and the engine checks them again and refuses, releasing
 * the hold, an order that met rules which just changed: this bound only keeps the staleness of a
 * caller that bypasses the API finite, without a read per batch.
 */
const knownMarkets = new WeakMap<Database, Map<string, { market: MarketSpec; at: number }>>();
const KNOWN_MARKET_MS = 30_000;

function rememberMarkets(db: Database, markets: Map<string, MarketSpec>) {
  const known = knownMarkets.get(db) ?? new Map<string, { market: MarketSpec; at: number }>();
  const at = Date.now();
  for (const [symbol, market] of markets) known.set(symbol, { market, at });
  knownMarkets.set(db, known);
}

/** Draws the ids an input still lacks (in input order, so rows keep the batch's order). */
async function giveIds(db: Database, work: Work[]) {
  const needIds = work.filter((w) => w.orderId === null);
  const needOutbox = needIds.filter((w) => w.p.outbox !== null);
  const [orderIds, outboxIds] = await Promise.all([
    needIds.length > 0 ? takeIds(db, "orders", needIds.length) : [],
    needOutbox.length > 0 ? takeIds(db, "outbox", needOutbox.length) : [],
  ]);
  needIds.forEach((w, i) => {
    w.orderId = orderIds[i] ?? null;
  });
  needOutbox.forEach((w, i) => {
    w.outboxId = outboxIds[i] ?? null;
  });
}

/** The order an accepted input becomes, and its outbox payload (a LedgerError refuses it). */
function accept(w: Work, checked: ReturnType<typeof check>, now: Date): Accepted | LedgerError {
  const { p } = w;
  const { market, hold, timeInForce } = checked;
  invariant(w.orderId !== null, "an order id was not drawn");
  const order: Order = {
    id: w.orderId,
    userId: p.userId,
    market: market.symbol,
    side: p.side,
    type: p.type,
    timeInForce,
    priceTicks: p.priceTicks,
    amount: p.amount,
    filledBaseLots: 0n,
    filledQuote: 0n,
    fee: 0n,
    feeAsset: p.side === "buy" ? market.base : market.quote,
    holdAsset: hold.asset,
    holdAmount: hold.amount,
    holdRemaining: hold.amount,
    status: "pending",
    finishAs: "open",
    text: p.text,
    stpAct: p.stpAct,
    rejectReason: null,
    amendText: null,
    amends: 0,
    amendPending: false,
    amendReserved: 0n,
    createdAt: now,
    updatedAt: now,
  };
  let payload: string | null = null;
  if (p.outbox) {
    try {
      payload = JSON.stringify(jsonSafe(p.outbox.payload(order)) ?? null);
    } catch (failure) {
      if (!(failure instanceof LedgerError)) throw failure;
      return failure;
    }
  }
  return { work: w, order, payload };
}

/** The placements of `accepted` that were written, as placeOrders answers them. */
function placed(
  accepted: Accepted[],
  written: Awaited<ReturnType<typeof writePlacements>>,
): { decided: Map<number, Placement>; unwritten: Accepted[] } {
  const decided = new Map<number, Placement>();
  const unwritten: Accepted[] = [];
  for (const a of accepted) {
    const balance = written.balances.get(accountKey(a.order.userId, a.order.holdAsset));
    if (!balance) {
      unwritten.push(a);
      continue;
    }
    const transferId = written.transfers.get(`order:${a.order.id}:hold`);
    invariant(transferId !== undefined, () => `order ${a.order.id} has no hold transfer`);
    decided.set(a.work.index, {
      ok: true,
      order: a.order,
      outboxId: a.payload === null ? null : a.work.outboxId,
      hold: { transferId, duplicate: false, balances: [balance] },
    });
  }
  return { decided, unwritten };
}

// ---------------------------------------------------------------------------------------------
// The fast path: one statement, no read before it

/**
 * Writes, without reading first, the inputs of every account whose inputs all pass their
 * market's rules (a market read before); the statement itself checks the users are active,
 * the markets trading and each account's balance covering all of its inputs. What it did not
 * write — a frozen user, a halted market, an account short of funds, a market not known yet —
 * goes the careful way, which says why (and decides an account short of funds order by order). Returns the placements made and the inputs left.
 */
async function placeDirectly(
  db: Database,
  work: Work[],
  now: Date,
): Promise<{ decided: Map<number, Placement>; left: Work[] }> {
  const markets = knownMarkets.get(db);
  const candidates: { w: Work; checked: ReturnType<typeof check> }[] = [];
  const excluded = new Set<string>();
  for (const w of work) {
    let checked: ReturnType<typeof check> | null = null;
    const known = markets?.get(w.p.market);
    const market = known && Date.now() - known.at < KNOWN_MARKET_MS ? known.market : undefined;
    if (market) {
      try {
        checked = check(market, w.p);
      } catch (error) {
        if (!(error instanceof LedgerError)) throw error;
      }
    }
    const asset = checked?.hold.asset ?? (market ? orderHold(market, w.p).asset : w.p.market);
    if (checked) candidates.push({ w, checked });
    else excluded.add(accountKey(w.p.userId, asset));
  }
  // An account goes one way as a whole, so its inputs are decided in input order either way.
  const direct = candidates.filter(
    (c) => !excluded.has(accountKey(c.w.p.userId, c.checked.hold.asset)),
  );
  if (direct.length === 0) return { decided: new Map(), left: work };
  await giveIds(
    db,
    direct.map((c) => c.w),
  );
  const accepted: Accepted[] = [];
  for (const c of direct) {
    const a = accept(c.w, c.checked, now);
    if (a instanceof LedgerError) return { decided: new Map(), left: work };
    accepted.push(a);
  }
  const written = await retryTransaction(() => writePlacements(db, accepted), 5);
  const { decided } = placed(accepted, written);
  return { decided, left: work.filter((w) => !decided.has(w.index)) };
}

// ---------------------------------------------------------------------------------------------
// The careful path: read, decide order by order, write

/**
 * One round over `work`: read what the decisions need (markets, users, the balances to hold
 * from — unlocked, unless `lock`), decide each input in input
 * order, then write every accepted order in ONE statement whose balance update re-checks each
 * account (`available` still covers the account's holds). An account whose check fails writes
 * nothing of its orders; they come back in `lost`. Balance rows are therefore locked only from
 * that statement to its commit — never while the round reads and decides.
 */
async function placeRound(
  db: Database,
  executor: Executor,
  work: Work[],
  options: { lock: boolean; now: Date },
): Promise<Round> {
  const decided = new Map<number, Placement>();
  const refuse = (w: Work, error: LedgerError) => decided.set(w.index, { ok: false, error });

  // One round trip reads everything the decisions need: the markets (their status is checked
  // here again, the durable record of a halt), the users, and the balance each order would hold
  // from (the market's quote for a buy, its base for a sell).
  const read = await executePrepared<{
    markets: MarketJson[] | null;
    users: [string, string][] | null;
    balances: [string, string, string, string, string][] | null;
  }>(
    executor,
    sql`
      SELECT
        (SELECT json_agg(json_build_array(m.symbol, m.base, m.quote, b.decimals, q.decimals,
                                          m.price_precision, m.amount_precision, m.status,
                                          m.min_base_lots::text, m.min_quote_amount::text,
                                          m.maker_fee_ppm, m.taker_fee_ppm,
                                          m.price_step_ticks::text, m.amount_step_lots::text))
           FROM markets m
           JOIN assets b ON b.symbol = m.base
           JOIN assets q ON q.symbol = m.quote
          WHERE m.symbol = ANY(${sql.param([...new Set(work.map((w) => w.p.market))])}::text[])) AS markets,
        (SELECT json_agg(json_build_array(id::text, status)) FROM users
          WHERE id = ANY(${sql.param([...new Set(work.map((w) => w.p.userId))])}::bigint[])) AS users,
        (SELECT json_agg(json_build_array(l.account_id::text, l.user_id::text, l.asset,
                                          l.available::text, l.locked::text) ORDER BY l.account_id)
           FROM (SELECT b.account_id, b.user_id, b.asset, b.available, b.locked
                   FROM balances b
                  WHERE (b.user_id, b.asset) IN (
                          SELECT p.user_id, CASE WHEN p.side = 'buy' THEN m.quote ELSE m.base END
                            FROM unnest(${sql.param(work.map((w) => w.p.userId))}::bigint[],
                                        ${sql.param(work.map((w) => w.p.market))}::text[],
                                        ${sql.param(work.map((w) => w.p.side))}::text[])
                                 AS p(user_id, market, side)
                            JOIN markets m ON m.symbol = p.market)
                  ORDER BY b.account_id
                  ${options.lock ? sql`FOR UPDATE OF b` : sql``}) l) AS balances`,
  );
  const row = read.rows[0];
  invariant(row, "the placement read returned no row");
  const markets = new Map((row.markets ?? []).map((m) => [m[0], marketFromJson(m)]));
  rememberMarkets(db, markets);
  const userStatus = new Map((row.users ?? []).map(([id, status]) => [BigInt(id), status]));
  const balances = new Map(
    (row.balances ?? []).map(([, userId, asset, available, locked]) => [
      accountKey(BigInt(userId), asset),
      { available: BigInt(available), locked: BigInt(locked) },
    ]),
  );
  // Decide in input order against what each account has left, as placing one at a time would.
  const fits: { w: Work; checked: ReturnType<typeof check> }[] = [];
  for (const w of work) {
    const { p } = w;
    const status = userStatus.get(p.userId);
    if (status === undefined) {
      refuse(w, new LedgerError("NOT_FOUND", `user ${p.userId} does not exist`));
      continue;
    }
    if (status !== "active") {
      refuse(w, new LedgerError("FORBIDDEN", `user ${p.userId} is frozen`));
      continue;
    }
    let checked: ReturnType<typeof check>;
    try {
      checked = check(markets.get(p.market), p);
    } catch (error) {
      if (!(error instanceof LedgerError)) throw error;
      refuse(w, error);
      continue;
    }
    const { hold } = checked;
    const balance = balances.get(accountKey(p.userId, hold.asset));
    if (!balance || balance.available < hold.amount) {
      refuse(
        w,
        new LedgerError(
          "BALANCE_NOT_ENOUGH",
          `user ${p.userId} has less than ${hold.amount} ${hold.asset} available`,
        ),
      );
      continue;
    }
    if (balance.locked + hold.amount > INT8_MAX) {
      refuse(
        w,
        new LedgerError(
          "INVALID_PARAM_VALUE",
          `user ${p.userId}'s locked ${hold.asset} would exceed the largest amount a balance holds`,
        ),
      );
      continue;
    }
    balance.available -= hold.amount;
    balance.locked += hold.amount;
    fits.push({ w, checked });
  }

  await giveIds(
    db,
    fits.map((f) => f.w),
  );
  const accepted: Accepted[] = [];
  for (const { w, checked } of fits) {
    const a = accept(w, checked, options.now);
    if (a instanceof LedgerError) {
      // Refused for its payload: what it would have held stays with the account's later inputs
      // in the next round (rare: the caller's payload function refused the order).
      refuse(w, a);
      continue;
    }
    accepted.push(a);
  }
  const lost: Work[] = [];
  if (accepted.length > 0) {
    const written = placed(accepted, await writePlacements(executor, accepted));
    for (const [index, placement] of written.decided) decided.set(index, placement);
    // Another placement took from the account after we read it: decide these again.
    for (const a of written.unwritten) lost.push(a.work);
  }
  return { decided, lost };
}

/**
 * Writes the accepted orders in one statement: each account's balance moves by the sum of its
 * orders' holds only if its user is active, its markets trading, and `available` still covers
 * the sum — checked on the row's latest version, under the row lock this statement takes, in
 * account order; the orders, hold transfers and entries and outbox rows are written for the
 * accounts that moved, and nothing for the others. Balances are keyed by accountKey.
 */
async function writePlacements(
  db: Executor,
  accepted: Accepted[],
): Promise<{ balances: Map<string, Balance>; transfers: Map<string, bigint> }> {
  const o = accepted.map((a) => a.order);
  const created = o[0]?.createdAt.toISOString() ?? new Date().toISOString();
  const result = await executePrepared<{
    balances: [string, string, string, string, string, string][] | null;
    transfers: [string, string][] | null;
    orders: string;
    entries: string;
    outbox: string;
    wanted_outbox: string;
  }>(
    db,
    sql`
    WITH x AS MATERIALIZED (
      SELECT * FROM unnest(
        ${sql.param(o.map((r) => r.id))}::bigint[],
        ${sql.param(o.map((r) => r.userId))}::bigint[],
        ${sql.param(o.map((r) => r.market))}::text[],
        ${sql.param(o.map((r) => r.side))}::order_side[],
        ${sql.param(o.map((r) => r.type))}::order_type[],
        ${sql.param(o.map((r) => r.timeInForce))}::time_in_force[],
        ${sql.param(o.map((r) => r.priceTicks))}::bigint[],
        ${sql.param(o.map((r) => r.amount))}::bigint[],
        ${sql.param(o.map((r) => r.feeAsset))}::text[],
        ${sql.param(o.map((r) => r.holdAsset))}::text[],
        ${sql.param(o.map((r) => r.holdAmount))}::bigint[],
        ${sql.param(o.map((r) => r.text))}::text[],
        ${sql.param(o.map((r) => r.stpAct))}::stp_act[],
        ${sql.param(accepted.map((a) => (a.payload === null ? null : a.work.outboxId)))}::bigint[],
        ${sql.param(accepted.map((a) => a.work.p.outbox?.topic ?? null))}::text[],
        ${sql.param(accepted.map((a) => a.work.p.outbox?.key ?? a.order.market))}::text[],
        ${sql.param(accepted.map((a) => a.payload))}::jsonb[],
        ${sql.param(accepted.map((a) => JSON.stringify(a.work.p.outbox?.headers ?? {})))}::jsonb[])
        AS x(id, user_id, market, side, type, time_in_force, price_ticks, amount, fee_asset,
             hold_asset, hold_amount, text, stp_act, outbox_id, topic, key, payload, headers)
    ), need AS MATERIALIZED (
      SELECT b.account_id, sum(x.hold_amount)::int8 AS total
        FROM x
        JOIN balances b ON b.user_id = x.user_id AND b.asset = x.hold_asset
        JOIN users u ON u.id = x.user_id
        JOIN markets m ON m.symbol = x.market
       GROUP BY b.account_id
      HAVING bool_and(u.status = 'active' AND m.status = 'trading')
    ), held AS MATERIALIZED (
      SELECT b.account_id, need.total FROM balances b
        JOIN need ON need.account_id = b.account_id
       ORDER BY b.account_id
         FOR UPDATE OF b
    ), b AS (
      UPDATE balances
         SET available = balances.available - held.total,
             locked = balances.locked + held.total,
             update_id = balances.update_id + 1, updated_at = now()
        FROM held
       WHERE balances.account_id = held.account_id
         AND balances.available >= held.total
         AND balances.locked <= ${INT8_MAX}::int8 - held.total
      RETURNING balances.account_id, balances.user_id, balances.asset, balances.available,
                balances.locked, balances.update_id
    ), ok AS MATERIALIZED (
      -- Each order's hold transfer gets its id here, so its entries need no join to find it.
      SELECT x.*, b.account_id, nextval('transfers_id_seq') AS transfer_id
        FROM x JOIN b ON b.user_id = x.user_id AND b.asset = x.hold_asset
    ), o AS (
      INSERT INTO orders (id, user_id, market, side, type, time_in_force, price_ticks, amount,
                          fee_asset, hold_asset, hold_amount, hold_remaining, text, stp_act,
                          created_at, updated_at)
      SELECT id, user_id, market, side, type, time_in_force, price_ticks, amount, fee_asset,
             hold_asset, hold_amount, hold_amount, text, stp_act,
             ${created}::timestamptz, ${created}::timestamptz
        FROM ok
      RETURNING 1
    ), t AS (
      INSERT INTO transfers (id, kind, ref)
      SELECT transfer_id, 'order_hold', 'order:' || id || ':hold' FROM ok
      RETURNING id, ref
    ), e AS (
      INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
      SELECT ok.transfer_id, v.idx, ok.account_id, ok.hold_asset, v.bucket, v.sign * ok.hold_amount
        FROM ok
       CROSS JOIN (VALUES (0::smallint, 'available'::ledger_bucket, -1::int8),
                          (1::smallint, 'locked'::ledger_bucket, 1::int8)) AS v(idx, bucket, sign)
      RETURNING 1
    ), q AS (
      INSERT INTO outbox (id, topic, key, payload, headers)
      SELECT outbox_id, topic, key, payload, headers FROM ok WHERE outbox_id IS NOT NULL
      RETURNING 1
    )
    SELECT (SELECT json_agg(json_build_array(account_id::text, user_id::text, asset,
                                             available::text, locked::text, update_id::text))
              FROM b) AS balances,
           (SELECT json_agg(json_build_array(id::text, ref)) FROM t) AS transfers,
           (SELECT count(*) FROM o)::text AS orders,
           (SELECT count(*) FROM e)::text AS entries,
           (SELECT count(*) FROM q)::text AS outbox,
           (SELECT count(*) FROM ok WHERE outbox_id IS NOT NULL)::text AS wanted_outbox`,
  );
  const out = result.rows[0];
  invariant(out, "the placement write returned no row");
  const balances = new Map<string, Balance>();
  for (const [, userId, asset, available, locked, updateId] of out.balances ?? []) {
    balances.set(accountKey(BigInt(userId), asset), {
      userId: BigInt(userId),
      asset,
      available: BigInt(available),
      locked: BigInt(locked),
      updateId: BigInt(updateId),
    });
  }
  const transfers = new Map((out.transfers ?? []).map(([id, ref]) => [ref, BigInt(id)]));
  const written = accepted.filter((a) =>
    balances.has(accountKey(a.order.userId, a.order.holdAsset)),
  ).length;
  invariant(
    Number(out.orders) === written &&
      transfers.size === written &&
      Number(out.entries) === written * 2 &&
      out.outbox === out.wanted_outbox,
    () => `placement wrote ${JSON.stringify(out)} for ${written} orders`,
  );
  return { balances, transfers };
}

/** placeOrders with the hold transfer of each placement (for placeOrderHold). */
async function placeOrdersDetailed(
  db: Database,
  inputs: readonly PlaceOrderInput[],
): Promise<Placement[]> {
  if (!Array.isArray(inputs)) {
    throw new LedgerError("INVALID_PARAM_VALUE", "placeOrders takes an array of orders");
  }
  if (inputs.length > MAX_PLACE_BATCH) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `at most ${MAX_PLACE_BATCH} orders per batch, got ${inputs.length}`,
    );
  }
  if (inputs.length === 0) return [];
  const results: (Placement | undefined)[] = [];
  let pending: Work[] = [];
  inputs.forEach((input, index) => {
    try {
      pending.push({ index, p: parse(input), orderId: null, outboxId: null });
    } catch (error) {
      if (!(error instanceof LedgerError)) throw error;
      results[index] = { ok: false, error };
    }
  });
  // The time of the batch (the orders' created_at, and the time their commands carry).
  const now = new Date();

  if (pending.length > 0) {
    const direct = await placeDirectly(db, pending, now);
    for (const [index, placement] of direct.decided) results[index] = placement;
    pending = direct.left;
  }

  for (let round = 1; pending.length > 0; round++) {
    const current = pending;
    const lock = round > OPTIMISTIC_ROUNDS;
    const outcome = await retryTransaction(
      () =>
        lock
          ? db.transaction((tx) => placeRound(db, tx, current, { lock, now }))
          : placeRound(db, db, current, { lock, now }),
      8,
    );
    invariant(!lock || outcome.lost.length === 0, "a placement lost a race on a locked balance");
    for (const [index, placement] of outcome.decided) results[index] = placement;
    pending = outcome.lost;
  }
  return inputs.map((_, index) => {
    const placed = results[index];
    invariant(placed, "a placement got no result");
    return placed;
  });
}

/**
 * Places a batch of orders: for each input, in input order, either
 * `{ ok: true, order, outboxId }` (held, inserted as `pending`, outbox row written) or
 * `{ ok: false, error }` with that input's LedgerError — the others go on. A `text` is a label:
 * orders that share one are orders of their own.
 *
 * The batch is read (users, balances) without locks,
 * decided in input order, and written in ONE statement — orders, hold transfers and entries,
 * balances, outbox rows — that commits on its own. The balance update of each account
 * re-checks that `available` still covers the account's holds; an account that lost that race
 * to a concurrent placement writes nothing and its inputs are decided again from fresh
 * balances (after three such rounds, under row locks). A deadlock or a serialization failure
 * redoes the round.
 */
export async function placeOrders(
  db: Database,
  inputs: readonly PlaceOrderInput[],
): Promise<PlaceResult[]> {
  const placements = await placeOrdersDetailed(db, inputs);
  return placements.map((p) =>
    p.ok ? { ok: true, order: p.order, outboxId: p.outboxId } : { ok: false, error: p.error },
  );
}

export type PlacedOrder = { order: Order; hold: TransferOutcome; outboxId: bigint | null };

/**
 * Places one order (a batch of one): holds its funds (BALANCE_NOT_ENOUGH when available is
 * short), inserts it as `pending` with a database-assigned id, and writes its outbox row — one
 * statement. Throws the LedgerError of a refusal.
 */
export async function placeOrderHold(db: Database, input: PlaceOrderInput): Promise<PlacedOrder> {
  const [placed] = await placeOrdersDetailed(db, [input]);
  invariant(placed, "placement of one order returned nothing");
  if (!placed.ok) throw placed.error;
  return { order: placed.order, hold: placed.hold, outboxId: placed.outboxId };
}
