// `npm run bench:e2e`: the whole exchange under load, end to end. The stack, the production
// worker and web server (as `npm start` runs them, on a database and namespace of their own),
// simulated traders placing and cancelling orders through two front doors:
//
// 1. in-process (the placement service in this process): a fixed rate (1,000 order
//    operations/s for 60 s after a warm-up) — ack, placement → settled per order, placement →
//    socket update seen by 200 socket.io clients — then a ramp of rates (15 s each) for the
//    highest one at which everything placed is also settled with bounded lag;
// 2. through the web server's gate.io REST API, signed, from load-generator processes: the
//    same fixed rate (30 s) and a ramp, with the rate limits raised for the namespace;
// 3. 1,000 socket.io clients at the fixed rate (in-process), placement → socket update;
// 4. the raw Kafka produce → consume rate of this machine, as the ceiling.
// Every phase reports the CPU of each process per order operation. Prints a table, writes
// bench-results/e2e.json and the charts (e2e-*.svg) next to it, ends with one JSON line.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runReconciliation } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { chartRows, publishCharts, writeCharts } from "./charts";
import { CpuMeter, stackServer, withChildren } from "./cpu";
import { benchEnv } from "./env";
import { type BenchExchange, prepareMachine, startExchange } from "./exchange";
import { HttpGenerators } from "./http-generators";
import { inProcessTransport } from "./in-process-transport";
import { kafkaCeiling } from "./kafka-ceiling";
import { httpDriver, inProcessDriver, type LoadDriver } from "./load-driver";
import { docsDir, outDir, repoRoot, runDir } from "./paths";
import {
  type PhaseContext,
  type PhaseOptions,
  type PhaseReport,
  pipelineState,
  runPhase,
} from "./phase";
import { type ProfileSummary, SelfProfiler, summarizeProfileFile } from "./profile";
import { type RateLimitOverride, raiseRateLimits } from "./rate-limit-override";
import { type E2eReport, printReport } from "./report";
import { SettleWatch } from "./settle-watch";
import type { FleetResult } from "./socket-clients";
import { type SocketFleet, startSocketFleet } from "./socket-fleet";
import { nowMs, round } from "./stats";
import { createTraderKeys, createTraders } from "./trader-accounts";
import { MARKETS, PROBE_MARKET, PROBE_TOP_TICKS, TraderPool } from "./traders";

export const PLACEMENT_PATHS = {
  "in-process":
    "TradingService.placeOrder/cancelOrder in the benchmark process — the placement service the web server's tRPC and gate.io REST front doors call — not over HTTP: request parsing, signing and rate limits are not in these figures",
  http: "the web server's gate.io REST API (POST /api/v4/spot/orders, DELETE /api/v4/spot/orders/{id}), HMAC-SHA512-signed per trader's key, keep-alive HTTP/1.1 from separate load-generator processes: parsing, signature checks, key lookup and rate limiting are in these figures",
} as const;

