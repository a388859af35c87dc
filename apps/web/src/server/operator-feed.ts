// The operator console's live feed, produced by each web instance for the operator sockets
// connected to it (and only while there are some), sent with io.local so that N instances never
// deliver N copies. The pipeline is sampled all the time — every two seconds while a console is
// open here, every ten otherwise — into the last hour's history (pipeline-history.ts: a ring
// buffer per instance mirrored into Redis), so that a console arriving during an incident draws
// what led up to it, from every instance's samples merged. Every instance can see the whole
// cluster on its own — the registry is in etcd, each process serves /metrics, Kafka answers
// anyone — so no producer needs electing, a dead instance takes only its own consoles' feed with
// it, and the cost is a few small requests every two seconds per instance that has a console
// open (every ten seconds per instance otherwise). Three streams:
//   - services: an etcd watch on the registry and the market owners, pushed the moment a lease
//     comes or goes, with each instance's /health and /ready probed every few seconds;
//   - pipeline: consumer lag measured from Kafka, and the rates, latencies, outbox and
//     settlement figures from every process's /metrics, every two seconds, the last hour first;
//   - guards: lock holders from Redis, breaker states and rate-limit refusals per instance.
import { type Sample, scrapeMetrics } from "@spotx/api/admin/metrics-scrape";
import { inspectInstance, marketOwners, type OwnedMarket } from "@spotx/api/admin/services";
import { type Database, schema } from "@spotx/db";
import { BREAKER_STATE_VALUE, type BreakerState, breakers } from "@spotx/platform/breakers";
import { measureConsumerLag, pipelineGroups } from "@spotx/platform/consumer-lag";
import type { Etcd3, Watcher } from "@spotx/platform/etcd";
import { kafkaAdminSession } from "@spotx/platform/kafka-overview";
import type { LockService } from "@spotx/platform/locks";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import { listServices, type ServiceRecord } from "@spotx/platform/service-registry";
import type { Topology } from "@spotx/platform/topology";
import {
  OPERATOR_ROOM,
  type OperatorGuardsMessage,
  type OperatorService,
  type OperatorServicesMessage,
  type PipelineSample,
  type SocketReply,
} from "@spotx/protocol";
import { and, eq, inArray } from "drizzle-orm";
import {
  addBuckets,
  type Buckets,
  bucketIncrease,
  histogramQuantile,
  increaseOf,
  roundFigure,
  type Scrape,
  samplesOf,
} from "./pipeline-figures";
import { PipelineHistory } from "./pipeline-history";
import type { ClientSocket, SocketServer } from "./socket-server";

/** How often the pipeline and guards are sampled while a console is open here. */
export const FEED_INTERVAL_MS = 2_000;
/** How often the pipeline is sampled for the history while none is. */
export const IDLE_SAMPLE_MS = 10_000;
/** How often every instance's /health and /ready are asked (besides on every registry change). */
const PROBE_INTERVAL_MS = 3_000;
/** How often the members' accounts are read again (an operator frozen meanwhile is let go). */
const MEMBERS_RECHECK_MS = 15_000;
const SCRAPE_TIMEOUT_MS = 1_500;

const WANTED = new Set([
  "spotx_placement_batch_size_sum",
  "spotx_placement_batch_seconds_bucket",
  "spotx_gate_request_seconds_bucket",
  "spotx_engine_command_seconds_bucket",
  "spotx_engine_commands_total",
  "spotx_outbox_backlog",
  "spotx_outbox_oldest_unsent_age_seconds",
  "spotx_settlement_lag_ms",
  "spotx_settlement_stopped",
  "spotx_settlement_last_seq",
  "spotx_breaker_state",
  "spotx_breaker_transitions_total",
  "spotx_breaker_rejections_total",
  "spotx_breaker_last_transition_seconds",
  "spotx_rate_limit_rejections_total",
]);

export type OperatorFeedOptions = {
  /** The instance's socket.io server: the feed goes to its own operator sockets (io.local). */
  io: SocketServer;
  db: Database;
  etcd: Etcd3;
  locks: LockService;
  /** Where the pipeline history is kept for the other instances (and read from theirs). */
  redis: Redis;
  names: Topology;
  log: Logger;
  /** This web instance's id (its registration's), naming its history in Redis. */
  instanceId: string;
  /** How often the pipeline is sampled while no console is open here (IDLE_SAMPLE_MS). */
  idleSampleMs?: number;
};

export type OperatorFeed = {
  join(socket: ClientSocket): Promise<SocketReply>;
  leave(socket: ClientSocket): SocketReply;
  /** Forget a socket that disconnected. */
  drop(socketId: string): void;
  close(): Promise<void>;
};

