// A bench for market-data tests. `EngineScript` turns commands into the very EventMessages the
// engine host publishes (through its own HostedMarket, no server). `startMarketBench` adds the
// servers: a database of its own with the demo markets and funded users, a namespace of its
// own on Kafka/Redis, orders placed through placement, their messages handed to listeners (as
// the engine host folds them into its markets' feeds) and produced to the events topic, and
// settlement applied up to a chosen message exactly as the worker applies it.
import { randomUUID } from "node:crypto";
import {
  applySettlementBatch,
  type Database,
  DEMO_ASSETS,
  DEMO_MARKETS,
  deposit,
  placeOrders,
  type SettlementChanges,
  schema,
} from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import type { Command } from "@spotx/engine";
import { platformEnv } from "@spotx/platform";
import { createKafka, ensureTopics, type Kafka, type Producer } from "@spotx/platform/kafka";
import { type Topology, topology } from "@spotx/platform/topology";
import {
  type EventMessage,
  encodeEvents,
  engineMarketConfig,
  type MarketRules,
  placeCommand,
} from "@spotx/protocol";
import { Partitioners } from "kafkajs";
import { HostedMarket } from "../src/hosted-market";
import type { FeedBootstrap, FeedMarket } from "../src/market-data/feed";
import { settlementEvents } from "../src/settlement";

export const BTC_USDT_RULES: MarketRules = {
  symbol: "BTC_USDT",
  baseDecimals: 8,
  quoteDecimals: 6,
  pricePrecision: 2,
  amountPrecision: 4,
  minBaseLots: 1n,
  minQuoteAmount: 1_000_000n,
  priceBandBps: 1_000,
  maxOpenOrdersPerUser: 200,
};

export const ETH_USDT_RULES: MarketRules = {
  ...BTC_USDT_RULES,
  symbol: "ETH_USDT",
  minBaseLots: 10n,
};

export const BTC_USDT: FeedMarket = {
  symbol: "BTC_USDT",
  base: "BTC",
  quote: "USDT",
  pricePrecision: 2,
  amountPrecision: 4,
  baseDecimals: 8,
  quoteDecimals: 6,
  baseMinorPerLot: 10_000n,
};

export const EMPTY_START: FeedBootstrap = {
  seq: 0,
  epoch: 0n,
  levels: [],
  trades: [],
  candles: [],
  minutes: [],
};

/** BTC_USDT ticks from a price as a trader types it: "30000.5" → 3000050. */
export function usd(price: string): number {
  const [whole = "0", fraction = ""] = price.split(".");
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
}
/** BTC_USDT lots from an amount: "0.25" → 2500. */
export function btc(amount: string): number {
  const [whole = "0", fraction = ""] = amount.split(".");
  return Number(whole) * 10_000 + Number(fraction.padEnd(4, "0"));
}

/** Commands in, the engine host's EventMessages out, with a clock the test sets. */
export class EngineScript {
  readonly hosted: HostedMarket;
  epoch = 1n;
  time = Date.UTC(2026, 10, 24, 12, 0, 0);
  private nextOrderId = 1;

  constructor(rules: MarketRules = BTC_USDT_RULES) {
    this.hosted = HostedMarket.fresh(engineMarketConfig(rules));
  }

  command(command: Command): EventMessage {
    const applied = this.hosted.apply(
      { commandId: null, command, messageTime: command.time, partition: 0, offset: "0" },
      this.epoch,
    );
    if (applied.kind !== "applied") throw new Error("duplicate command");
    return applied.message;
  }

  place(
    userId: number,
    side: "buy" | "sell",
    price: number,
    lots: number,
    extra: { timeInForce?: "gtc" | "ioc"; orderId?: number } = {},
  ): { orderId: number; message: EventMessage } {
    const orderId = extra.orderId ?? this.nextOrderId++;
    const message = this.command({
      type: "place",
      time: this.time,
      orderId,
      userId,
      side,
      orderType: "limit",
      price,
      quantity: lots,
      timeInForce: extra.timeInForce ?? "gtc",
    });
    return { orderId, message };
  }

  cancel(orderId: number, userId: number): EventMessage {
    return this.command({ type: "cancel", time: this.time, orderId, userId });
  }

  halt(): EventMessage {
    return this.command({ type: "halt", time: this.time });
  }

  resume(): EventMessage {
    return this.command({ type: "resume", time: this.time });
  }
}

// ---------------------------------------------------------------------------------------------

export type ProducedMessage = { partition: number; offset: bigint; message: EventMessage };

export type MarketBench = {
  namespace: string;
  names: Topology;
  test: TestDatabase;
  db: Database;
  kafka: Kafka;
  /** Funded traders (each 100 BTC, 100 ETH and 10,000,000 USDT). */
  users: bigint[];
  /** BTC_USDT's engine, as the engine host would run it. */
  engine: HostedMarket;
  /** Every market's engine (BTC_USDT and ETH_USDT). */
  engines: Map<string, HostedMarket>;
  /** Calls `listen` with every message as it is made, before it is produced. */
  onMessage(listen: (message: EventMessage) => void): void;
  /** Everything produced so far, in order. */
  produced: ProducedMessage[];
  /**
   * Places a limit order through placement (hold, pending row), runs it through the engine
   * and produces the resulting message to the events topic.
   */
  place(
    userId: bigint,
    side: "buy" | "sell",
    price: string,
    amount: string,
    market?: string,
  ): Promise<ProducedMessage>;
  /** Produces an engine command of no order (halt, resume). */
  command(command: Command): Promise<ProducedMessage>;
  /**
   * Applies every produced message not yet settled, up to `through` (default: all), as the
   * settlement consumer does; with `commit`, also commits the settlement group's offset past
   * it (kafkajs joins the group to do that: a few seconds).
   */
  settle(through?: ProducedMessage, options?: { commit?: boolean }): Promise<SettlementChanges[]>;
  stop(): Promise<void>;
};