async function main() {
  const env = benchEnv;
  const startedAt = Date.now();
  const load = os.loadavg();
  await prepareMachine({ build: !env.BENCH_SKIP_BUILD });
  // Other work on the machine takes cores from the exchange: measure it before starting.
  const idle = new CpuMeter([]);
  const idleFrom = idle.sample();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const busyBefore = idle.between(idleFrom, idle.sample()).machine_busy_cores;
  console.log(
    `• machine before the run: ${busyBefore.toFixed(2)} of ${os.cpus().length} cores busy with other work`,
  );
  const profileDir = env.BENCH_PROFILE ? path.join(runDir, "profiles") : undefined;
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  const exchange = await startExchange({ profileDir });
  const live: { fleet?: SocketFleet; generators?: HttpGenerators } = {};
  const stopOnSignal = () => {
    console.error("\ninterrupted: tearing the benchmark's exchange down");
    live.fleet?.kill();
    live.generators?.kill();
    void exchange.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);

  try {
    console.log(`• ${env.BENCH_USERS} traders, funded`);
    const traderIds = await createTraders(exchange.db, env.BENCH_USERS);
    const pool = new TraderPool(
      inProcessTransport(exchange.trading),
      traderIds.map((userId) => ({ userId, resting: [] })),
    );
    const inProcess = inProcessDriver(pool);
    console.log("• waiting for the pipeline: engine owners, a first order settled in each market");
    await waitForPipeline(exchange, pool.anyUser());

    const ports = exchange.serverPorts;
    const groups = [
      { name: "bench", pids: () => [process.pid] },
      { name: "generators", pids: () => live.generators?.pids() ?? [] },
      { name: "socket clients", pids: () => (live.fleet ? [live.fleet.pid] : []) },
      { name: "worker", pids: () => withChildren(exchange.worker.pid) },
      { name: "web", pids: () => withChildren(exchange.web.pid) },
      stackServer("postgres", ports.postgres),
      stackServer("kafka", ports.kafka),
      stackServer("redis", ports.redis),
      stackServer("etcd", ports.etcd),
    ];
    const ctx: PhaseContext = {
      observer: exchange.observer,
      cpu: new CpuMeter(groups),
      workerPort: exchange.worker.httpPort,
      webPort: exchange.web.httpPort,
      apps: [
        { who: "web", pid: exchange.web.pid },
        { who: "worker", pid: exchange.worker.pid },
      ],
      maxInFlight: env.BENCH_MAX_IN_FLIGHT,
      redisUrl: exchange.redisUrl,
      settledChannel: exchange.names.redis.settledChannel,
    };
    const probes: number[] = [];
    const socketFleet = (clients: number, seconds: number) =>
      startFleet(exchange, clients, pool.probesIssued, expectedProbes(seconds));

    // ------------------------------------------------------------------ in-process
    let socketUnavailable: string | null = null;
    if (env.BENCH_SOCKET_CLIENTS > 0) {
      const started = await socketFleet(env.BENCH_SOCKET_CLIENTS, env.BENCH_SECONDS);
      if ("unavailable" in started) socketUnavailable = started.unavailable;
      else live.fleet = started.fleet;
    } else {
      socketUnavailable = "BENCH_SOCKET_CLIENTS=0";
    }
    const fixedProbeBase = pool.probesIssued;
    await warmUp(ctx, inProcess, env.BENCH_RATE);
    console.log(
      `• fixed rate, in-process: ${env.BENCH_RATE} order operations/s for ${env.BENCH_SECONDS} s`,
    );
    const profiler = env.BENCH_PROFILE ? new SelfProfiler() : undefined;
    await profiler?.start();
    const fixed = await runPhase(ctx, inProcess, {
      name: "fixed",
      rate: env.BENCH_RATE,
      seconds: env.BENCH_SECONDS,
      probeShare: live.fleet ? env.BENCH_PROBE_SHARE : 0,
      probes,
      graceMs: 10_000,
    });
    const selfProfile = profileDir ? await profiler?.stop(profileDir) : undefined;
    printPhase(fixed);
    const ramp = await runRamp(ctx, inProcess, env.BENCH_STEPS, "ramp");

    // ------------------------------------------------------------------ through HTTP
    let rateLimits: RateLimitOverride | null = null;
    let httpFixed: PhaseReport | null = null;
    let httpRamp: PhaseReport[] = [];
    if (env.BENCH_HTTP_GENERATORS > 0) {
      const httpRate = env.BENCH_HTTP_RATE ?? env.BENCH_RATE;
      console.log(`• one gate.io API key per trader (${traderIds.length}, replay "gate")`);
      const keys = await createTraderKeys(exchange.db, exchange.serverKey, traderIds);
      rateLimits = await raiseRateLimits(exchange.etcd, exchange.names, exchange.web.httpPort);
      console.log(
        `• rate limits raised for this namespace through the live configuration (etcd ${rateLimits.etcd_key}): orders and reads ${rateLimits.confirmed_limit.toLocaleString("en-US")}/s per address, user and key — the limiter runs on every request but never refuses (the web server answers X-Gate-RateLimit-Limit: ${rateLimits.confirmed_limit})`,
      );
      console.log(
        `• ${env.BENCH_HTTP_GENERATORS} load-generator processes, up to ${env.BENCH_HTTP_CONNECTIONS} keep-alive connections each`,
      );
      const generators = await HttpGenerators.start({
        count: env.BENCH_HTTP_GENERATORS,
        baseUrl: `http://127.0.0.1:${exchange.web.httpPort}`,
        connections: env.BENCH_HTTP_CONNECTIONS,
        traders: pool.states(),
        keys,
      });
      live.generators = generators;
      const http = httpDriver(generators);
      await warmUp(ctx, http, httpRate);
      console.log(
        `• fixed rate, signed HTTP: ${httpRate} order operations/s for ${env.BENCH_HTTP_SECONDS} s`,
      );
      httpFixed = await runPhase(ctx, http, {
        name: "http fixed",
        rate: httpRate,
        seconds: env.BENCH_HTTP_SECONDS,
        graceMs: 10_000,
      });
      printPhase(httpFixed);
      httpRamp = await runRamp(ctx, http, env.BENCH_HTTP_STEPS, "HTTP ramp");
      // The in-process flow continues from the resting orders the generators left.
      pool.restore(await generators.states());
      await generators.stop();
      live.generators = undefined;
    }

    // The socket clients stayed subscribed through the ramps and the HTTP phases (the web server
    // fans out to them as it would to browsers); only the fixed phase had probes.
    let socket: FleetResult | null = null;
    if (live.fleet) {
      socket = await live.fleet.finish(probeTimes(probes, fixedProbeBase));
      live.fleet = undefined;
      console.log(`  socket p99 ${socket.p99_ms} ms over ${socket.samples} samples`);
    }

    // ------------------------------------------------------------------ many socket clients
    let many: {
      phase: PhaseReport;
      socket: FleetResult | null;
      unavailable: string | null;
    } | null = null;
    if (env.BENCH_MANY_SOCKET_CLIENTS > 0) {
      const base = pool.probesIssued;
      const started = await socketFleet(
        env.BENCH_MANY_SOCKET_CLIENTS,
        env.BENCH_MANY_SOCKET_SECONDS,
      );
      if ("fleet" in started) live.fleet = started.fleet;
      await warmUp(ctx, inProcess, env.BENCH_RATE);
      console.log(
        `• ${env.BENCH_MANY_SOCKET_CLIENTS} socket clients, in-process: ${env.BENCH_RATE} order operations/s for ${env.BENCH_MANY_SOCKET_SECONDS} s`,
      );
      const phase = await runPhase(ctx, inProcess, {
        name: `${env.BENCH_MANY_SOCKET_CLIENTS} socket clients`,
        rate: env.BENCH_RATE,
        seconds: env.BENCH_MANY_SOCKET_SECONDS,
        probeShare: live.fleet ? env.BENCH_PROBE_SHARE : 0,
        probes,
        graceMs: 10_000,
      });
      let manySocket: FleetResult | null = null;
      if (live.fleet) {
        manySocket = await live.fleet.finish(probeTimes(probes, base));
        live.fleet = undefined;
        console.log(`  socket p99 ${manySocket.p99_ms} ms over ${manySocket.samples} samples`);
      }
      many = {
        phase,
        socket: manySocket,
        unavailable: "unavailable" in started ? started.unavailable : null,
      };
    }

    // ------------------------------------------------------------------ Kafka ceiling
    let ceiling = null;
    if (env.BENCH_KAFKA_MESSAGES > 0) {
      console.log(`• Kafka ceiling: ${env.BENCH_KAFKA_MESSAGES} messages produced and consumed`);
      const topic = `${exchange.namespace}.ceiling`;
      exchange.extraTopics.push(topic);
      ceiling = await kafkaCeiling(exchange.kafka, topic, { messages: env.BENCH_KAFKA_MESSAGES });
    }

    // ------------------------------------------------------------------ nothing lost
    const final = await pipelineState(exchange.observer);
    const reconciliation = await runReconciliation(exchange.db).catch((error: unknown) => ({
      status: `failed: ${error instanceof Error ? error.message : String(error)}`,
      durationMs: 0,
      findings: [],
    }));

    await exchange.stop();
    const profiles: ProfileSummary[] = [];
    if (selfProfile) profiles.push(selfProfile);
    if (profileDir) {
      for (const app of [exchange.worker, exchange.web]) {
        const summary = summarizeProfileFile(profileDir, app.name, app.pid);
        if (summary) profiles.push(summary);
      }
    }

    // ------------------------------------------------------------------ figures
    const best = highestSustained([fixed, ...ramp]);
    const httpBest = highestSustained(httpFixed ? [httpFixed, ...httpRamp] : []);
    const summary = {
      bench: "e2e",
      placement_path: "in-process TradingService, and signed gate.io REST over HTTP",
      orders_per_sec: best?.offered_per_sec ?? 0,
      orders_per_sec_placed: best?.placed_per_sec ?? 0,
      orders_per_sec_settled: best?.settled_per_sec ?? 0,
      first_unsustained_per_sec: ramp.find((s) => !s.sustained)?.offered_per_sec ?? null,
      http_orders_per_sec: httpBest?.offered_per_sec ?? (httpFixed ? 0 : null),
      http_orders_per_sec_placed: httpBest?.placed_per_sec ?? null,
      http_first_unsustained_per_sec: httpRamp.find((s) => !s.sustained)?.offered_per_sec ?? null,
      fixed_rate_per_sec: env.BENCH_RATE,
      fixed_seconds: env.BENCH_SECONDS,
      ack_p50_ms: fixed.ack.p50_ms,
      ack_p99_ms: fixed.ack.p99_ms,
      http_fixed_rate_per_sec: httpFixed?.offered_per_sec ?? null,
      http_ack_p50_ms: httpFixed?.ack.p50_ms ?? null,
      http_ack_p99_ms: httpFixed?.ack.p99_ms ?? null,
      settle_p50_ms: fixed.settle.p50_ms,
      settle_p99_ms: fixed.settle.p99_ms,
      http_settle_p50_ms: httpFixed?.settle.p50_ms ?? null,
      http_settle_p99_ms: httpFixed?.settle.p99_ms ?? null,
      socket_p50_ms: socket?.p50_ms ?? null,
      socket_p99_ms: socket?.p99_ms ?? null,
      socket_clients: socket?.subscribed ?? 0,
      socket_samples: socket?.samples ?? 0,
      socket_p50_ms_1000_clients: many?.socket?.p50_ms ?? null,
      socket_p99_ms_1000_clients: many?.socket?.p99_ms ?? null,
      socket_clients_many: many?.socket?.subscribed ?? 0,
      exchange_cpu_us_per_op: fixed.cpu_per_op.exchange_us_per_op,
      exchange_cores_at_fixed_rate: fixed.cpu_per_op.exchange_cores,
      http_exchange_cpu_us_per_op: httpFixed?.cpu_per_op.exchange_us_per_op ?? null,
      http_exchange_cores_at_fixed_rate: httpFixed?.cpu_per_op.exchange_cores ?? null,
      cpu_us_per_op: fixed.cpu_per_op.us_per_op,
      http_cpu_us_per_op: httpFixed?.cpu_per_op.us_per_op ?? null,
      rate_limits: rateLimits
        ? `raised to ${rateLimits.confirmed_limit}/s per address, user and key for the bench's namespace: counted, never refusing`
        : null,
      rate_limit_rejections: [httpFixed, ...httpRamp].reduce(
        (sum, p) => sum + (p?.stages.rate_limit_rejections ?? 0),
        0,
      ),
      kafka_ceiling_msgs_per_sec: ceiling?.produce_consume_msgs_per_sec ?? null,
      unsettled: final.pending,
      reconciliation: reconciliation.status,
    };
    const within = (v: number | null, limit: number) => (v === null ? null : v <= limit);
    const targets = {
      sustained_in_process_at_least_10000_per_sec: summary.orders_per_sec >= 10_000,
      sustained_http_at_least_5000_per_sec:
        summary.http_orders_per_sec === null ? null : summary.http_orders_per_sec >= 5_000,
      ack_p99_in_process_at_most_15ms: summary.ack_p99_ms <= 15,
      ack_p99_http_at_most_25ms: within(summary.http_ack_p99_ms, 25),
      settle_p99_at_most_150ms: summary.settle_p99_ms <= 150,
      socket_p99_200_clients_at_most_50ms: within(summary.socket_p99_ms, 50),
      socket_p99_1000_clients_at_most_100ms: within(summary.socket_p99_ms_1000_clients, 100),
      exchange_cores_at_fixed_rate_at_most_0_8: summary.exchange_cores_at_fixed_rate <= 0.8,
      nothing_lost: summary.unsettled === 0 && summary.reconciliation === "clean",
    };
    const charts = chartRows({
      subtitle: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown"}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; other work before the run: ${busyBefore.toFixed(2)} cores`,
      inProcess: [fixed, ...ramp],
      http: httpFixed ? [httpFixed, ...httpRamp] : [],
      fixedSocket: socket
        ? { clients: socket.subscribed, p50_ms: socket.p50_ms, p99_ms: socket.p99_ms }
        : null,
      manySockets: many
        ? {
            phase: many.phase,
            socket: many.socket
              ? {
                  clients: many.socket.subscribed,
                  p50_ms: many.socket.p50_ms,
                  p99_ms: many.socket.p99_ms,
                }
              : null,
          }
        : null,
    });
    const report: E2eReport = {
      generated_at: new Date().toISOString(),
      seconds: round((Date.now() - startedAt) / 1000, 1),
      placement_paths: PLACEMENT_PATHS,
      machine: {
        node: process.version,
        cpu: os.cpus()[0]?.model ?? "unknown",
        cores: os.cpus().length,
        load_average_start: load,
        busy_cores_before: busyBefore,
        load_average_end: os.loadavg(),
      },
      settings: { ...env, socket_unavailable: socketUnavailable },
      rate_limits: rateLimits,
      summary,
      targets,
      fixed: { ...fixed, socket },
      ramp,
      http_fixed: httpFixed,
      http_ramp: httpRamp,
      many_sockets: many
        ? { ...many.phase, socket: many.socket, socket_unavailable: many.unavailable }
        : null,
      kafka_ceiling: ceiling,
      profiles,
      charts,
    };
    printReport(report);
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "e2e.json"), `${JSON.stringify(report, null, 2)}\n`);
    const chartFiles = await writeCharts(charts, outDir);
    const shown = chartFiles.map((f) => path.relative(repoRoot, f)).join(", ");
    console.log(`wrote bench-results/e2e.json and ${shown} in ${report.seconds} s`);
    if (env.BENCH_PUBLISH) {
      const published = publishCharts(chartFiles, docsDir);
      console.log(`published ${published.map((f) => path.relative(repoRoot, f)).join(", ")}`);
    }
    console.log(JSON.stringify(summary));
  } catch (error) {
    live.fleet?.kill();
    live.generators?.kill();
    await exchange.stop();
    throw error;
  }
}

