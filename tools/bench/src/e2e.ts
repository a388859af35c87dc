// `npm run bench:e2e`: the whole exchange under load, end to end. The stack, the production
// worker and web server (as `npm start` runs them, on a database and namespace of their own),
// and here the placement service with simulated traders placing and cancelling orders.
//
// 1. fixed rate (1,000 order operations/s for 60 s after a warm-up): ack latency, placement →
//    settled per order, and placement → socket update seen by 200 socket.io clients;
// 2. a ramp of rates (15 s each): the highest one at which everything placed is also settled
//    with bounded lag;
// 3. the raw Kafka produce → consume rate of this machine, as the ceiling.
// Prints a table, writes bench-results/e2e.json, ends with one JSON line.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runReconciliation } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { CpuMeter, stackServer } from "./cpu";
import { benchEnv } from "./env";
import { type BenchExchange, outDir, prepareMachine, runDir, startExchange } from "./exchange";
import { kafkaCeiling } from "./kafka-ceiling";
import { type PhaseContext, type PhaseReport, pipelineState, runPhase } from "./phase";
import { type ProfileSummary, SelfProfiler, summarizeProfileFile } from "./profile";
import { type E2eReport, printReport } from "./report";
import { SettleWatch } from "./settle-watch";
import type { FleetResult } from "./socket-clients";
import { type SocketFleet, startSocketFleet } from "./socket-fleet";
import { nowMs, round } from "./stats";
import { MARKETS, PROBE_MARKET, PROBE_TOP_TICKS, TraderPool } from "./traders";

