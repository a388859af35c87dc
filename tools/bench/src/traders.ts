// The simulated traders and what they send: funded users who rest limit orders near the mid,
// cross the spread with IOC orders (so trades happen and settle), and cancel their resting
// orders (so the book and each user's open orders stay bounded, under the engine's 200 per
// user). In the fixed-rate phase some resting bids are "probes": each at a price no other
// order ever uses, so the book delta that carries its level identifies it to the socket
// clients. The flow is the same whichever front door carries it: a Transport sends each
// command — the placement service in this process (in-process-transport.ts) or the gate.io REST
// API over signed HTTP from a generator process (gate-transport.ts).
import { unitsToDecimal } from "@spotx/engine";
import { nowMs } from "./stats";

export type MarketModel = {
  symbol: string;
  pricePrecision: number;
  amountPrecision: number;
  /** The price the flow centres on, in ticks. */
  midTicks: number;
  /** Resting orders sit 1…restTicks from the mid. */
  restTicks: number;
  /** Crossing IOC orders are priced this far through the mid. */
  crossTicks: number;
  minLots: number;
  maxLots: number;
  /** Share of the non-probe flow. */
  share: number;
};

/** DEMO_MARKETS' BTC_USDT and ETH_USDT (2 price decimals, 4 amount decimals). */
export const MARKETS: readonly MarketModel[] = [
  {
    symbol: "BTC_USDT",
    pricePrecision: 2,
    amountPrecision: 4,
    midTicks: 3_000_000,
    restTicks: 500,
    crossTicks: 300,
    minLots: 10,
    maxLots: 100,
    share: 0.6,
  },
  {
    symbol: "ETH_USDT",
    pricePrecision: 2,
    amountPrecision: 4,
    midTicks: 200_000,
    restTicks: 500,
    crossTicks: 300,
    minLots: 10,
    maxLots: 100,
    share: 0.4,
  },
];

/** The market the socket clients watch and the probes go to. */
export const PROBE_MARKET = "BTC_USDT";
/** Probe k bids at PROBE_TOP_TICKS − k: far below anything that crosses, inside the price band. */
export const PROBE_TOP_TICKS = 2_990_000;
const PROBE_LOTS = 10;

/** The mix of the flow (fractions of all commands). */
export const MIX = { rest: 0.42, cross: 0.28, cancel: 0.3 } as const;
/** A trader with this many resting orders cancels before placing more. */
const MAX_RESTING = 150;

export type OpKind = "rest" | "cross" | "cancel" | "probe";

export type OpOutcome = {
  kind: OpKind;
  market: string;
  calledMs: number;
  doneMs: number;
  /** Null when accepted; else the error label (gate.io's where it has one). */
  error: string | null;
  /** The placed order's id (placements that succeeded). */
  orderId: bigint | null;
  /** Probe number (probes only). */
  probe: number | null;
};

/** `probeAt`: when a probe was placed (null for other orders). */
export type Resting = { market: string; orderId: string; probeAt: number | null };
/** A trader and the orders it believes rest (some may have been filled since). */
export type TraderState = { userId: bigint; resting: Resting[] };

export type LimitOrder = {
  market: string;
  side: "buy" | "sell";
  price: string;
  amount: string;
  timeInForce: "gtc" | "ioc";
};

/**
 * How a command reaches the exchange. Neither call rejects: a refusal is a value with its
 * label (gate.io's), so the flow keeps its bookkeeping whatever the answer.
 */
export type Transport = {
  place(userId: bigint, order: LimitOrder): Promise<{ orderId: bigint } | { error: string }>;
  cancel(userId: bigint, market: string, orderId: string): Promise<{ error: string | null }>;
};

