// What PostgreSQL's backends for the benchmark's database were doing, sampled from
// pg_stat_activity every 50 ms: running on the CPU, waiting for a row lock another
// transaction holds, for the WAL to reach the disk, … — by the kind of statement. Where the
// database's share of a placement's or a settlement's time goes, without a profiler. Also the
// CPU those backends used (from /proc), by whose connection: the server is shared with other
// databases (other engineers' tests), whose work the PostgreSQL column of the CPU table counts.
import fs from "node:fs";
import type { Database } from "@spotx/db";
import { sql } from "drizzle-orm";
import { pidStat, TICKS_PER_SECOND, tcpSockets } from "./cpu";

export type WaitShare = {
  who: string;
  what: string;
  statement: string;
  share: number;
  backends: number;
};

export type PgWaitReport = {
  samples: number;
  /** Mean number of backends busy (running or waiting, not idle) per sample. */
  busy_backends_mean: number;
  top: WaitShare[];
  /** Cores the benchmark database's backends used, by whose connection (placement, worker…). */
  cpu_by_who: Record<string, number>;
};

/** The kind of statement, from its text: enough to tell placement from settlement from relay. */
function statementKind(query: string): string {
  const q = query.replace(/\s+/g, " ").trim();
  const rules: Array<[RegExp, string]> = [
    [/^COMMIT/i, "COMMIT"],
    [/^BEGIN/i, "BEGIN"],
    [/^WITH x AS MATERIALIZED/i, "write orders, holds, balances (placement)"],
    [/json_build_array\(m\.symbol/i, "read users, balances, markets (placement)"],
    [/^WITH s AS \( UPDATE market_sequences/i, "sequence and balances (settlement)"],
    [/^WITH r AS MATERIALIZED/i, "find orders, queue cancels (cancel)"],
    [/"orders"\."text" in/i, "find orders by client text (cancel)"],
    [
      /SELECT b\.account_id, b\.user_id, b\.asset FROM balances b JOIN/i,
      "account ids (settlement)",
    ],
    [/FOR UPDATE OF b/i, "lock balances (placement, settlement)"],
    [/INSERT INTO orders/i, "insert orders (placement)"],
    [/nextval\('orders_id_seq'\)/i, "draw order ids (placement)"],
    [/INSERT INTO transfers \(kind, ref\) SELECT 'order_hold'/i, "hold transfers (placement)"],
    [/INSERT INTO outbox \(id/i, "insert outbox rows (placement)"],
    [/insert into "outbox"/i, "insert outbox row (cancel)"],
    [/pg_notify/i, "pg_notify (wake the relay)"],
    [/FROM outbox WHERE sent_at IS NULL (AND|ORDER)/i, "read unsent outbox (relay)"],
    [/UPDATE outbox SET sent_at/i, "mark outbox sent (relay)"],
    [/market_sequences/i, "market sequence (settlement)"],
    [/FROM orders o\b.*FOR UPDATE|FOR UPDATE.*orders/i, "lock orders (settlement)"],
    [
      /INSERT INTO trades|INSERT INTO ledger_entries|INSERT INTO transfers/i,
      "ledger writes (settlement)",
    ],
    [/UPDATE orders/i, "update orders (settlement)"],
    [/UPDATE balances/i, "update balances"],
    [/status <> 'pending'/i, "benchmark: settled poll"],
    [/status = 'pending'/i, "benchmark: pipeline state"],
    [/pg_stat_activity/i, "benchmark: this sampler"],
    [/from "orders"/i, "read orders (cancel lookup)"],
  ];
  for (const [pattern, kind] of rules) if (pattern.test(q)) return kind;
  return q.slice(0, 60);
}

/**
 * Whose connection, by the pool's application_name (see exchange.ts and @spotx/platform): the
 * benchmark process' placement service, its observer, or an app's ("spotx" — the web server
 * and the worker both, told apart by whose socket the connection's client port is). Backends
 * without one are autovacuum's or another role's (their query text is hidden from us).
 */
const WHO: Record<string, string> = {
  "spotx-test": "placement",
  spotx: "worker",
  "spotx-bench": "benchmark",
  "": "other (autovacuum, roles)",
};

/** A process whose connections are named for it (`who`), found by their client ports. */
export type ConnectionOwner = { who: string; pid: number };

/** Local TCP port → owner, for the sockets the owners hold now (from /proc). */
function portOwners(owners: readonly ConnectionOwner[]): Map<number, string> {
  const byInode = new Map<string, string>();
  for (const owner of owners) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${owner.pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(
          fs.readlinkSync(`/proc/${owner.pid}/fd/${fd}`),
        )?.[1];
        if (inode) byInode.set(inode, owner.who);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports = new Map<number, string>();
  for (const f of tcpSockets()) {
    const who = f[9] ? byInode.get(f[9]) : undefined;
    const port = f[1]?.split(":")[1];
    if (who && port) ports.set(Number.parseInt(port, 16), who);
  }
  return ports;
}

export class PgWaitSampler {
  private readonly counts = new Map<
    string,
    { who: string; what: string; statement: string; n: number }
  >();
  private samples = 0;
  private busy = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Backend pid → its connection's owner and CPU ticks at the last look. */
  private readonly backends = new Map<number, { who: string; ticks: number }>();
  private readonly ticksByWho = new Map<string, number>();
  private startedAt = 0;

  private ports = new Map<number, string>();
  private portsAt = 0;

  constructor(
    private readonly db: Database,
    private readonly owners: readonly ConnectionOwner[] = [],
    private readonly intervalMs = 50,
  ) {}

  /** Whose connection a backend serves. */
  private whoOf(app: string, clientPort: number | null): string {
    if (app === "spotx" && clientPort !== null && this.owners.length > 0) {
      // New connections appear as pools grow: look again, at most once a second.
      if (!this.ports.has(clientPort) && performance.now() - this.portsAt > 1_000) {
        this.ports = portOwners(this.owners);
        this.portsAt = performance.now();
      }
      const owner = this.ports.get(clientPort);
      if (owner) return owner;
    }
    return WHO[app] ?? app;
  }

  start(): void {
    this.running = true;
    this.startedAt = performance.now();
    this.loop = (async () => {
      while (this.running) {
        await this.sample().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
      }
    })();
  }

  async stop(): Promise<PgWaitReport> {
    this.running = false;
    await this.loop;
    const total = Math.max(1, this.busy);
    const seconds = Math.max(0.001, (performance.now() - this.startedAt) / 1000);
    const cpuByWho: Record<string, number> = {};
    for (const [who, ticks] of this.ticksByWho) {
      cpuByWho[who] = Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
    }
    return {
      cpu_by_who: cpuByWho,
      samples: this.samples,
      busy_backends_mean: Math.round((this.busy / Math.max(1, this.samples)) * 100) / 100,
      top: [...this.counts.values()]
        .sort((a, b) => b.n - a.n)
        .slice(0, 12)
        .map((c) => ({
          who: c.who,
          what: c.what,
          statement: c.statement,
          share: Math.round((c.n / total) * 1000) / 1000,
          backends: Math.round((c.n / Math.max(1, this.samples)) * 100) / 100,
        })),
    };
  }

  private async sample() {
    const found = await this.db.execute<{
      pid: number;
      wait: string | null;
      state: string;
      query: string;
      app: string;
      port: number | null;
    }>(sql`
      SELECT pid, coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, state, query,
             application_name AS app, client_port AS port
        FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    this.samples += 1;
    // CPU by connection: every tenth sample is often enough (backends live as long as pools).
    if (this.samples % 10 === 1) {
      for (const row of found.rows) {
        const stat = pidStat(row.pid);
        if (!stat) continue;
        const who = this.whoOf(row.app, row.port);
        const previous = this.backends.get(row.pid);
        if (previous && previous.who === who) {
          this.ticksByWho.set(who, (this.ticksByWho.get(who) ?? 0) + stat.ticks - previous.ticks);
        }
        this.backends.set(row.pid, { who, ticks: stat.ticks });
      }
    }
    for (const row of found.rows) {
      if (row.state === "idle") continue;
      const statement = statementKind(row.query);
      if (statement === "benchmark: this sampler") continue;
      // Waiting for the client inside a transaction is the client's time, not the server's.
      const what =
        row.state === "idle in transaction" ? "idle in transaction" : (row.wait ?? "CPU");
      const who = this.whoOf(row.app, row.port);
      const key = `${who}\u0000${what}\u0000${statement}`;
      const entry = this.counts.get(key) ?? { who, what, statement, n: 0 };
      entry.n += 1;
      this.counts.set(key, entry);
      this.busy += 1;
    }
  }
}