/** Placement times of the probes numbered from `base` on (−1: refused or never placed). */
function probeTimes(probes: readonly number[], base: number): number[] {
  return Array.from(
    { length: Math.max(0, probes.length - base) },
    (_, i) => probes[base + i] ?? -1,
  );
}

/** Probes a fixed phase of `seconds` may place (with room to spare). */
function expectedProbes(seconds: number): number {
  return Math.ceil(benchEnv.BENCH_RATE * seconds * benchEnv.BENCH_PROBE_SHARE * 1.2);
}

/** A socket fleet watching for probes numbered from `probeBase` on. */
async function startFleet(
  exchange: BenchExchange,
  clients: number,
  probeBase: number,
  maxProbes: number,
): Promise<{ fleet: SocketFleet } | { unavailable: string }> {
  console.log(`• ${clients} socket.io clients subscribing to ${PROBE_MARKET} book`);
  const started = await startSocketFleet({
    url: `http://127.0.0.1:${exchange.web.httpPort}`,
    market: PROBE_MARKET,
    clients,
    measuring: benchEnv.BENCH_SOCKET_MEASURING,
    pricePrecision: MARKETS.find((m) => m.symbol === PROBE_MARKET)?.pricePrecision ?? 2,
    probeTopTicks: PROBE_TOP_TICKS - probeBase,
    maxProbes,
  });
  if ("unavailable" in started) {
    console.log(`  socket measurement unavailable: ${started.unavailable}`);
    return started;
  }
  const measuring = Math.min(clients, benchEnv.BENCH_SOCKET_MEASURING);
  console.log(
    `  ${started.subscribed}/${clients} subscribed; ${measuring} decode and time the probes${measuring < clients ? `, ${clients - measuring} listen without decoding` : ""}`,
  );
  return { fleet: started };
}

