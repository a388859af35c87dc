// Signed trading traffic from several API keys, as trading programs send it through gate.io's
// REST API: each trader places limit orders around a fixed mid (buys and sells overlap, so trades
// happen) and cancels some, one request at a time, spread over the web instances. A trader that
// meets a connection error or a 5xx moves to the next instance and, before sending the order
// again, asks `GET /spot/orders/{text}` whether it exists — every order carries a text of its
// own — so an order is never placed twice. Everything is recorded: each attempt with its
// status and label, each order's outcome, and when PostgreSQL first showed it settled (the
// engine's answer applied: no longer `pending`).
import http from "node:http";
import { signGateRequest } from "@spotx/bench/src/gate-transport";
import type { TraderKey } from "@spotx/bench/src/trader-accounts";
import { type Database, formatMinor } from "@spotx/db";
import { sql } from "drizzle-orm";

export type MarketPlan = {
  market: string;
  pricePrecision: number;
  /** The price the flow centres on, in ticks. */
  midTicks: bigint;
  /** Buys are priced mid−spread…mid+spread+1 ticks, sells mid−spread−1…mid+spread: they cross. */
  spreadTicks: number;
  /** Every order's amount (decimal text). */
  amount: string;
};

/** DEMO_MARKETS' two markets (2 price decimals). */
export const MARKET_PLANS: readonly MarketPlan[] = [
  { market: "BTC_USDT", pricePrecision: 2, midTicks: 3_000_000n, spreadTicks: 2, amount: "0.001" },
  { market: "ETH_USDT", pricePrecision: 2, midTicks: 200_000n, spreadTicks: 2, amount: "0.01" },
];

export type OrderOutcome =
  /** Answered 201 with an id, or found by its text after a failed attempt. */
  | "acked"
  /** Refused for good (a 4xx other than 429): the request's fault, not the exchange's state. */
  | "refused"
  /** Traffic stopped after the exchange said it does not exist: it was never placed. */
  | "not_placed"
  /** Traffic stopped before anything could tell whether it exists. */
  | "unresolved"
  | "in_flight";

export type OrderRecord = {
  text: string;
  userId: bigint;
  market: string;
  side: "buy" | "sell";
  price: string;
  amount: string;
  /** When its first attempt was sent (ms since the epoch). */
  firstSentAt: number;
  attempts: number;
  outcome: OrderOutcome;
  orderId?: bigint;
  ackedAt?: number;
  /** Whether the ack came as the POST's answer or from a lookup after a failed attempt. */
  ackedBy?: "answer" | "lookup";
  refusal?: string;
  /** When the settlement watch first saw it past `pending`. */
  settledAt?: number;
};

export type Attempt = {
  kind: "place" | "lookup" | "cancel";
  url: string;
  sentAt: number;
  answeredAt: number;
  /** The HTTP status; 0 when no answer came (the label says why). */
  status: number;
  /** gate.io's label, "OK" for a 2xx, NETWORK_<code> without an answer. */
  label: string;
};

/** A failed attempt that says something about the exchange's state, not about the request. */
export function isOutageAnswer(answer: { status: number }): boolean {
  return answer.status === 0 || answer.status === 429 || answer.status >= 500;
}

export type TrafficOptions = {
  db: Database;
  traders: readonly TraderKey[];
  /** The web instances' base URLs; a trader starts at its own index and moves on failure. */
  urls: () => readonly string[];
  markets?: readonly MarketPlan[];
  /** Each trader's pace: one request per this many ms at most. */
  paceMs: number;
  /** Every this many actions, a trader cancels its newest acked order instead of placing. */
  cancelEvery: number;
  /** After a failed attempt, the wait before the next. */
  retryMs?: number;
  /** How long a request may go unanswered before it counts as failed. */
  requestTimeoutMs?: number;
};

type TraderState = {
  index: number;
  key: TraderKey;
  /** Which of the urls it sends to. */
  at: number;
  actions: number;
  /** Acked orders not yet cancelled by it, newest last. */
  cancellable: OrderRecord[];
};

const PREFIX = "/api/v4";
const RUN = Math.random().toString(36).slice(2, 6);

export class Traffic {
  readonly orders: OrderRecord[] = [];
  readonly attempts: Attempt[] = [];
  private readonly unsettled = new Set<OrderRecord>();
  private readonly inFlightByUrl = new Map<string, number>();
  private readonly agents = new Map<string, http.Agent>();
  private readonly sentWatchers = new Map<string, Array<() => void>>();
  private readonly traders: TraderState[];
  private readonly markets: readonly MarketPlan[];
  private running = false;
  private loops: Promise<void>[] = [];
  private watch: Promise<void> | undefined;
  private sequence = 0;

