// One market as the engine host holds it: the matching engine plus what the host adds around
// it — a window of recent command ids, so a command the outbox relay published twice is
// applied once, and the translation of the engine's events into the message the events topic
// carries. Pure and synchronous like the engine: replaying the same commands from the same
// snapshot yields the same messages, byte for byte.
import {
  type Command,
  type EngineEvent,
  type EngineSnapshot,
  FINISH_AS,
  type MarketConfig,
  MatchingEngine,
} from "@spotx/engine";
import {
  type CancelFinishAs,
  type CommandReply,
  EVENT_MESSAGE_VERSION,
  type EventMessage,
  type PublishedEvent,
} from "@spotx/protocol";

/** How many recent command ids a market remembers. A duplicate arrives within seconds of its original. */
export const COMMAND_WINDOW = 65_536;

/** The recent command ids of a market, oldest first, with O(1) membership. */
class CommandWindow {
  private readonly ids: string[];
  private readonly index: Set<string>;
  private next = 0;

  constructor(
    private readonly capacity: number,
    initial: readonly string[] = [],
  ) {
    const kept = initial.slice(-capacity);
    this.ids = [...kept];
    this.index = new Set(kept);
    this.next = kept.length % capacity;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  add(id: string): void {
    if (this.ids.length < this.capacity) {
      this.ids.push(id);
    } else {
      const evicted = this.ids[this.next];
      if (evicted !== undefined) this.index.delete(evicted);
      this.ids[this.next] = id;
    }
    this.index.add(id);
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  list(): string[] {
    if (this.ids.length < this.capacity) return [...this.ids];
    return [...this.ids.slice(this.next), ...this.ids.slice(0, this.next)];
  }
}

/** What is stored in engine_snapshots.state. */
export type HostedSnapshot = {
  format: "spotx.engine-host.snapshot";
  version: 1;
  engine: EngineSnapshot;
  /** Recent command ids, oldest first. */
  commands: string[];
};

/** One command read from the orders topic, as the host hands it to its market. */
export type CommandInput = {
  /** The outbox id, or null when the command has none. */
  commandId: string | null;
  /** The decoded command, or null when the message did not decode (it is rejected as unknown). */
  command: Command | null;
  /** The Kafka message's timestamp (ms): the time of a command that did not decode. */
  messageTime: number;
  partition: number;
  offset: string;
};

export type Applied = { kind: "duplicate" } | { kind: "applied"; message: EventMessage };

export class HostedMarket {
  private readonly commands: CommandWindow;

  private constructor(
    readonly symbol: string,
    readonly engine: MatchingEngine,
    commandIds: readonly string[],
  ) {
    this.commands = new CommandWindow(COMMAND_WINDOW, commandIds);
  }

  static fresh(config: MarketConfig): HostedMarket {
    return new HostedMarket(config.symbol, new MatchingEngine(config), []);
  }

  static restore(snapshot: HostedSnapshot): HostedMarket {
    if (snapshot.format !== "spotx.engine-host.snapshot" || snapshot.version !== 1) {
      throw new Error(
        `unknown engine host snapshot format ${snapshot.format} v${snapshot.version}`,
      );
    }
    const engine = MatchingEngine.fromSnapshot(snapshot.engine);
    return new HostedMarket(engine.market.config.symbol, engine, snapshot.commands);
  }

  snapshot(): HostedSnapshot {
    return {
      format: "spotx.engine-host.snapshot",
      version: 1,
      engine: this.engine.snapshot(),
      commands: this.commands.list(),
    };
  }

  get halted(): boolean {
    return this.engine.halted;
  }

  /** Applies one command and returns the message for the events topic (or that it was a duplicate). */
  apply(input: CommandInput, epoch: bigint): Applied {
    if (input.commandId !== null) {
      if (this.commands.has(input.commandId)) return { kind: "duplicate" };
      this.commands.add(input.commandId);
    }
    // A message that did not decode still gets its answer: the engine rejects an unknown
    // command with a sequenced `rejected` event, as it would any malformed one.
    const command: Command =
      input.command ?? ({ type: "unknown", time: input.messageTime } as unknown as Command);
    const events = this.engine.process(command);
    const reply: CommandReply | null =
      command.type === "cancelAll"
        ? {
            type: "cancelAll",
            userId: command.userId,
            cancelled: events.filter((e) => e.type === "cancelled").length,
          }
        : null;
    return {
      kind: "applied",
      message: {
        v: EVENT_MESSAGE_VERSION,
        market: this.symbol,
        epoch: epoch.toString(),
        commandId: input.commandId,
        input: { partition: input.partition, offset: input.offset },
        time: typeof command.time === "number" ? command.time : input.messageTime,
        events: this.publish(events),
        reply,
      },
    };
  }

  /** Adds gate.io's finish_as to each `cancelled` event. */
  private publish(events: EngineEvent[]): PublishedEvent[] {
    return events.map((event) => {
      if (event.type !== "cancelled") return event;
      return { ...event, finishAs: this.finishAs(event, events) };
    });
  }

  /**
   * A market buy (price 0, side buy) spends quote in whole lots and stops when what is left
   * cannot buy one lot at the next ask (or, with the book emptied, at its last fill's price).
   * Having bought something and stopped for that reason, it spent all it could: gate.io calls
   * that `filled`. Having stopped with enough left for another lot (the book ran out), `ioc`.
   */
  private finishAs(
    event: Extract<EngineEvent, { type: "cancelled" }>,
    events: EngineEvent[],
  ): CancelFinishAs {
    const marketBuy = event.side === "buy" && event.price === 0;
    if (!marketBuy || event.reason !== "ioc") return FINISH_AS[event.reason] as CancelFinishAs;
    let lastFill = 0;
    for (const e of events) {
      if (e.type === "trade" && e.takerOrderId === event.orderId) lastFill = e.price;
    }
    if (lastFill === 0) return "ioc";
    const nextPrice = this.engine.bestAsk() || lastFill;
    // Whole lots of the market: quantityStep engine lots each (decisions/006).
    const { quotePerTickLot, quantityStep } = this.engine.market;
    return event.left < nextPrice * quotePerTickLot * quantityStep ? "filled" : "ioc";
  }
}