async function warmUp(ctx: PhaseContext, driver: LoadDriver, rate: number) {
  const seconds = benchEnv.BENCH_WARMUP_SECONDS;
  if (seconds <= 0) return;
  console.log(`• warm-up (${driver.door}): ${rate}/s for ${seconds} s`);
  await runPhase(ctx, driver, { name: "warm-up", rate, seconds });
}

/** The rates in turn, until one is not sustained (all of them with BENCH_RAMP_ALL). */
async function runRamp(
  ctx: PhaseContext,
  driver: LoadDriver,
  rates: number[],
  title: string,
): Promise<PhaseReport[]> {
  const steps: PhaseReport[] = [];
  for (const rate of rates) {
    console.log(`• ${title} (${driver.door}): ${rate}/s for ${benchEnv.BENCH_STEP_SECONDS} s`);
    const options: PhaseOptions = {
      name: `${driver.door === "http" ? "HTTP " : ""}${rate}/s`,
      rate,
      seconds: benchEnv.BENCH_STEP_SECONDS,
      graceMs: 5_000,
    };
    const step = await runPhase(ctx, driver, options);
    steps.push(step);
    console.log(
      `  placed ${step.placed_per_sec}/s, settled ${step.settled_per_sec}/s, ack p99 ${step.ack.p99_ms} ms, ` +
        `oldest unsettled ${step.oldest_pending_end_ms} ms at the end: ${step.sustained ? "sustained" : `not sustained (${step.why_not.join("; ")})`}`,
    );
    if (!step.sustained && !benchEnv.BENCH_RAMP_ALL) break;
  }
  return steps;
}

