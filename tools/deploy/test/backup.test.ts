// Backups that restore: a running exchange is backed up while it trades — WAL streamed into an
// archive through a replication slot, a base backup of the whole cluster taken mid-trading —
// trades on, and is restored into a fresh PostgreSQL server. Recovered to the end of the archive,
// the copy holds every order, trade, account, balance and ledger row exactly as the source has
// them, and its ledger reconciles clean; recovered from the base backup alone, it lacks every
// trade made after the backup — so it is the archived WAL that brought them.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { checkFence, createDatabase, isLedgerError } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { createEtcd } from "@spotx/platform/etcd";
import { LockService } from "@spotx/platform/locks";
import { marketLiveConfig } from "@spotx/platform/market-config";
import { createPostgresPool } from "@spotx/platform/postgres";
import { createRedis } from "@spotx/platform/redis";
import { postgresAdminUrl } from "@spotx/stack/postgres";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BackupError,
  type BaseBackup,
  type RestoredServer,
  restoreBackup,
  startWalArchiving,
  switchWal,
  takeBaseBackup,
  type WalArchive,
} from "../src/backup";
import { checkRestore } from "../src/backup-check";
import { type BackupExchange, startBackupExchange } from "../src/backup-exchange";
import {
  advanceEtcdRevision,
  highestEpoch,
  restoreFencingCounters,
  restoreLiveHalts,
} from "../src/backup-recovery";

const SLOT_PREFIX = "spotx_backup_test_";
const adminUrl = postgresAdminUrl();
const workDir = path.resolve(
  import.meta.dirname,
  `../../../.data/backup-test-${randomBytes(4).toString("hex")}`,
);

/** The rows that must survive a restore exactly, each table in its key's order. */
const TABLES = [
  ["orders", "id"],
  ["trades", "market, id"],
  ["accounts", "id"],
  ["balances", "account_id"],
  ["transfers", "id"],
  ["ledger_entries", "transfer_id, idx"],
  ["market_sequences", "market"],
] as const;

type Rows = Record<string, string[]>;

async function readTables(url: string): Promise<Rows> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows: Rows = {};
    for (const [table, key] of TABLES) {
      // A row's text form carries every column exactly as stored.
      const found = await client.query<{ row: string }>(
        `SELECT t::text AS row FROM ${table} t ORDER BY ${key}`,
      );
      rows[table] = found.rows.map((r) => r.row);
    }
    return rows;
  } finally {
    await client.end();
  }
}

/** The trades (market:id) that involve any of the given orders, in the database at `url`. */
async function tradesOf(url: string, orderIds: bigint[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const found = await client.query<{ trade: string }>(
      `SELECT market || ':' || id AS trade FROM trades
        WHERE maker_order_id = ANY($1::int8[]) OR taker_order_id = ANY($1::int8[])
        ORDER BY market, id`,
      [orderIds.map(String)],
    );
    return found.rows.map((r) => r.trade);
  } finally {
    await client.end();
  }
}

async function allTrades(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const found = await client.query<{ trade: string }>(
      "SELECT market || ':' || id AS trade FROM trades ORDER BY market, id",
    );
    return found.rows.map((r) => r.trade);
  } finally {
    await client.end();
  }
}

/** Drops replication slots a killed run of this test left behind (they would pin WAL forever). */
async function dropStaleSlots() {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const cutoff = Math.floor(Date.now() / 1000) - 15 * 60;
    const found = await client.query<{ slot_name: string }>(
      "SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_name LIKE $1",
      [`${SLOT_PREFIX}%`],
    );
    for (const { slot_name } of found.rows) {
      const created = Number(slot_name.slice(SLOT_PREFIX.length).split("_")[0]);
      if (created < cutoff) {
        await client.query("SELECT pg_drop_replication_slot($1)", [slot_name]).catch(() => {});
      }
    }
  } finally {
    await client.end();
  }
}

let exchange: BackupExchange;
let archive: WalArchive | undefined;
let backup: BaseBackup;
/** The source's rows once everything settled, read before the last WAL switch. */
let source: Rows;
/** Trades settled before the base backup started: every restore has them. */
let tradesBeforeBackup: string[];
/** Orders placed only after the base backup finished, and their trades. */
const ordersAfterBackup: bigint[] = [];
let tradesAfterBackup: string[];

/** Users who cross each other: sellers hold BTC and ETH, buyers USDT. */
const pairs: Array<{ seller: bigint; buyer: bigint }> = [];

async function cross(round: number): Promise<bigint[]> {
  const pair = pairs[round % pairs.length];
  if (!pair) throw new Error("no trading pairs");
  const market = round % 3 === 0 ? "ETH_USDT" : "BTC_USDT";
  const price = market === "BTC_USDT" ? `${30_000 + (round % 5)}` : `${2_000 + (round % 5)}`;
  const amount = market === "BTC_USDT" ? "0.01" : "0.1";
  const [sell, buy] = await Promise.all([
    exchange.trading.placeOrder(pair.seller, {
      market,
      side: "sell",
      type: "limit",
      amount,
      price,
    }),
    exchange.trading.placeOrder(pair.buyer, { market, side: "buy", type: "limit", amount, price }),
  ]);
  return [sell.order.id, buy.order.id];
}

