// Placing and cancelling orders: the one module both front doors (tRPC for our pages, the
// gate.io REST API for trading programs) call. A placement is checked against the market's
// rules here — known, trading, tick, lot, minimums, the engine's bounds, the price band — then
// held, recorded and queued for the engine in one statement (group-committed with its
// neighbours), and answered at once. Cancels are group-committed too and travel the same
// path: every ending of an order comes from the engine's event stream.
import {
  type Database,
  LedgerError,
  loadMarketRules,
  loadMarkets,
  type MarketSpec,
  type Order,
  ordersByText,
  type PlaceOrderInput,
  schema,
} from "@spotx/db";
import { type AmendOutcome, requestAmend } from "@spotx/db/amend";
import { createPriceOrder, endPriceOrders, type PriceOrder } from "@spotx/db/price-orders";
import { decimalToUnits, unitsToDecimal } from "@spotx/engine";
import type { Topology } from "@spotx/platform/topology";
import {
  amendCommand,
  armCommand,
  cancelAllCommand,
  disarmCommand,
  engineBounds,
  type MarketRules,
  placeCommand,
} from "@spotx/protocol";
import { and, desc, eq, inArray } from "drizzle-orm";
import type { z } from "zod";
import { Refreshing, SingleFlight } from "../single-flight";
import { CancelBatcher } from "./cancel-batcher";
import type { GroupCommitOptions } from "./group-commit";
import {
  type AmendOrderRequest,
  amendOrderRequest,
  type CancelAllRequest,
  type CancelOrderRequest,
  cancelAllRequest,
  cancelOrderRequest,
  type PlaceOrderRequest,
  type PriceOrderRequest,
  placeOrderRequest,
  priceOrderRequest,
} from "./order-request";
import { PlacementBatcher } from "./placement-batcher";
import { RelayWakeup } from "./relay-wakeup";

/** Where halts come from: the etcd watch (MarketConfigWatcher) in a running process. */
export type HaltSource = { get(symbol: string): { halted: boolean; reason: string | null } };

export type TradingServiceOptions = {
  db: Database;
  names: Topology;
  halts: HaltSource;
  /** Group commit of placements (and, with the same settings, of cancels). */
  batcher?: GroupCommitOptions;
  /** How long market rules and last prices are cached. */
  cacheMs?: number;
  /** The clock a client text's lookup window is measured on (ms; tests move it). */
  now?: () => number;
};

type Market = {
  spec: MarketSpec;
  rules: MarketRules;
  bounds: ReturnType<typeof engineBounds>;
};

export type PlacedOrder = { order: Order };

/** Where an order came from, its text when the client gave none (gate.io's reserved values). */
export type OrderOrigin = "apiv4" | "web";

const bad = (message: string) => new LedgerError("INVALID_PARAM_VALUE", message);

/** A delisted market takes nothing new (its history stays readable; cancels find nothing left). */
function refuseClosed(spec: MarketSpec): void {
  if (spec.status === "closed") {
    throw new LedgerError("MARKET_CLOSED", `${spec.symbol} was delisted: it takes no orders`);
  }
}

/** The most price-triggered orders one user may have waiting in one market. */
export const MAX_OPEN_PRICE_ORDERS = 100;

export class TradingService {
  private readonly batcher: PlacementBatcher;
  private readonly cancels: CancelBatcher;
  private readonly markets: Refreshing<Map<string, Market>>;
  private readonly lastPrices = new Map<string, { price: bigint | null; at: number }>();
  private readonly lastPriceReads = new SingleFlight<string, bigint | null>();
  private readonly cacheMs: number;
  private readonly relay: RelayWakeup;