function printPhase(p: PhaseReport) {
  console.log(
    `  ack p99 ${p.ack.p99_ms} ms · settled p99 ${p.settle.p99_ms} ms · exchange ${p.cpu_per_op.exchange_us_per_op} µs CPU per operation (${p.cpu_per_op.exchange_cores} cores)`,
  );
}

function highestSustained(phases: PhaseReport[]): PhaseReport | undefined {
  return phases.filter((p) => p.sustained).sort((a, b) => b.offered_per_sec - a.offered_per_sec)[0];
}

/** The worker owns both markets, and an order in each travels the whole way and settles. */
async function waitForPipeline(exchange: BenchExchange, userId: bigint) {
  const deadline = Date.now() + 60_000;
  for (const market of MARKETS) {
    const key = exchange.names.etcd.marketOwner(market.symbol);
    while ((await exchange.etcd.get(key).string()) === null) {
      if (Date.now() > deadline)
        throw new Error(`no engine owner for ${market.symbol} within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const watch = new SettleWatch(
    exchange.observer,
    exchange.redisUrl,
    exchange.names.redis.settledChannel,
  );
  await watch.start();
  const placed = [];
  for (const market of MARKETS) {
    // Far below the flow and the probes: rests untouched until cancelled.
    const price = unitsToDecimal(BigInt(Math.floor(market.midTicks * 0.92)), market.pricePrecision);
    const { order } = await exchange.trading.placeOrder(userId, {
      market: market.symbol,
      side: "buy",
      type: "limit",
      price,
      amount: unitsToDecimal(BigInt(market.minLots), market.amountPrecision),
    });
    watch.track(order.id, nowMs());
    placed.push(order);
  }
  const left = await watch.drain(60_000);
  await watch.stop();
  if (left > 0)
    throw new Error("a first order did not settle within 60 s: the pipeline is not running");
  for (const order of placed) {
    await exchange.trading.cancelOrder(userId, { market: order.market, orderId: String(order.id) });
  }
}

await main().catch((error: unknown) => {
  console.error(
    `✗ bench:e2e: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