/** Deterministic randomness, so runs are comparable. */
function generator(seed: number) {
  let state = seed >>> 0;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class TraderPool {
  private readonly random: () => number;
  private nextProbe = 0;
  /** Probes placed so far; probe k is priced PROBE_TOP_TICKS − k. */
  get probesIssued(): number {
    return this.nextProbe;
  }
  /** Share of commands that are probes (0 outside the fixed-rate phases). */
  probeShare = 0;

  /** `seed`: a generator process' pool draws its own sequence, so two never act in lockstep. */
  constructor(
    private readonly transport: Transport,
    private readonly traders: TraderState[],
    seed = 20_240_607,
  ) {
    this.random = generator(seed);
  }

  /** The traders' state, for handing some of them to another process' pool and back. */
  states(): TraderState[] {
    return this.traders;
  }

  /** Takes back traders' resting orders from another process' pool (by user). */
  restore(states: readonly TraderState[]): void {
    const byUser = new Map(states.map((s) => [s.userId, s.resting]));
    for (const trader of this.traders) {
      const resting = byUser.get(trader.userId);
      if (resting) trader.resting = resting.map((r) => ({ ...r }));
    }
  }

  get size(): number {
    return this.traders.length;
  }

  anyUser(): bigint {
    const first = this.traders[0];
    if (!first) throw new Error("no traders");
    return first.userId;
  }

  /** Resting orders the traders believe they have (some may have been filled since). */
  restingCount(): number {
    let n = 0;
    for (const t of this.traders) n += t.resting.length;
    return n;
  }

  /** Sends one command, chosen by the mix; never rejects (a refusal is an outcome). */
  async act(): Promise<OpOutcome> {
    const trader = this.traders[Math.floor(this.random() * this.traders.length)];
    if (!trader) throw new Error("no traders");
    const r = this.random();
    if (r < this.probeShare) return this.probe(trader);
    const market = this.pickMarket();
    const x = this.random();
    const wantsCancel = x < MIX.cancel;
    if ((wantsCancel && trader.resting.length > 0) || trader.resting.length >= MAX_RESTING) {
      return this.cancel(trader);
    }
    const crossing = x >= MIX.cancel + MIX.rest;
    return crossing ? this.cross(trader, market) : this.rest(trader, market);
  }

  private pickMarket(): MarketModel {
    let x = this.random();
    for (const market of MARKETS) {
      if (x < market.share) return market;
      x -= market.share;
    }
    const last = MARKETS[MARKETS.length - 1];
    if (!last) throw new Error("no markets");
    return last;
  }

  private lots(m: MarketModel): string {
    const lots = m.minLots + Math.floor(this.random() * (m.maxLots - m.minLots + 1));
    return unitsToDecimal(BigInt(lots), m.amountPrecision);
  }

  private async rest(trader: TraderState, m: MarketModel): Promise<OpOutcome> {
    const side = this.random() < 0.5 ? "buy" : "sell";
    const offset = 1 + Math.floor(this.random() * m.restTicks);
    const ticks = side === "buy" ? m.midTicks - offset : m.midTicks + offset;
    const outcome = await this.place("rest", trader.userId, m.symbol, {
      side,
      price: unitsToDecimal(BigInt(ticks), m.pricePrecision),
      amount: this.lots(m),
      timeInForce: "gtc",
    });
    if (outcome.orderId !== null) {
      trader.resting.push({ market: m.symbol, orderId: outcome.orderId.toString(), probeAt: null });
    }
    return outcome;
  }

  private cross(trader: TraderState, m: MarketModel): Promise<OpOutcome> {
    const side = this.random() < 0.5 ? "buy" : "sell";
    const ticks = side === "buy" ? m.midTicks + m.crossTicks : m.midTicks - m.crossTicks;
    return this.place("cross", trader.userId, m.symbol, {
      side,
      price: unitsToDecimal(BigInt(ticks), m.pricePrecision),
      amount: this.lots(m),
      timeInForce: "ioc",
    });
  }

  private async probe(trader: TraderState): Promise<OpOutcome> {
    const k = this.nextProbe++;
    const m = MARKETS.find((x) => x.symbol === PROBE_MARKET);
    if (!m) throw new Error(`no model for ${PROBE_MARKET}`);
    const outcome = await this.place("probe", trader.userId, m.symbol, {
      side: "buy",
      price: unitsToDecimal(BigInt(PROBE_TOP_TICKS - k), m.pricePrecision),
      amount: unitsToDecimal(BigInt(PROBE_LOTS), m.amountPrecision),
      timeInForce: "gtc",
    });
    if (outcome.orderId !== null) {
      trader.resting.push({
        market: m.symbol,
        orderId: outcome.orderId.toString(),
        probeAt: outcome.calledMs,
      });
    }
    return { ...outcome, probe: k };
  }

  private async place(
    kind: OpKind,
    userId: bigint,
    market: string,
    order: Omit<LimitOrder, "market">,
  ): Promise<OpOutcome> {
    const calledMs = nowMs();
    const answer = await this.transport.place(userId, { market, ...order });
    return {
      kind,
      market,
      calledMs,
      doneMs: nowMs(),
      error: "error" in answer ? answer.error : null,
      orderId: "orderId" in answer ? answer.orderId : null,
      probe: null,
    };
  }

  private async cancel(trader: TraderState): Promise<OpOutcome> {
    // A probe cancelled at once could appear and vanish within one market-data flush, and no
    // client would ever see its level: leave probes younger than 2 s alone when possible.
    let at = Math.floor(this.random() * trader.resting.length);
    for (let tries = 0; tries < 5; tries++) {
      const probeAt = trader.resting[at]?.probeAt ?? null;
      if (probeAt === null || nowMs() - probeAt > 2_000) break;
      at = Math.floor(this.random() * trader.resting.length);
    }
    const target = trader.resting[at];
    const last = trader.resting.pop();
    if (!target || !last) throw new Error("cancel without a resting order");
    if (at < trader.resting.length) trader.resting[at] = last;
    const calledMs = nowMs();
    const answer = await this.transport.cancel(trader.userId, target.market, target.orderId);
    return {
      kind: "cancel",
      market: target.market,
      calledMs,
      doneMs: nowMs(),
      error: answer.error,
      orderId: null,
      probe: null,
    };
  }
}
