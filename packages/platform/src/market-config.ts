// Live market configuration in etcd (/<ns>/config/markets/<symbol>): today, whether a market is
// halted and why. Every process watches it, so an operator's halt reaches placement, the engine
// host and the browsers within a second, without a restart and without polling the database.
import { EventEmitter } from "node:events";
import type { Etcd3, Watcher } from "etcd3";
import type { Logger } from "pino";
import { z } from "zod";
import { type Topology, topology } from "./topology";

export const marketLiveConfig = z.object({
  halted: z.boolean(),
  /** Why the market was halted or resumed, as the operator gave it. */
  reason: z.string().max(500).nullable().default(null),
  updatedAt: z.string(),
  /** Who changed it (an operator id or a process), for the audit trail. */
  by: z.string().max(200).nullable().default(null),
});
export type MarketLiveConfig = z.infer<typeof marketLiveConfig>;

const TRADING: MarketLiveConfig = { halted: false, reason: null, updatedAt: "", by: null };

/** Halts or resumes a market everywhere: every watcher sees the change within a second. */
export async function setMarketHalt(
  etcd: Etcd3,
  symbol: string,
  change: { halted: boolean; reason?: string | null; by?: string | null },
  names: Topology = topology(),
): Promise<MarketLiveConfig> {
  const value: MarketLiveConfig = {
    halted: change.halted,
    reason: change.reason ?? null,
    updatedAt: new Date().toISOString(),
    by: change.by ?? null,
  };
  await etcd.put(names.etcd.marketConfig(symbol)).value(JSON.stringify(value));
  return value;
}

type WatcherEvents = { change: [symbol: string, config: MarketLiveConfig] };

/**
 * The live configuration of every market, kept current by an etcd watch. Markets without a
 * key are trading. A value that does not parse is logged and treated as trading, so a typo in
 * etcd cannot halt the exchange by accident (nor resume it: the previous value is kept).
 */
export class MarketConfigWatcher extends EventEmitter<WatcherEvents> {
  private readonly configs = new Map<string, MarketLiveConfig>();
  private watcher: Watcher | undefined;

  constructor(
    private readonly etcd: Etcd3,
    private readonly log: Logger,
    private readonly names: Topology = topology(),
  ) {
    super();
  }

  /** Loads every market's configuration, then follows changes from that revision on. */
  async start(): Promise<void> {
    const prefix = this.names.etcd.marketConfigPrefix;
    const watcher = await this.etcd.watch().prefix(prefix).create();
    this.watcher = watcher;
    watcher.on("put", (kv) => this.apply(kv.key.toString(), kv.value.toString()));
    watcher.on("delete", (kv) => this.apply(kv.key.toString(), null));
    watcher.on("error", (error) => this.log.warn({ err: error }, "market config watch error"));
    const all = await this.etcd.getAll().prefix(prefix).strings();
    for (const [key, value] of Object.entries(all)) this.apply(key, value);
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel();
  }

  get(symbol: string): MarketLiveConfig {
    return this.configs.get(symbol) ?? TRADING;
  }

  isHalted(symbol: string): boolean {
    return this.get(symbol).halted;
  }

  private apply(key: string, value: string | null) {
    const symbol = key.slice(this.names.etcd.marketConfigPrefix.length);
    if (symbol.length === 0 || symbol.includes("/")) return;
    let next: MarketLiveConfig = TRADING;
    if (value !== null) {
      try {
        next = marketLiveConfig.parse(JSON.parse(value));
      } catch (error) {
        this.log.error({ err: error, key }, "ignoring a malformed market configuration in etcd");
        return;
      }
    }
    const previous = this.get(symbol);
    this.configs.set(symbol, next);
    if (previous.halted !== next.halted || previous.updatedAt !== next.updatedAt) {
      this.emit("change", symbol, next);
    }
  }
}