  constructor(private readonly options: TrafficOptions) {
    this.markets = options.markets ?? MARKET_PLANS;
    this.traders = options.traders.map((key, index) => ({
      index,
      key,
      at: index,
      actions: 0,
      cancellable: [],
    }));
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The traders' user ids. */
  get traderIds(): bigint[] {
    return this.options.traders.map((t) => t.userId);
  }

  /** Starts every trader (again), spread over the instances; what was recorded is kept. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const trader of this.traders) trader.at = trader.index;
    this.loops = this.traders.map((trader) => this.trade(trader));
    this.watch ??= this.watchSettlement();
  }

  /**
   * Stops the traders: each finishes what it is doing (an order whose fate is unknown is looked
   * up until the exchange says, for at most a minute), then the settlement watch stops.
   */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
    const watch = this.watch;
    this.watch = undefined;
    await watch;
  }

  /** Requests sent to `url` and not yet answered. */
  inFlight(url: string): number {
    return this.inFlightByUrl.get(url) ?? 0;
  }

  /**
   * Resolves the moment the next request to `url` has been handed to the kernel whole: the
   * server has it, or is receiving it, and cannot have answered yet.
   */
  nextRequestTo(url: string): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.sentWatchers.get(url) ?? [];
      waiting.push(resolve);
      this.sentWatchers.set(url, waiting);
    });
  }

  /** Waits until every acked order was seen settled, or the timeout passes; the rest. */
  async settleOutstanding(timeoutMs: number): Promise<OrderRecord[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.pollSettlement();
      if (this.unsettled.size === 0) return [];
      await pause(100);
    }
    return [...this.unsettled];
  }

  /** Closes the kept-alive connections. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
  }

  private async trade(trader: TraderState): Promise<void> {
    while (this.running) {
      const started = Date.now();
      trader.actions += 1;
      const cancel =
        trader.actions % this.options.cancelEvery === 0 && trader.cancellable.length > 0;
      if (cancel) await this.cancelNewest(trader);
      else await this.placeNext(trader);
      const left = this.options.paceMs - (Date.now() - started);
      if (left > 0 && this.running) await pause(left);
    }
  }

  private nextOrder(trader: TraderState): OrderRecord {
    this.sequence += 1;
    const plan = this.markets[this.sequence % this.markets.length] ?? MARKET_PLANS[0];
    if (!plan) throw new Error("no market to trade");
    const side = (this.sequence + trader.index) % 2 === 0 ? "buy" : "sell";
    const spread = plan.spreadTicks;
    // buy: mid−spread … mid+spread+1; sell: mid−spread−1 … mid+spread.
    const offset = BigInt(
      Math.floor(Math.random() * (2 * spread + 2)) - spread - (side === "sell" ? 1 : 0),
    );
    const record: OrderRecord = {
      text: `t-${RUN}${trader.index}x${this.sequence}`,
      userId: trader.key.userId,
      market: plan.market,
      side,
      price: formatMinor(plan.midTicks + offset, plan.pricePrecision),
      amount: plan.amount,
      firstSentAt: Date.now(),
      attempts: 0,
      outcome: "in_flight",
    };
    this.orders.push(record);
    return record;
  }

  private async placeNext(trader: TraderState): Promise<void> {
    const order = this.nextOrder(trader);
    const body = JSON.stringify({
      currency_pair: order.market,
      type: "limit",
      account: "spot",
      side: order.side,
      amount: order.amount,
      price: order.price,
      time_in_force: "gtc",
      text: order.text,
    });
    for (;;) {
      order.attempts += 1;
      const answer = await this.send(trader, "place", "POST", `${PREFIX}/spot/orders`, "", body);
      if (answer.status === 201) {
        const id = orderId(answer.text);
        if (id !== null) return this.acked(trader, order, id, "answer");
      }
      if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
        order.outcome = "refused";
        order.refusal = answer.label;
        return;
      }
      if (answer.status !== 429) {
        // No answer or a 5xx: it may or may not have been placed. Ask another instance.
        this.moveOn(trader);
        const found = await this.lookUp(trader, order);
        if (found === "unresolved") {
          order.outcome = "unresolved";
          return;
        }
        if (found !== "absent") return this.acked(trader, order, found, "lookup");
      }
      if (!this.running) {
        order.outcome = "not_placed";
        return;
      }
      await pause(this.options.retryMs ?? 150);
    }
  }

  /** The order's id if the exchange has it, "absent" when it says it has not. */
  private async lookUp(
    trader: TraderState,
    order: OrderRecord,
  ): Promise<bigint | "absent" | "unresolved"> {
    const deadline = Date.now() + 60_000;
    const query = `currency_pair=${order.market}`;
    for (;;) {
      const answer = await this.send(
        trader,
        "lookup",
        "GET",
        `${PREFIX}/spot/orders/${order.text}`,
        query,
        "",
      );
      if (answer.status === 200) {
        const id = orderId(answer.text);
        if (id !== null) return id;
      }
      if (answer.status === 404 && answer.label === "CLIENT_ID_NOT_FOUND") return "absent";
      if (!this.running && Date.now() > deadline) return "unresolved";
      this.moveOn(trader);
      await pause(this.options.retryMs ?? 150);
    }
  }

  private acked(trader: TraderState, order: OrderRecord, id: bigint, by: "answer" | "lookup") {
    order.outcome = "acked";
    order.orderId = id;
    order.ackedAt = Date.now();
    order.ackedBy = by;
    this.unsettled.add(order);
    trader.cancellable.push(order);
  }

  /** Cancels the trader's newest acked order; a failed attempt is repeated elsewhere. */
  private async cancelNewest(trader: TraderState): Promise<void> {
    const order = trader.cancellable.pop();
    if (order?.orderId === undefined) return;
    const path = `${PREFIX}/spot/orders/${order.orderId}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = await this.send(
        trader,
        "cancel",
        "DELETE",
        path,
        `currency_pair=${order.market}`,
        "",
      );
      // 200: cancelled (or queued); 400 ORDER_CLOSED: it had filled. Both are an answer.
      if (!isOutageAnswer(answer)) return;
      if (!this.running) return;
      this.moveOn(trader);
      await pause(this.options.retryMs ?? 150);
    }
  }

  private moveOn(trader: TraderState) {
    trader.at += 1;
  }

  private send(
    trader: TraderState,
    kind: Attempt["kind"],
    method: "GET" | "POST" | "DELETE",
    path: string,
    query: string,
    body: string,
  ): Promise<{ status: number; label: string; text: string }> {
    const urls = this.options.urls();
    const url = urls[trader.at % urls.length] ?? "";
    const target = new URL(url);
    const timestamp = (Date.now() / 1000).toFixed(3);
    const headers: http.OutgoingHttpHeaders = {
      Accept: "application/json",
      KEY: trader.key.key,
      Timestamp: timestamp,
      SIGN: signGateRequest(trader.key.secret, { method, path, query, body, timestamp }),
    };
    if (body !== "") {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    const sentAt = Date.now();
    this.inFlightByUrl.set(url, this.inFlight(url) + 1);
    return new Promise((resolve) => {
      let done = false;
      const finish = (status: number, label: string, text: string) => {
        if (done) return;
        done = true;
        this.inFlightByUrl.set(url, this.inFlight(url) - 1);
        this.attempts.push({ kind, url, sentAt, answeredAt: Date.now(), status, label });
        resolve({ status, label, text });
      };
      const request = http.request(
        {
          agent: this.agent(url),
          host: target.hostname,
          port: Number(target.port),
          method,
          path: query === "" ? path : `${path}?${query}`,
          headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString("utf8");
            finish(status, status < 300 ? "OK" : labelOf(text, status), text);
          });
          response.on("error", (error) => finish(0, networkLabel(error), ""));
        },
      );
      request.setTimeout(this.options.requestTimeoutMs ?? 15_000, () => {
        request.destroy(Object.assign(new Error("no answer"), { code: "TIMEOUT" }));
      });
      request.on("error", (error) => finish(0, networkLabel(error), ""));
      request.once("finish", () => {
        const waiting = this.sentWatchers.get(url);
        this.sentWatchers.delete(url);
        for (const resolve of waiting ?? []) resolve();
      });
      request.end(body === "" ? undefined : body);
    });
  }

  private agent(url: string): http.Agent {
    let agent = this.agents.get(url);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true, maxSockets: this.traders.length });
      this.agents.set(url, agent);
    }
    return agent;
  }

  private async watchSettlement(): Promise<void> {
    while (this.running) {
      await this.pollSettlement();
      await pause(100);
    }
  }

  /** Marks the acked orders PostgreSQL shows past `pending`; nothing while it cannot answer. */
  private async pollSettlement(): Promise<void> {
    if (this.unsettled.size === 0) return;
    const byId = new Map([...this.unsettled].map((o) => [o.orderId ?? 0n, o]));
    try {
      const ids = sql.join(
        [...byId.keys()].map((id) => sql`${id}`),
        sql`, `,
      );
      const found = await this.options.db.execute<{ id: bigint }>(
        sql`SELECT id FROM orders WHERE id IN (${ids}) AND status <> 'pending'`,
      );
      const now = Date.now();
      for (const row of found.rows) {
        const order = byId.get(row.id);
        if (!order) continue;
        order.settledAt = now;
        this.unsettled.delete(order);
      }
    } catch {
      // PostgreSQL is down: the next poll sees what settled meanwhile.
    }
  }
}

function orderId(text: string): bigint | null {
  try {
    const { id } = JSON.parse(text) as { id?: unknown };
    return typeof id === "string" && /^\d+$/.test(id) ? BigInt(id) : null;
  } catch {
    return null;
  }
}

function labelOf(text: string, status: number): string {
  try {
    const { label } = JSON.parse(text) as { label?: unknown };
    if (typeof label === "string" && label !== "") return label;
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP_${status}`;
}

function networkLabel(error: Error & { code?: string }): string {
  return `NETWORK_${error.code ?? error.name}`;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
