// A market's halt lives in two places, kept in step by the operator actions that change it:
// etcd (/<ns>/config/markets/<symbol>), watched by every process — placement refuses at once and
// the engine owner appends a halt command to the market's log — and `markets.status` in
// PostgreSQL, the durable record, which the ledger's placement checks again inside its own
// transaction. The etcd write happens inside the PostgreSQL transaction that changes the status
// and writes the audit row, just before it commits: if etcd refuses, nothing is changed; if the
// commit fails after etcd took the change, the previous etcd value is put back.
import { LedgerError } from "@spotx/db";
import { breakers } from "@spotx/platform/breakers";
import type { Etcd3 } from "@spotx/platform/etcd";
import type { Logger } from "@spotx/platform/logger";
import {
  type MarketLiveConfig,
  marketLiveConfig,
  setMarketHalt,
} from "@spotx/platform/market-config";
import type { Topology } from "@spotx/platform/topology";

export type LiveHaltWrite = {
  /** The raw value the write replaced (null: the key did not exist, the market was trading). */
  previous: string | null;
  written: MarketLiveConfig;
};

/** The live configuration as etcd holds it now (null: no key, or a value that does not parse). */
export function parseLive(raw: string | null): MarketLiveConfig | null {
  if (raw === null) return null;
  try {
    const parsed = marketLiveConfig.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function readLiveHalt(
  etcd: Etcd3,
  names: Topology,
  symbol: string,
): Promise<string | null> {
  return breakers.etcd.run(() => etcd.get(names.etcd.marketConfig(symbol)).string());
}

/** Writes the halt (or resume) to etcd through its breaker, remembering what it replaced. */
export async function writeLiveHalt(
  etcd: Etcd3,
  names: Topology,
  symbol: string,
  change: { halted: boolean; reason: string; by: string },
): Promise<LiveHaltWrite> {
  const previous = await readLiveHalt(etcd, names, symbol);
  const written = await breakers.etcd.run(() => setMarketHalt(etcd, symbol, change, names));
  return { previous, written };
}

/** Puts back what `writeLiveHalt` replaced, after the transaction that went with it failed. */
export async function undoLiveHalt(
  etcd: Etcd3,
  names: Topology,
  symbol: string,
  write: LiveHaltWrite,
  log: Logger,
): Promise<void> {
  const key = names.etcd.marketConfig(symbol);
  try {
    await breakers.etcd.run(async () => {
      if (write.previous === null) await etcd.delete().key(key);
      else await etcd.put(key).value(write.previous);
    });
  } catch (error) {
    // The halt in etcd now disagrees with markets.status: say exactly what to repair.
    log.error(
      { err: error, market: symbol, key, previous: write.previous, written: write.written },
      "could not undo a market halt change in etcd after its transaction failed; set it back by hand",
    );
  }
}

/** The refusal for a market that does not exist (gate.io's label for an unknown pair). */
export function unknownMarket(symbol: string): LedgerError {
  return new LedgerError("INVALID_CURRENCY_PAIR", `unknown market ${symbol}`);
}