export const PLACEMENT_PATH =
  "TradingService.placeOrder/cancelOrder in the benchmark process — the placement service the web server's tRPC and gate.io REST front doors call — not over HTTP: request parsing, signing and rate limits are not in these figures";

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
  let fleet: SocketFleet | undefined;
  const stopOnSignal = () => {
    console.error("\ninterrupted: tearing the benchmark's exchange down");
    fleet?.kill();
    void exchange.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);

  try {
    console.log(`• ${env.BENCH_USERS} traders, funded`);
    const pool = await TraderPool.create(exchange.db, exchange.trading, env.BENCH_USERS);
    console.log("• waiting for the pipeline: engine owners, a first order settled in each market");
    await waitForPipeline(exchange, pool.anyUser());

    const ctxBase = {
      pool,
      observer: exchange.observer,
      workerPort: exchange.worker.httpPort,
      maxInFlight: env.BENCH_MAX_IN_FLIGHT,
    };

    // ------------------------------------------------------------------ socket clients
    const fixedProbes = Math.ceil(env.BENCH_RATE * env.BENCH_SECONDS * env.BENCH_PROBE_SHARE * 1.2);
    let socketUnavailable: string | null = null;
    if (env.BENCH_SOCKET_CLIENTS > 0) {
      console.log(
        `• ${env.BENCH_SOCKET_CLIENTS} socket.io clients subscribing to ${PROBE_MARKET} book`,
      );
      const started = await startSocketFleet({
        url: `http://127.0.0.1:${exchange.web.httpPort}`,
        market: PROBE_MARKET,
        clients: env.BENCH_SOCKET_CLIENTS,
        pricePrecision: MARKETS.find((m) => m.symbol === PROBE_MARKET)?.pricePrecision ?? 2,
        probeTopTicks: PROBE_TOP_TICKS,
        maxProbes: fixedProbes,
      });
      if ("unavailable" in started) {
        socketUnavailable = started.unavailable;
        console.log(`  socket measurement unavailable: ${started.unavailable}`);
      } else {
        fleet = started;
        console.log(`  ${started.subscribed}/${env.BENCH_SOCKET_CLIENTS} subscribed`);
      }
    } else {
      socketUnavailable = "BENCH_SOCKET_CLIENTS=0";
    }

    const groups = [
      { name: "bench", pids: () => [process.pid] },
      { name: "socket clients", pids: () => (fleet ? [fleet.pid] : []) },
      { name: "worker", pids: () => [exchange.worker.pid] },
      { name: "web", pids: () => [exchange.web.pid] },
      stackServer("postgres"),
      stackServer("kafka"),
      stackServer("redis"),
      stackServer("etcd"),
    ];
    const ctx: PhaseContext = { ...ctxBase, cpu: new CpuMeter(groups) };

    // ------------------------------------------------------------------ fixed rate
    if (env.BENCH_WARMUP_SECONDS > 0) {
      console.log(`• warm-up: ${env.BENCH_RATE}/s for ${env.BENCH_WARMUP_SECONDS} s`);
      await runPhase(ctx, {
        name: "warm-up",
        rate: env.BENCH_RATE,
        seconds: env.BENCH_WARMUP_SECONDS,
      });
    }
    console.log(`• fixed rate: ${env.BENCH_RATE} order operations/s for ${env.BENCH_SECONDS} s`);
    const watch = new SettleWatch(
      exchange.observer,
      exchange.redisUrl,
      exchange.names.redis.settledChannel,
    );
    await watch.start();
    const probes: number[] = [];
    const profiler = env.BENCH_PROFILE ? new SelfProfiler() : undefined;
    await profiler?.start();
    const fixed = await runPhase(ctx, {
      name: "fixed",
      rate: env.BENCH_RATE,
      seconds: env.BENCH_SECONDS,
      probeShare: fleet ? env.BENCH_PROBE_SHARE : 0,
      watch,
      probes,
      graceMs: 10_000,
    });
    const selfProfile = profileDir ? await profiler?.stop(profileDir) : undefined;
    const unsettled = await watch.drain(30_000);
    await watch.stop();
    const settle = watch.latencies.summary();
    console.log(`  ack p99 ${fixed.ack.p99_ms} ms · settled p99 ${settle.p99_ms} ms`);

    // ------------------------------------------------------------------ ramp
    const steps: PhaseReport[] = [];
    for (const rate of env.BENCH_STEPS) {
      console.log(`• ramp: ${rate}/s for ${env.BENCH_STEP_SECONDS} s`);
      const step = await runPhase(ctx, {
        name: `${rate}/s`,
        rate,
        seconds: env.BENCH_STEP_SECONDS,
        graceMs: 5_000,
      });
      steps.push(step);
      console.log(
        `  placed ${step.placed_per_sec}/s, settled ${step.settled_per_sec}/s, ack p99 ${step.ack.p99_ms} ms, ` +
          `oldest unsettled ${step.oldest_pending_end_ms} ms at the end: ${step.sustained ? "sustained" : `not sustained (${step.why_not.join("; ")})`}`,
      );
      if (!step.sustained && !env.BENCH_RAMP_ALL) break;
    }

    // The socket clients stay subscribed through the ramp (the web server fans out to them as
    // it would to browsers); only the fixed phase had probes, so only it has samples.
    let socket: FleetResult | null = null;
    if (fleet) {
      socket = await fleet.finish(probes.map((p) => p ?? -1));
      fleet = undefined;
      console.log(`  socket p99 ${socket.p99_ms} ms over ${socket.samples} samples`);
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
    const sustainedRates = [fixed, ...steps].filter((p) => p.sustained);
    const best = sustainedRates.sort((a, b) => b.offered_per_sec - a.offered_per_sec)[0];
    const firstFailed = steps.find((s) => !s.sustained);
    const summary = {
      bench: "e2e",
      placement_path: "TradingService in-process (not HTTP)",
      orders_per_sec: best?.offered_per_sec ?? 0,
      orders_per_sec_placed: best?.placed_per_sec ?? 0,
      orders_per_sec_settled: best?.settled_per_sec ?? 0,
      first_unsustained_per_sec: firstFailed?.offered_per_sec ?? null,
      fixed_rate_per_sec: env.BENCH_RATE,
      fixed_seconds: env.BENCH_SECONDS,
      ack_p50_ms: fixed.ack.p50_ms,
      ack_p99_ms: fixed.ack.p99_ms,
      settle_p50_ms: settle.p50_ms,
      settle_p99_ms: settle.p99_ms,
      socket_p50_ms: socket?.p50_ms ?? null,
      socket_p99_ms: socket?.p99_ms ?? null,
      socket_clients: socket?.subscribed ?? 0,
      socket_samples: socket?.samples ?? 0,
      kafka_ceiling_msgs_per_sec: ceiling?.produce_consume_msgs_per_sec ?? null,
      unsettled: unsettled + final.pending,
      reconciliation: reconciliation.status,
    };
    const targets = {
      sustained_at_least_3000_per_sec: summary.orders_per_sec >= 3_000,
      ack_p99_at_most_20ms: summary.ack_p99_ms <= 20,
      socket_p99_at_most_50ms: summary.socket_p99_ms === null ? null : summary.socket_p99_ms <= 50,
    };
    const report: E2eReport & Record<string, unknown> = {
      generated_at: new Date().toISOString(),
      seconds: round((Date.now() - startedAt) / 1000, 1),
      placement_path: PLACEMENT_PATH,
      machine: {
        node: process.version,
        cpu: os.cpus()[0]?.model ?? "unknown",
        cores: os.cpus().length,
        load_average_start: load,
        busy_cores_before: busyBefore,
        load_average_end: os.loadavg(),
      },
      settings: { ...env, socket_unavailable: socketUnavailable },
      summary,
      targets,
      fixed: { ...fixed, settle, settle_unsettled: unsettled, settle_watch: watch.stats(), socket },
      ramp: steps,
      kafka_ceiling: ceiling,
      profiles,
    };
    printReport(report);
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "e2e.json"), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote bench-results/e2e.json in ${report.seconds} s`);
    console.log(JSON.stringify(summary));
  } catch (error) {
    fleet?.kill();
    await exchange.stop();
    throw error;
  }
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