/** The same database, as the same role, on the restored server. */
const onRestored = (restored: RestoredServer, url: string) => {
  const parsed = new URL(url);
  return restored.url(
    decodeURIComponent(parsed.username),
    decodeURIComponent(parsed.password),
    parsed.pathname.slice(1),
  );
};

beforeAll(async () => {
  await dropStaleSlots();
  exchange = await startBackupExchange();
  for (let i = 0; i < 4; i++) {
    const seller = await exchange.createUser();
    const buyer = await exchange.createUser();
    await exchange.fund(seller, "BTC", 1_000_000_000n); // 10 BTC
    await exchange.fund(seller, "ETH", 10_000_000_000n); // 100 ETH
    await exchange.fund(buyer, "USDT", 1_000_000_000_000n); // 1,000,000 USDT
    // A bid far below the trading price rests through the whole test, holding its funds.
    await exchange.trading.placeOrder(buyer, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      amount: "0.5",
      price: "28000",
    });
    pairs.push({ seller, buyer });
  }

  // Archiving starts before the base backup, so the archive holds every WAL record after it.
  archive = await startWalArchiving({
    serverUrl: adminUrl,
    dir: path.join(workDir, "archive"),
    slot: `${SLOT_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString("hex")}`,
  });

  for (let round = 0; round < 12; round++) await cross(round);
  await exchange.drained();
  tradesBeforeBackup = await allTrades(exchange.test.url);

  // The base backup is taken while the users keep trading.
  let trading = true;
  let round = 100;
  const during = (async () => {
    while (trading) await cross(round++);
  })();
  try {
    backup = await takeBaseBackup({
      serverUrl: adminUrl,
      dir: path.join(workDir, "base"),
      label: "spotx backup test",
      durable: false,
    });
  } finally {
    trading = false;
    await during;
  }
  console.info(
    `base backup of the stack's cluster: ${(backup.bytes / 1024 / 1024).toFixed(1)} MiB in ${backup.durationMs} ms (WAL ${backup.startLsn}..${backup.endLsn}); ${round - 100} crossing pairs placed meanwhile`,
  );

  for (let after = 0; after < 12; after++) ordersAfterBackup.push(...(await cross(1_000 + after)));
  await exchange.drained();
  source = await readTables(exchange.test.url);
  tradesAfterBackup = await tradesOf(exchange.test.url, ordersAfterBackup);

  // Closing the current segment puts everything committed so far into a complete archive file.
  await archive.waitFor(await switchWal(adminUrl));
}, 120_000);

afterAll(async () => {
  const steps = [
    () => archive?.dropSlot(),
    () => fs.promises.rm(workDir, { recursive: true, force: true }),
    () => exchange?.stop(),
  ];
  const failures: unknown[] = [];
  for (const step of steps) await Promise.resolve(step()).catch((error) => failures.push(error));
  if (failures.length > 0) throw failures[0];
}, 60_000);

describe("a base backup and the WAL archive of a running exchange", () => {
  it("restore every order, trade, account, balance and ledger row exactly, and the copy reconciles clean", {
    timeout: 90_000,
  }, async () => {
    const started = performance.now();
    const restored = await restoreBackup({
      backupDir: backup.dir,
      archiveDir: path.join(workDir, "archive"),
      dataDir: path.join(workDir, "restore-end"),
      target: { kind: "end" },
      durable: false,
    });
    try {
      console.info(
        `restored to the end of the archive in ${Math.round(performance.now() - started)} ms`,
      );
      const copy = await readTables(onRestored(restored, exchange.test.url));
      for (const [table] of TABLES) {
        expect(copy[table], table).toEqual(source[table]);
      }
      // The copy is the whole exchange, not an empty one: the trades of every phase are there.
      const trades = await allTrades(onRestored(restored, exchange.test.url));
      expect(trades).toEqual(expect.arrayContaining([...tradesBeforeBackup, ...tradesAfterBackup]));
      expect(tradesAfterBackup.length).toBeGreaterThanOrEqual(12);
      expect(source.orders?.length).toBeGreaterThan(2 * 24);

      // The operator's check of a restore: a clean reconciliation and the same figures.
      const pool = createPostgresPool(onRestored(restored, exchange.test.url), { max: 2 });
      try {
        const check = await checkRestore(createDatabase(pool));
        expect(check.reconciliation.findings).toEqual([]);
        expect(check.reconciliation.status).toBe("clean");
        expect(check.reconciliation.entriesChecked).toBeGreaterThan(0);
        expect(check.trades).toBe(BigInt(source.trades?.length ?? -1));
        expect(check.users).toBe(8n);
        expect(check.orders.open).toBe(4n); // the four resting bids
      } finally {
        await pool.end();
      }
    } finally {
      await restored.stopAndRemove();
    }
  });

  it("without the archive's WAL after it, a restore lacks every trade made after the backup", {
    timeout: 60_000,
  }, async () => {
    const restored = await restoreBackup({
      backupDir: backup.dir,
      archiveDir: path.join(workDir, "archive"),
      dataDir: path.join(workDir, "restore-immediate"),
      target: { kind: "immediate" },
      durable: false,
    });
    try {
      const url = onRestored(restored, exchange.test.url);
      expect(await tradesOf(url, ordersAfterBackup)).toEqual([]);
      const trades = await allTrades(url);
      expect(trades).toEqual(expect.arrayContaining(tradesBeforeBackup));
      expect(trades).not.toEqual(expect.arrayContaining(tradesAfterBackup.slice(0, 1)));
    } finally {
      await restored.stopAndRemove();
    }
  });
});

