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
import { decimalToUnits } from "@spotx/engine";
import type { Topology } from "@spotx/platform/topology";
import { cancelAllCommand, engineBounds, type MarketRules, placeCommand } from "@spotx/protocol";
import { and, desc, eq, inArray } from "drizzle-orm";
import type { z } from "zod";
import { Refreshing, SingleFlight } from "../single-flight";
import { CancelBatcher } from "./cancel-batcher";
import type { GroupCommitOptions } from "./group-commit";
import {
  type CancelAllRequest,
  type CancelOrderRequest,
  cancelAllRequest,
  cancelOrderRequest,
  type PlaceOrderRequest,
  placeOrderRequest,
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

export class TradingService {
  private readonly batcher: PlacementBatcher;
  private readonly cancels: CancelBatcher;
  private readonly markets: Refreshing<Map<string, Market>>;
  private readonly lastPrices = new Map<string, { price: bigint | null; at: number }>();
  private readonly lastPriceReads = new SingleFlight<string, bigint | null>();
  private readonly cacheMs: number;

  constructor(private readonly options: TradingServiceOptions) {
    this.cacheMs = options.cacheMs ?? 2_000;
    this.markets = new Refreshing(() => this.loadMarkets(), this.cacheMs);
    const relay = new RelayWakeup(options.db, options.names.postgres.outboxChannel);
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
    const { spec, bounds } = market;
    const halt = this.options.halts.get(spec.symbol);
    if (halt.halted || spec.status !== "trading") {
      throw new LedgerError(
        "INVALID_CURRENCY_PAIR",
        `${spec.symbol} is halted${halt.reason ? `: ${halt.reason}` : ""}; orders can only be cancelled`,
      );
    }
    const marketBuy = r.type === "market" && r.side === "buy";
    const amount = units(r.amount, marketBuy ? spec.quoteDecimals : spec.amountPrecision, "amount");
    if (amount <= 0n) throw bad("amount must be positive");

    let priceTicks: bigint | null = null;
    let timeInForce = r.timeInForce ?? (r.type === "limit" ? "gtc" : "ioc");
    if (r.type === "limit") {
      if (r.price === undefined) throw bad("a limit order needs a price");
      priceTicks = units(r.price, spec.pricePrecision, "price");
      if (priceTicks <= 0n) throw bad("price must be positive");
      if (priceTicks > bounds.maxPrice) throw bad(`price is above ${spec.symbol}'s maximum`);
      if (amount > bounds.maxQuantity) throw bad(`amount is above ${spec.symbol}'s maximum`);
      if (amount < spec.minBaseLots) {
        throw new LedgerError("AMOUNT_TOO_LITTLE", `amount is below ${spec.symbol}'s minimum`);
      }
      if (priceTicks * amount * bounds.quotePerTickLot < spec.minQuoteAmount) {
        throw new LedgerError("AMOUNT_TOO_LITTLE", `order value is below ${spec.symbol}'s minimum`);
      }
      await this.checkBand(market, priceTicks);
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