export async function startMarketBench(): Promise<MarketBench> {
  const namespace = `t${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const names = topology(namespace);
  const test = await createTestDatabase();
  const db = test.db;
  await db.insert(schema.assets).values([...DEMO_ASSETS]);
  await db.insert(schema.markets).values([...DEMO_MARKETS]);

  const env = platformEnv();
  const kafka = createKafka(env.KAFKA_BROKERS, `md-test-${namespace}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, names);
  const producer: Producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();

  const users: bigint[] = [];
  for (let i = 0; i < 3; i++) {
    const inserted = await db
      .insert(schema.users)
      .values({ email: `${randomUUID()}@test.spotx.dev`, passwordHash: "x" })
      .returning({ id: schema.users.id });
    const id = inserted[0]?.id;
    if (id === undefined) throw new Error("user not created");
    for (const [asset, amount] of [
      ["BTC", 100n * 10n ** 8n],
      ["ETH", 100n * 10n ** 8n],
      ["USDT", 10n ** 13n],
    ] as const) {
      await deposit(db, { userId: id, asset, amount, ref: `t:${randomUUID()}` });
    }
    users.push(id);
  }

  const engines = new Map(
    [BTC_USDT_RULES, ETH_USDT_RULES].map((rules) => [
      rules.symbol,
      HostedMarket.fresh(engineMarketConfig(rules)),
    ]),
  );
  const engine = engines.get("BTC_USDT");
  if (!engine) throw new Error("no BTC_USDT engine");
  const epoch = 1n;
  const produced: ProducedMessage[] = [];
  let settled = 0;

  const listeners: Array<(message: EventMessage) => void> = [];

  async function produce(message: EventMessage): Promise<ProducedMessage> {
    // What the engine host does with each command's message: fold it into the market's feed.
    for (const listen of listeners) listen(message);
    const [meta] = await producer.send({
      topic: names.kafka.events.topic,
      acks: -1,
      messages: [{ key: message.market, value: encodeEvents(message) }],
    });
    if (!meta?.baseOffset) throw new Error("the broker returned no offset");
    const entry = { partition: meta.partition, offset: BigInt(meta.baseOffset), message };
    produced.push(entry);
    return entry;
  }

  function run(market: string, command: Command, commandId: string | null) {
    const hosted = engines.get(market);
    if (!hosted) throw new Error(`no engine for ${market}`);
    const applied = hosted.apply(
      { commandId, command, messageTime: command.time, partition: 0, offset: "0" },
      epoch,
    );
    if (applied.kind !== "applied") throw new Error("duplicate command");
    return applied.message;
  }

  return {
    namespace,
    names,
    test,
    db,
    kafka,
    users,
    engine,
    engines,
    produced,
    onMessage(listen) {
      listeners.push(listen);
    },
    async place(userId, side, price, amount, market = "BTC_USDT") {
      const [placed] = await placeOrders(db, [
        {
          userId,
          market,
          side,
          type: "limit",
          priceTicks: BigInt(usd(price)),
          amount: BigInt(btc(amount)),
        },
      ]);
      if (!placed?.ok) throw placed?.error ?? new Error("not placed");
      const order = placed.order;
      const command = placeCommand({
        id: order.id,
        userId: order.userId,
        market: order.market,
        side: order.side,
        type: order.type,
        timeInForce: order.timeInForce,
        priceTicks: order.priceTicks,
        amount: order.amount,
        text: order.text,
        stpAct: order.stpAct,
        createdAt: order.createdAt,
      }).command;
      return produce(run(market, command, `o${order.id}`));
    },
    async command(command) {
      return produce(run("BTC_USDT", command, null));
    },
    async settle(through, options = {}) {
      const changes: SettlementChanges[] = [];
      const upTo = through ? produced.indexOf(through) : produced.length - 1;
      for (; settled <= upTo; settled++) {
        const entry = produced[settled];
        if (!entry) break;
        const result = await applySettlementBatch(
          db,
          entry.message.market,
          settlementEvents(entry.message),
          { epoch: BigInt(entry.message.epoch), offset: entry.offset },
        );
        if (!result.ok) throw new Error(`settlement refused: ${JSON.stringify(result, String)}`);
        changes.push(result.changes);
      }
      const last = produced[settled - 1];
      if (options.commit && last) {
        await admin.setOffsets({
          groupId: names.kafka.groups.settlement,
          topic: names.kafka.events.topic,
          partitions: [{ partition: last.partition, offset: String(last.offset + 1n) }],
        });
      }
      return changes;
    },
    async stop() {
      await producer.disconnect();
      await admin.disconnect();
      await test.drop();
    },
  };
}

/** Polls `check` until it returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