const refuse = (label: string, message: string): SocketReply => ({
  ok: false,
  error: { label, message },
});

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : "unknown failure");

function presentMarket(market: OwnedMarket) {
  return { ...market, epoch: market.epoch.toString() };
}

export function startOperatorFeed(options: OperatorFeedOptions): OperatorFeed {
  const { db, etcd, locks, names, log } = options;
  const members = new Map<string, { socket: ClientSocket; userId: bigint }>();

  let records: ServiceRecord[] = [];
  let owners: Array<OwnedMarket & { instance: string }> = [];
  let registryError: string | null = null;
  const probes = new Map<string, Pick<OperatorService, "health" | "ready">>();
  let lastServices: OperatorServicesMessage | null = null;
  const history = new PipelineHistory({
    redis: options.redis,
    names,
    instanceId: options.instanceId,
    log,
  });
  let lastGuards: OperatorGuardsMessage | null = null;
  let previousScrapes = new Map<string, { at: number; scrape: Scrape }>();

  let running = false;
  /** Bumped by every start: a loop of an earlier run (still finishing its work) ends itself. */
  let generation = 0;
  let watcher: Watcher | undefined;
  const timers: NodeJS.Timeout[] = [];

  const room = () => options.io.local.to(OPERATOR_ROOM);

  function servicesMessage(): OperatorServicesMessage {
    const registered = new Set(records.map((r) => r.id));
    return {
      time: Date.now(),
      instances: [...records]
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id))
        .map((record) => ({
          ...record,
          health: probes.get(record.id)?.health ?? null,
          ready: probes.get(record.id)?.ready ?? null,
          markets: owners
            .filter((o) => o.instance === record.id)
            .map(({ instance: _instance, ...market }) => presentMarket(market)),
        })),
      orphanedMarkets: owners
        .filter((o) => !registered.has(o.instance))
        .map((o) => ({ ...presentMarket(o), instance: o.instance })),
      error: registryError,
    };
  }

  function sendServices() {
    lastServices = servicesMessage();
    room().emit("operator.services", lastServices);
  }

  /** Reads the registry and the owners again (the failure is kept in registryError). */
  async function loadRegistry() {
    try {
      const [found, owned] = await breakers.etcd.run(() =>
        Promise.all([listServices(etcd, names), marketOwners(etcd, names)]),
      );
      records = found;
      owners = owned;
      registryError = null;
      const ids = new Set(found.map((r) => r.id));
      for (const id of probes.keys()) if (!ids.has(id)) probes.delete(id);
    } catch (error) {
      registryError = `the registry could not be read: ${reasonOf(error)}`;
    }
  }

  /** Reads the registry and the owners again, and pushes the list at once (probes as they were). */
  async function readRegistry() {
    await loadRegistry();
    sendServices();
  }

  let registryQueued = false;
  function registryChanged() {
    // A burst of watch events (a worker's registration and its markets) is read once.
    if (registryQueued) return;
    registryQueued = true;
    setTimeout(() => {
      registryQueued = false;
      if (running) void readRegistry();
    }, 50).unref();
  }

  async function probeAll() {
    const current = [...records];
    const inspected = await Promise.all(
      current.map((record) => inspectInstance(record, []).then((found) => ({ record, found }))),
    );
    for (const { record, found } of inspected) {
      // An instance that vanished while it was being asked stays gone.
      if (!records.some((r) => r.id === record.id)) continue;
      probes.set(record.id, { health: found.health, ready: found.ready });
    }
    sendServices();
  }

  async function scrapeAll(): Promise<{
    scrapes: Map<string, { at: number; scrape: Scrape; kind: ServiceRecord["kind"] }>;
    errors: Array<{ id: string; error: string }>;
  }> {
    const scrapes = new Map<string, { at: number; scrape: Scrape; kind: ServiceRecord["kind"] }>();
    const errors: Array<{ id: string; error: string }> = [];
    await Promise.all(
      records.map(async (record) => {
        const result = await scrapeMetrics(
          `http://${record.host}:${record.httpPort}/metrics`,
          WANTED,
          SCRAPE_TIMEOUT_MS,
        );
        if (result.ok)
          scrapes.set(record.id, { at: Date.now(), scrape: result.samples, kind: record.kind });
        else errors.push({ id: record.id, error: result.error });
      }),
    );
    return { scrapes, errors };
  }

  async function measureLag(): Promise<{ lag: PipelineSample["lag"]; error: string | null }> {
    try {
      const measured = await breakers.kafka.run(() =>
        kafkaAdminSession().use((admin) => measureConsumerLag(admin, pipelineGroups(names))),
      );
      return {
        lag: measured.map(({ group, topic, partition, lag }) => ({ group, topic, partition, lag })),
        error: null,
      };
    } catch (error) {
      return { lag: null, error: `consumer lag could not be measured: ${reasonOf(error)}` };
    }
  }

  function pipelineSample(
    time: number,
    scrapes: Map<string, { at: number; scrape: Scrape; kind: ServiceRecord["kind"] }>,
    errors: Array<{ id: string; error: string }>,
    lag: { lag: PipelineSample["lag"]; error: string | null },
  ): PipelineSample {
    let placed = 0;
    let commands = 0;
    let seconds = 0;
    const ack: Buckets = new Map();
    const commit: Buckets = new Map();
    const engine: Buckets = new Map();
    let rated = 0;
    for (const [id, now] of scrapes) {
      const before = previousScrapes.get(id);
      if (!before) continue;
      rated += 1;
      // Every process's interval is about the same; the widest one is the honest denominator.
      seconds = Math.max(seconds, (now.at - before.at) / 1000);
      placed += increaseOf(before.scrape, now.scrape, "spotx_placement_batch_size_sum");
      commands += increaseOf(before.scrape, now.scrape, "spotx_engine_commands_total", {
        mode: "live",
        outcome: "applied",
      });
      addBuckets(
        ack,
        bucketIncrease(before.scrape, now.scrape, "spotx_gate_request_seconds", {
          route: "POST /spot/orders",
        }),
      );
      addBuckets(
        commit,
        bucketIncrease(before.scrape, now.scrape, "spotx_placement_batch_seconds"),
      );
      addBuckets(engine, bucketIncrease(before.scrape, now.scrape, "spotx_engine_command_seconds"));
    }
    const rate = (n: number) => (rated === 0 || seconds <= 0 ? null : roundFigure(n / seconds));
    const inUnits = (value: number | null, scale: number) =>
      value === null ? null : roundFigure(value * scale);

    const workers = [...scrapes.values()].filter((s) => s.kind === "worker");
    const backlogs = workers.flatMap((w) => samplesOf(w.scrape, "spotx_outbox_backlog"));
    const ages = workers.flatMap((w) =>
      samplesOf(w.scrape, "spotx_outbox_oldest_unsent_age_seconds"),
    );
    const markets = new Map<string, { lagMs: number; stopped: boolean; lastSeq: number }>();
    for (const worker of workers) {
      const seqs = samplesOf(worker.scrape, "spotx_settlement_last_seq");
      const lagOf = (market: string | undefined) =>
        samplesOf(worker.scrape, "spotx_settlement_lag_ms").find((s) => s.labels.market === market)
          ?.value ?? 0;
      for (const seq of seqs) {
        const market = seq.labels.market;
        if (market === undefined) continue;
        const known = markets.get(market);
        // The worker that settled furthest is the one settling the market now.
        if (!known || seq.value > known.lastSeq) {
          markets.set(market, {
            lagMs: lagOf(market),
            stopped: known?.stopped ?? false,
            lastSeq: seq.value,
          });
        }
      }
      for (const stop of samplesOf(worker.scrape, "spotx_settlement_stopped")) {
        const market = stop.labels.market;
        if (market === undefined || stop.value !== 1) continue;
        const known = markets.get(market) ?? { lagMs: 0, stopped: true, lastSeq: 0 };
        markets.set(market, { ...known, stopped: true });
      }
    }
    return {
      time,
      lag: lag.lag,
      lagError: lag.error,
      outbox:
        backlogs.length === 0
          ? null
          : {
              backlog: Math.max(...backlogs.map((s: Sample) => s.value)),
              oldestAgeSeconds: roundFigure(Math.max(0, ...ages.map((s) => s.value))) ?? 0,
            },
      settlement: [...markets.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([market, figures]) => ({ market, ...figures, lagMs: Math.round(figures.lagMs) })),
      ordersPerSecond: rate(placed),
      engineCommandsPerSecond: rate(commands),
      ackP99Ms: inUnits(histogramQuantile(0.99, ack), 1000),
      placementCommitP99Ms: inUnits(histogramQuantile(0.99, commit), 1000),
      engineP50Us: inUnits(histogramQuantile(0.5, engine), 1_000_000),
      engineP99Us: inUnits(histogramQuantile(0.99, engine), 1_000_000),
      scrapeErrors: errors,
    };
  }

  function guardsMessage(
    time: number,
    scrapes: Map<string, { at: number; scrape: Scrape; kind: ServiceRecord["kind"] }>,
    errors: Array<{ id: string; error: string }>,
    held: { locks: OperatorGuardsMessage["locks"]; error: string | null },
  ): OperatorGuardsMessage {
    const stateOf = (value: number | undefined): BreakerState | null =>
      (Object.entries(BREAKER_STATE_VALUE).find(([, v]) => v === value)?.[0] as
        | BreakerState
        | undefined) ?? null;
    const failed = new Map(errors.map((e) => [e.id, e.error]));
    const lastTransitionOf = (samples: Sample[]) => {
      const seconds = samples[0]?.value;
      return seconds === undefined || seconds <= 0 ? null : Math.round(seconds * 1000);
    };
    return {
      time,
      locks: held.locks,
      lockError: held.error,
      instances: [...records]
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id))
        .map((record) => {
          const scrape = scrapes.get(record.id)?.scrape;
          const dependencies = new Set(
            (scrape ? samplesOf(scrape, "spotx_breaker_state") : []).flatMap((s) =>
              s.labels.dependency === undefined ? [] : [s.labels.dependency],
            ),
          );
          return {
            id: record.id,
            kind: record.kind,
            error: scrape ? null : (failed.get(record.id) ?? "not scraped yet"),
            breakers: [...dependencies].sort().map((dependency) => {
              const of = (name: string) => (scrape ? samplesOf(scrape, name, { dependency }) : []);
              return {
                dependency,
                state: stateOf(of("spotx_breaker_state")[0]?.value),
                transitions: of("spotx_breaker_transitions_total").reduce((n, s) => n + s.value, 0),
                rejections: of("spotx_breaker_rejections_total").reduce((n, s) => n + s.value, 0),
                lastTransitionAt: lastTransitionOf(of("spotx_breaker_last_transition_seconds")),
              };
            }),
            rateLimitRejections: (scrape
              ? samplesOf(scrape, "spotx_rate_limit_rejections_total")
              : []
            ).flatMap((s) =>
              s.labels.class === undefined || s.labels.scope === undefined
                ? []
                : [{ endpointClass: s.labels.class, scope: s.labels.scope, refused: s.value }],
            ),
          };
        }),
    };
  }

  async function readLocks(): Promise<{
    locks: OperatorGuardsMessage["locks"];
    error: string | null;
  }> {
    try {
      const held = await breakers.redis.run(() => locks.holders());
      return {
        locks: held.map((h) => ({ ...h, token: h.token.toString() })),
        error: null,
      };
    } catch (error) {
      return { locks: null, error: `the locks could not be read: ${reasonOf(error)}` };
    }
  }

  /**
   * One sample of the pipeline, for the history and — while consoles are open here — for them,
   * with the guards (locks are read only for them). With no console the registry is not watched,
   * so it is read first.
   */
  async function tick() {
    const time = Date.now();
    const live = running;
    if (!live) await loadRegistry();
    const [{ scrapes, errors }, lag, held] = await Promise.all([
      scrapeAll(),
      measureLag(),
      live ? readLocks() : null,
    ]);
    if (closed) return;
    const sample = pipelineSample(time, scrapes, errors, lag);
    previousScrapes = new Map([...scrapes].map(([id, s]) => [id, { at: s.at, scrape: s.scrape }]));
    await history
      .record(sample)
      .catch((error: unknown) =>
        log.debug({ err: error }, "operator feed: the history sample did not reach Redis"),
      );
    // Consoles that joined meanwhile got the history with this sample in it already, or will
    // get it from the next tick.
    if (!running || held === null) return;
    room().emit("operator.pipeline", { samples: [sample] });
    lastGuards = guardsMessage(time, scrapes, errors, held);
    room().emit("operator.guards", lastGuards);
  }

  /**
   * Samples now and then every FEED_INTERVAL_MS while consoles are open here, every
   * `idleSampleMs` while none is (never two at once); `wake` cuts an idle wait short.
   */
  let closed = false;
  let sampling = false;
  let sampler: NodeJS.Timeout | undefined;
  function sample() {
    if (closed) return;
    clearTimeout(sampler);
    sampler = undefined;
    sampling = true;
    const started = Date.now();
    tick()
      .catch((error: unknown) => log.warn({ err: error }, "operator feed: sampling failed"))
      .finally(() => {
        sampling = false;
        if (closed) return;
        const every = running ? FEED_INTERVAL_MS : (options.idleSampleMs ?? IDLE_SAMPLE_MS);
        sampler = setTimeout(sample, Math.max(0, every - (Date.now() - started)));
        sampler.unref();
      });
  }
  function wake() {
    if (!sampling) sample();
  }

  /** Runs `work` now and then every `everyMs` after it finishes (never two at once). */
  function repeat(name: string, everyMs: number, work: () => Promise<void>) {
    const own = generation;
    const loop = () => {
      if (!running || generation !== own) return;
      const started = Date.now();
      work()
        .catch((error: unknown) => log.warn({ err: error }, `operator feed: ${name} failed`))
        .finally(() => {
          if (!running || generation !== own) return;
          timers.push(setTimeout(loop, Math.max(0, everyMs - (Date.now() - started))).unref());
        });
    };
    loop();
  }

  /** Lets go of members whose account is no longer an active operator. */
  async function recheckMembers() {
    if (members.size === 0) return;
    const ids = [...new Set([...members.values()].map((m) => m.userId))];
    const still = await db
      .select({ id: schema.users.id })
      .from(schema.users)
      .where(
        and(
          inArray(schema.users.id, ids),
          eq(schema.users.role, "operator"),
          eq(schema.users.status, "active"),
        ),
      );
    const allowed = new Set(still.map((u) => u.id));
    for (const [socketId, member] of members) {
      if (allowed.has(member.userId)) continue;
      void member.socket.leave(OPERATOR_ROOM);
      members.delete(socketId);
    }
    if (members.size === 0) stop();
  }

  async function start() {
    if (running) return;
    running = true;
    generation += 1;
    try {
      const created = await etcd.watch().prefix(`/${names.namespace}/`).create();
      if (!running) {
        await created.cancel();
        return;
      }
      watcher = created;
      const onKey = (kv: { key: Buffer }) => {
        const key = kv.key.toString();
        if (key.startsWith(names.etcd.servicesPrefix) || key.startsWith(names.etcd.marketsPrefix)) {
          registryChanged();
        }
      };
      created.on("put", onKey);
      created.on("delete", onKey);
      created.on("error", (error) => log.warn({ err: error }, "operator feed: etcd watch error"));
      // A watch that reconnects may have missed events: read the registry again.
      created.on("connected", () => registryChanged());
    } catch (error) {
      registryError = `the registry cannot be watched: ${reasonOf(error)}`;
    }
    await readRegistry();
    repeat("probes", PROBE_INTERVAL_MS, async () => {
      await readRegistry();
      await probeAll();
    });
    repeat("members", MEMBERS_RECHECK_MS, recheckMembers);
    // From the idle cadence to the live one at once.
    wake();
  }

  function stop() {
    if (!running) return;
    running = false;
    for (const timer of timers.splice(0)) clearTimeout(timer);
    const closing = watcher;
    watcher = undefined;
    void closing?.cancel().catch(() => undefined);
    lastServices = null;
    lastGuards = null;
    probes.clear();
  }

  // The history is kept from the start, whether or not a console is ever opened here.
  sample();

  return {
    async join(socket) {
      const { userId, sessionId, operator } = socket.data;
      if (userId === null || sessionId === null || operator !== true) {
        return refuse("FORBIDDEN", "operators only: sign in to the console as an operator");
      }
      // The handshake said operator; the account may have changed since.
      const found = await db
        .select({ role: schema.users.role, status: schema.users.status })
        .from(schema.users)
        .where(eq(schema.users.id, BigInt(userId)));
      const user = found[0];
      if (user?.role !== "operator" || user.status !== "active") {
        return refuse("FORBIDDEN", "operators only: this account is not an active operator");
      }
      await socket.join(OPERATOR_ROOM);
      members.set(socket.id, { socket, userId: BigInt(userId) });
      if (!running) await start();
      // What the others already have, so the page fills at once: the last hour of every
      // instance's samples, then the live ones.
      socket.emit("operator.services", lastServices ?? servicesMessage());
      socket.emit("operator.pipeline", {
        samples: await history.merged(Date.now()),
        history: true,
      });
      if (lastGuards) socket.emit("operator.guards", lastGuards);
      return { ok: true };
    },
    leave(socket) {
      void socket.leave(OPERATOR_ROOM);
      members.delete(socket.id);
      if (members.size === 0) stop();
      return { ok: true };
    },
    drop(socketId) {
      if (!members.delete(socketId)) return;
      if (members.size === 0) stop();
    },
    async close() {
      closed = true;
      clearTimeout(sampler);
      members.clear();
      stop();
    },
  };
}