  constructor(private readonly options: TradingServiceOptions) {
    this.cacheMs = options.cacheMs ?? 2_000;
    this.markets = new Refreshing(() => this.loadMarkets(), this.cacheMs);
    const relay = new RelayWakeup(options.db, options.names.postgres.outboxChannel);
    this.relay = relay;
    this.batcher = new PlacementBatcher(options.db, { ...options.batcher, relay });
    this.cancels = new CancelBatcher(options.db, {
      ...options.batcher,
      topic: options.names.kafka.orders.topic,
      relay,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /**
   * Places an order; answers with it at once (status pending until the engine accepts it). An
   * order without a client text is labelled with where it came from, as gate.io labels it:
   * `apiv4` through the gate.io API, `web` from the browser (the default).
   */
  async placeOrder(
    userId: bigint,
    request: PlaceOrderRequest,
    origin: OrderOrigin = "web",
  ): Promise<PlacedOrder> {
    const r = checked(placeOrderRequest, request, "order");
    const market = await this.market(r.market);
    const { spec } = market;
    refuseClosed(spec);
    const halt = this.options.halts.get(spec.symbol);
    if (halt.halted || spec.status !== "trading") {
      throw new LedgerError(
        "INVALID_CURRENCY_PAIR",
        `${spec.symbol} is halted${halt.reason ? `: ${halt.reason}` : ""}; orders can only be cancelled`,
      );
    }
    const { priceTicks, amount, timeInForce } = this.orderTerms(market, r);
    if (priceTicks !== null) await this.checkBand(market, priceTicks);

    const input: PlaceOrderInput = {
      userId,
      market: spec.symbol,
      side: r.side,
      type: r.type,
      timeInForce,
      priceTicks,
      amount,
      text: r.text ?? origin,
      stpAct: r.stpAct ?? null,
      outbox: {
        topic: this.options.names.kafka.orders.topic,
        payload: (order: Order) => placeCommand(order),
      },
    };
    const result = await this.batcher.place(input);
    if (!result.ok) throw result.error;
    return { order: result.order };
  }

  /** Asks the engine to cancel one order; answers with the order as it stands now. */
  async cancelOrder(userId: bigint, request: CancelOrderRequest): Promise<Order> {
    const r = checked(cancelOrderRequest, request, "cancel");
    const market = await this.market(r.market);
    const name = orderName(r.orderId);
    return this.cancels.cancel({ userId, market: market.spec.symbol, ...name });
  }

  /**
   * Asks the engine to amend a resting limit order (gate.io's PATCH /spot/orders/{id}): a new
   * price and/or a new whole amount, checked against the market's rules as a placement is. When
   * the amended order could spend more than it holds, the difference is locked first
   * (BALANCE_NOT_ENOUGH if it is not there). Answers `busy` while an earlier amend of the same
   * order is still with the engine (the caller waits for it to settle and asks again).
   */
  async amendOrder(userId: bigint, request: AmendOrderRequest): Promise<AmendOutcome> {
    const r = checked(amendOrderRequest, request, "amend");
    const market = await this.market(r.market);
    const { spec, bounds } = market;
    const priceTicks = r.price === undefined ? null : units(r.price, spec.pricePrecision, "price");
    refuseClosed(spec);
    if (priceTicks !== null) {
      if (priceTicks <= 0n) throw bad("price must be positive");
      onStep(
        priceTicks,
        spec.priceStepTicks,
        spec.pricePrecision,
        "price",
        `${r.price}`,
        spec.symbol,
      );
      if (priceTicks > bounds.maxPrice) throw bad(`price is above ${spec.symbol}'s maximum`);
      const halt = this.options.halts.get(spec.symbol);
      if (halt.halted || spec.status !== "trading") {
        throw new LedgerError(
          "INVALID_CURRENCY_PAIR",
          `${spec.symbol} is halted${halt.reason ? `: ${halt.reason}` : ""}; orders can only be cancelled or reduced`,
        );
      }
      await this.checkBand(market, priceTicks);
    }
    const amount = r.amount === undefined ? null : units(r.amount, spec.amountPrecision, "amount");
    if (amount !== null) {
      if (amount <= 0n) throw bad("amount must be positive");
      onStep(
        amount,
        spec.amountStepLots,
        spec.amountPrecision,
        "amount",
        `${r.amount}`,
        spec.symbol,
      );
      if (amount > bounds.maxQuantity) throw bad(`amount is above ${spec.symbol}'s maximum`);
    }
    const found = await this.findOrder(userId, spec.symbol, r.orderId);
    if (found.type !== "limit") throw bad("only a limit order can be amended");
    // What stays must meet the market's minimums, as a new order would (unless it cancels).
    const left = (amount ?? found.amount) - found.filledBaseLots;
    const price = priceTicks ?? found.priceTicks ?? 0n;
    if (
      left > 0n &&
      (left < spec.minBaseLots || price * left * bounds.quotePerTickLot < spec.minQuoteAmount)
    ) {
      throw new LedgerError(
        "AMOUNT_TOO_LITTLE",
        `what is left would be below ${spec.symbol}'s minimum`,
      );
    }
    const outcome = await requestAmend(this.options.db, spec, {
      userId,
      orderId: found.id,
      priceTicks,
      amount,
      amendText: r.amendText ?? null,
      topic: this.options.names.kafka.orders.topic,
      command: (order) =>
        amendCommand({
          market: spec.symbol,
          orderId: order.id,
          userId,
          time: Date.now(),
          priceTicks,
          amount,
        }),
    });
    if (outcome.status === "queued") this.relay.wake();
    return outcome;
  }

  /**
   * Records a price-triggered order (gate.io's POST /spot/price_orders) and arms its trigger in
   * the engine. Its order is checked now against the market's rules as a placement is (the price
   * band aside: it is checked when the order is placed), but nothing is held until it fires.
   */
  async placePriceOrder(userId: bigint, request: PriceOrderRequest): Promise<PriceOrder> {
    const r = checked(priceOrderRequest, request, "price order");
    const market = await this.market(r.market);
    const { spec, bounds } = market;
    refuseClosed(spec);
    if (spec.status !== "trading") {
      throw new LedgerError("INVALID_CURRENCY_PAIR", `${spec.symbol} is not trading`);
    }
    const triggerPrice = units(r.trigger.price, spec.pricePrecision, "trigger.price");
    if (triggerPrice <= 0n) throw bad("trigger.price must be positive");
    if (triggerPrice > bounds.maxPrice) {
      throw bad(`trigger.price is above ${spec.symbol}'s maximum`);
    }
    const terms = this.orderTerms(market, {
      side: r.put.side,
      type: r.put.type,
      amount: r.put.amount,
      price: r.put.price,
      timeInForce: r.put.timeInForce,
    });
    const rule = r.trigger.rule === ">=" ? "gte" : "lte";
    const created = await createPriceOrder(
      this.options.db,
      {
        userId,
        market: spec.symbol,
        triggerPriceTicks: triggerPrice,
        rule,
        expirationSeconds: r.trigger.expiration ?? 0,
        side: r.put.side,
        type: r.put.type,
        priceTicks: terms.priceTicks,
        amount: terms.amount,
        timeInForce: terms.timeInForce,
        text: r.put.text ?? null,
        maxOpen: MAX_OPEN_PRICE_ORDERS,
      },
      {
        topic: this.options.names.kafka.orders.topic,
        command: (order) =>
          armCommand({
            market: spec.symbol,
            priceOrderId: order.id,
            userId,
            priceTicks: triggerPrice,
            rule,
            time: Date.now(),
          }),
      },
    );
    if (created === "too_many") {
      throw bad(
        `at most ${MAX_OPEN_PRICE_ORDERS} price-triggered orders may wait in ${spec.symbol}`,
      );
    }
    this.relay.wake();
    return created;
  }

  /**
   * Cancels waiting price-triggered orders: one by id, or all of the user's (in one market, or
   * everywhere); answers those cancelled. One that already fired or ended is not cancelled.
   */
  async cancelPriceOrders(
    userId: bigint,
    which: { id?: bigint; market?: string },
  ): Promise<PriceOrder[]> {
    const market =
      which.market === undefined ? undefined : (await this.market(which.market)).spec.symbol;
    const cancelled = await endPriceOrders(
      this.options.db,
      {
        status: "cancelled",
        userId,
        ...(which.id !== undefined ? { id: which.id } : {}),
        ...(market !== undefined ? { market } : {}),
      },
      {
        topic: this.options.names.kafka.orders.topic,
        command: (order) =>
          disarmCommand({ market: order.market, priceOrderId: order.id, userId, time: Date.now() }),
      },
    );
    if (cancelled.length > 0) this.relay.wake();
    return cancelled;
  }

  /** Asks the engine to cancel all of a user's orders in a market (one side or both). */
  async cancelAll(userId: bigint, request: CancelAllRequest): Promise<Order[]> {
    const r = checked(cancelAllRequest, request, "cancel-all");
    const market = await this.market(r.market);
    const { orders } = schema;
    const live = await this.options.db
      .select()
      .from(orders)
      .where(
        and(
          eq(orders.userId, userId),
          eq(orders.market, market.spec.symbol),
          inArray(orders.status, ["pending", "open"]),
          r.side ? eq(orders.side, r.side) : undefined,
        ),
      )
      .orderBy(orders.id);
    await this.cancels.enqueue(
      cancelAllCommand({ market: market.spec.symbol, userId, side: r.side, time: Date.now() }),
    );
    return live;
  }

  /**
   * The order by id, or by client text — the user's newest in the market with that text, live or
   * finished within the hour (ordersByText) — owned by the user, in the market.
   */
  async findOrder(userId: bigint, market: string, idOrText: string): Promise<Order> {
    const name = orderName(idOrText);
    if (name.orderId === null) {
      const [order] = await ordersByText(
        this.options.db,
        [{ userId, market, text: idOrText }],
        new Date(this.now()),
      );
      if (!order) {
        throw new LedgerError(
          "CLIENT_ID_NOT_FOUND",
          `Order with client ID ${idOrText} not found in ${market}`,
        );
      }
      return order;
    }
    const { orders } = schema;
    const found = await this.options.db
      .select()
      .from(orders)
      .where(and(eq(orders.id, name.orderId), eq(orders.userId, userId), eq(orders.market, market)))
      .limit(1);
    const order = found[0];
    if (!order) throw new LedgerError("ORDER_NOT_FOUND", `no order ${idOrText} in ${market}`);
    return order;
  }

  /**
   * An order's terms in engine units, checked against the market's rules (tick, lot, minimums,
   * the engine's bounds) — the price band aside, which only a placement checks.
   */
  private orderTerms(
    market: Market,
    r: {
      side: "buy" | "sell";
      type: "limit" | "market";
      amount: string;
      price?: string | undefined;
      timeInForce?: "gtc" | "ioc" | "poc" | "fok" | undefined;
    },
  ): { priceTicks: bigint | null; amount: bigint; timeInForce: "gtc" | "ioc" | "poc" | "fok" } {
    const { spec, bounds } = market;
    const marketBuy = r.type === "market" && r.side === "buy";
    const amount = units(r.amount, marketBuy ? spec.quoteDecimals : spec.amountPrecision, "amount");
    if (amount <= 0n) throw bad("amount must be positive");
    // A market buy spends any amount of quote; everything else is a whole number of lots.
    if (!marketBuy) {
      onStep(amount, spec.amountStepLots, spec.amountPrecision, "amount", r.amount, spec.symbol);
    }

    let priceTicks: bigint | null = null;
    let timeInForce = r.timeInForce ?? (r.type === "limit" ? "gtc" : "ioc");
    if (r.type === "limit") {
      if (r.price === undefined) throw bad("a limit order needs a price");
      priceTicks = units(r.price, spec.pricePrecision, "price");
      if (priceTicks <= 0n) throw bad("price must be positive");
      onStep(priceTicks, spec.priceStepTicks, spec.pricePrecision, "price", r.price, spec.symbol);
      if (priceTicks > bounds.maxPrice) throw bad(`price is above ${spec.symbol}'s maximum`);
      if (amount > bounds.maxQuantity) throw bad(`amount is above ${spec.symbol}'s maximum`);
      if (amount < spec.minBaseLots) {
        throw new LedgerError("AMOUNT_TOO_LITTLE", `amount is below ${spec.symbol}'s minimum`);
      }
      if (priceTicks * amount * bounds.quotePerTickLot < spec.minQuoteAmount) {
        throw new LedgerError("AMOUNT_TOO_LITTLE", `order value is below ${spec.symbol}'s minimum`);
      }
    } else {
      if (r.price !== undefined && r.price !== "0") throw bad("a market order has no price");
      if (timeInForce !== "ioc") throw bad("a market order is ioc");
      timeInForce = "ioc";
      const max = marketBuy ? bounds.maxQuoteAmount : bounds.maxQuantity;
      if (amount > max) throw bad(`amount is above ${spec.symbol}'s maximum`);
      const min = marketBuy ? spec.minQuoteAmount : spec.minBaseLots;
      if (amount < min) {
        throw new LedgerError("AMOUNT_TOO_LITTLE", `amount is below ${spec.symbol}'s minimum`);
      }
    }

    return { priceTicks, amount, timeInForce };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The market's rules, read at most once per `cacheMs` (at once for a market not known yet). */
  private async market(symbol: string): Promise<Market> {
    let market = (await this.markets.get()).get(symbol);
    if (!market) market = (await this.markets.get({ fresh: true })).get(symbol);
    if (!market) throw new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${symbol}`);
    return market;
  }

  private async loadMarkets(): Promise<Map<string, Market>> {
    const rules = await loadMarketRules(this.options.db);
    const specs = await loadMarkets(this.options.db, [...rules.keys()]);
    const next = new Map<string, Market>();
    for (const [name, rule] of rules) {
      const spec = specs.get(name);
      if (spec) next.set(name, { spec, rules: rule, bounds: engineBounds(rule) });
    }
    return next;
  }

  /** The engine refuses limit prices beyond the band around the last trade; say so up front. */
  private async checkBand(market: Market, priceTicks: bigint) {
    const bps = BigInt(market.rules.priceBandBps);
    if (bps === 0n) return;
    const last = await this.lastPrice(market.spec.symbol);
    if (last === null) return;
    const scaled = priceTicks * 10_000n;
    if (scaled > last * (10_000n + bps) || scaled < last * (10_000n - bps)) {
      throw bad(
        `price is more than ${Number(bps) / 100}% away from the last trade price; the market's price band refuses it`,
      );
    }
  }

  private async lastPrice(symbol: string): Promise<bigint | null> {
    const cached = this.lastPrices.get(symbol);
    if (cached && Date.now() - cached.at < this.cacheMs) return cached.price;
    return this.lastPriceReads.run(symbol, async () => {
      const at = Date.now();
      const { trades } = schema;
      const found = await this.options.db
        .select({ price: trades.priceTicks })
        .from(trades)
        .where(eq(trades.market, symbol))
        .orderBy(desc(trades.id))
        .limit(1);
      const price = found[0]?.price ?? null;
      this.lastPrices.set(symbol, { price, at });
      return price;
    });
  }
}

/** An order named by its id or by its client text (gate.io accepts either in the path). */
function orderName(idOrText: string): { orderId: bigint | null; text: string | null } {
  if (/^\d{1,18}$/.test(idOrText)) return { orderId: BigInt(idOrText), text: null };
  if (!idOrText.startsWith("t-")) {
    throw bad("order id must be a number or a client text starting with t-");
  }
  return { orderId: null, text: idOrText };
}

/** A request that does not match its schema is INVALID_PARAM_VALUE, naming the first bad field. */
function checked<S extends z.ZodTypeAny>(schema: S, request: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(request);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw bad(`${issue?.path.join(".") || what}: ${issue?.message ?? "invalid"}`);
}

/** A decimal string in units of 10^-decimals, with gate.io's labels for what is wrong with it. */
function units(text: string, decimals: number, field: string): bigint {
  const converted = decimalToUnits(text, decimals);
  if (converted.ok) return converted.value;
  if (converted.error === "INVALID_PRECISION") {
    throw new LedgerError(
      "INVALID_PRECISION",
      `${field} ${text} has more than ${decimals} decimals`,
    );
  }
  throw bad(`${field} "${text}" is not a decimal number`);
}

/**
 * The market's tick or lot, which an operator may have made coarser than the listing units
 * (decisions/006): a value off it is refused with the label of a value with too many decimals.
 */
function onStep(
  value: bigint,
  step: bigint,
  decimals: number,
  field: "price" | "amount",
  text: string,
  symbol: string,
): void {
  if (value % step === 0n) return;
  const size = unitsToDecimal(step, decimals);
  throw new LedgerError(
    "INVALID_PRECISION",
    `${field} ${text} is not a multiple of ${symbol}'s ${field === "price" ? "tick" : "lot"} ${size}`,
  );
}