describe("what PostgreSQL keeps for a Redis or etcd that comes back empty", () => {
  const env = platformEnv();

  it("a lock's fencing counter, lost with Redis, is raised back past every token the database accepted", async () => {
    const { db, names } = exchange;
    const redis = createRedis(env.REDIS_URL);
    const locks = new LockService(redis, { prefix: names.locks.keyPrefix });
    const resource = "job:backup-test";
    const counter = `${names.locks.keyPrefix}{${resource}}:token`;
    const fencedWrite = async () => {
      const lock = await locks.acquire(resource, 10_000);
      if (!lock) throw new Error("lock busy");
      try {
        await db.transaction((tx) => checkFence(tx, lock.fence));
        return lock.token;
      } finally {
        await lock.release();
      }
    };
    try {
      expect(await fencedWrite()).toBe(1n);
      expect(await fencedWrite()).toBe(2n);
      // Redis comes back empty: the counter starts again, and the database refuses its tokens.
      await redis.del(counter);
      const refused = await fencedWrite().catch((error: unknown) => error);
      expect(isLedgerError(refused) && refused.label).toBe("STALE_FENCING_TOKEN");

      const raised = await restoreFencingCounters(db, redis, names);
      expect(raised).toContain(resource);
      expect(await fencedWrite()).toBe(3n);
      // A counter already past the database's is never lowered.
      expect(await restoreFencingCounters(db, redis, names)).not.toContain(resource);
    } finally {
      await redis.del(counter);
      redis.disconnect();
    }
  });

  it("a halt, lost with etcd, is written back from markets.status; a live key is left alone", async () => {
    const { db, names } = exchange;
    const etcd = createEtcd(env.ETCD_ENDPOINTS);
    try {
      await db.execute(sql`UPDATE markets SET status = 'halted' WHERE symbol = 'ETH_USDT'`);
      expect(await restoreLiveHalts(db, etcd, names)).toEqual(["ETH_USDT"]);
      const live = await etcd.get(names.etcd.marketConfig("ETH_USDT")).string();
      expect(marketLiveConfig.parse(JSON.parse(live ?? "null"))).toMatchObject({
        halted: true,
        reason: "restored from markets.status (halted)",
      });
      expect(await etcd.get(names.etcd.marketConfig("BTC_USDT")).string()).toBeNull();
      expect(await restoreLiveHalts(db, etcd, names)).toEqual([]);
    } finally {
      etcd.close();
    }
  });

  it("etcd's revision is moved past the highest epoch settlement accepted", async () => {
    const { db, names } = exchange;
    const etcd = createEtcd(env.ETCD_ENDPOINTS);
    try {
      const epoch = await highestEpoch(db);
      expect(epoch).toBeGreaterThan(0n); // the worker's ownership of the markets settled trades
      const now = BigInt((await etcd.get("/").exec()).header.revision);
      const past = (epoch > now ? epoch : now) + 300n;
      expect(await advanceEtcdRevision(etcd, names, past)).toBeGreaterThan(past);
      const refused = await advanceEtcdRevision(etcd, names, -1n).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BackupError);
      expect((refused as BackupError).label).toBe("INVALID_PARAM_VALUE");
    } finally {
      etcd.close();
    }
  });

  it("the backup procedure refuses bad input with INVALID_PARAM_VALUE before it touches anything", async () => {
    const cases = [
      () => takeBaseBackup({ serverUrl: adminUrl, dir: backup.dir }), // exists already
      () => takeBaseBackup({ serverUrl: "mysql://x", dir: path.join(workDir, "never") }),
      () =>
        restoreBackup({
          backupDir: backup.dir,
          archiveDir: `${workDir}/archive'; rm -rf /`,
          dataDir: path.join(workDir, "never"),
        }),
      () =>
        restoreBackup({
          backupDir: path.join(workDir, "archive"), // not a base backup
          archiveDir: path.join(workDir, "archive"),
          dataDir: path.join(workDir, "never"),
        }),
      () =>
        restoreBackup({
          backupDir: backup.dir,
          archiveDir: path.join(workDir, "archive"),
          dataDir: path.join(workDir, "never"),
          target: { kind: "time", time: new Date(Number.NaN) },
        }),
      () =>
        startWalArchiving({
          serverUrl: adminUrl,
          dir: path.join(workDir, "never"),
          slot: "Bad-Slot",
        }),
    ];
    for (const attempt of cases) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackupError);
      expect((error as BackupError).label).toBe("INVALID_PARAM_VALUE");
    }
    expect(fs.existsSync(path.join(workDir, "never"))).toBe(false);
  });
});
