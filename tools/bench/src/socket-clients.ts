// The socket clients' process (forked by socket-fleet.ts, so their event loop never delays the
// placement service's): N socket.io clients subscribed to one market's book, as browsers are.
// For each probe — a resting bid at a price of its own — each client notes when a book delta
// first showed its level; at the end the parent sends the probes' placement times and this
// process answers with the latencies' percentiles over every (probe, client) pair. Its own
// event-loop delay is reported too: with many clients in one process, a latency that is the
// clients' own queue (not the exchange's) shows there.
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { ClientToServerEvents, ServerToClientEvents } from "@spotx/protocol";
import { io, type Socket } from "socket.io-client";
import { nowMs, Samples } from "./stats";

export type FleetStart = {
  type: "start";
  url: string;
  market: string;
  clients: number;
  pricePrecision: number;
  probeTopTicks: number;
  maxProbes: number;
};
/** Placement time (ms, the shared monotonic clock) per probe; −1 for a refused one (IPC is JSON). */
export type FleetFinish = { type: "finish"; placedMs: number[] };
export type FleetToChild = FleetStart | FleetFinish;

export type FleetResult = {
  clients: number;
  connected: number;
  subscribed: number;
  probes: number;
  samples: number;
  /** (probe, client) pairs whose level no delta ever showed. */
  missing: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  mean_ms: number;
  /** Per probe, the latency of the first and the last of the clients to see it. */
  first_client_p99_ms: number;
  last_client_p99_ms: number;
  deltas_received: number;
  snapshots_received: number;
  /** Deltas whose U was not the previous u + 1 (a client missed updates). */
  gaps: number;
  disconnects: number;
  /** This process' event-loop delay while subscribed: how late it could notice a message. */
  loop_delay_p99_ms: number;
  loop_delay_max_ms: number;
};

export type FleetToParent =
  | { type: "ready"; connected: number; subscribed: number }
  | { type: "unavailable"; reason: string }
  | { type: "result"; result: FleetResult }
  | { type: "error"; message: string };

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

function send(message: FleetToParent) {
  process.send?.(message);
}

/** A price on the wire ("29899.5") in ticks of `precision` decimals, without floating point. */
function ticksOf(price: string, precision: number): number {
  const dot = price.indexOf(".");
  const whole = dot < 0 ? price : price.slice(0, dot);
  const fraction = dot < 0 ? "" : price.slice(dot + 1);
  return Number(whole) * 10 ** precision + Number(fraction.padEnd(precision, "0") || "0");
}

const ZERO = /^0+(\.0+)?$/;

async function run(start: FleetStart) {
  const { clients: n, maxProbes, probeTopTicks, pricePrecision } = start;
  const seen = new Float64Array(maxProbes * n);
  const sockets: Client[] = [];
  let connected = 0;
  let subscribed = 0;
  let deltas = 0;
  let snapshots = 0;
  let gaps = 0;
  let disconnects = 0;
  let closing = false;

  const connectOne = (c: number) =>
    new Promise<boolean>((resolve) => {
      const socket: Client = io(start.url, {
        transports: ["websocket"],
        forceNew: true,
        reconnection: true,
        timeout: 10_000,
      });
      sockets.push(socket);
      let lastU: number | null = null;
      socket.on("book.delta", (delta) => {
        const at = nowMs();
        deltas += 1;
        if (lastU !== null && delta.U !== lastU + 1) gaps += 1;
        lastU = delta.u;
        for (const [price, amount] of delta.bids) {
          if (ZERO.test(amount)) continue;
          const k = probeTopTicks - ticksOf(price, pricePrecision);
          if (k < 0 || k >= maxProbes) continue;
          const index = k * n + c;
          if (seen[index] === 0) seen[index] = at;
        }
      });
      socket.on("book.snapshot", (snapshot) => {
        snapshots += 1;
        lastU = snapshot.seq;
      });
      socket.on("disconnect", () => {
        if (!closing) disconnects += 1;
      });
      const timer = setTimeout(() => resolve(false), 15_000);
      socket.once("connect_error", () => {
        // socket.io retries by itself; the first failure only tells us the server may lack it.
      });
      socket.once("connect", () => {
        connected += 1;
        socket.emit("subscribe", { channel: "book", market: start.market }, (reply) => {
          clearTimeout(timer);
          if (reply.ok) subscribed += 1;
          resolve(reply.ok);
        });
      });
    });

  // The first client tells whether the server speaks socket.io at all.
  const first = await connectOne(0);
  if (!first) {
    for (const s of sockets) s.close();
    send({
      type: "unavailable",
      reason: `no socket.io book subscription at ${start.url} within 15 s`,
    });
    return;
  }
  for (let c = 1; c < n; c += 20) {
    await Promise.all(Array.from({ length: Math.min(20, n - c) }, (_, i) => connectOne(c + i)));
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  send({ type: "ready", connected, subscribed });

  const finish = await new Promise<FleetFinish>((resolve) => {
    process.on("message", (message: FleetToChild) => {
      if (message.type === "finish") resolve(message);
    });
  });
  loopDelay.disable();
  closing = true;
  for (const s of sockets) s.close();

  const all = new Samples(1_000_000);
  const firsts = new Samples(finish.placedMs.length);
  const lasts = new Samples(finish.placedMs.length);
  let missing = 0;
  let probes = 0;
  for (let k = 0; k < Math.min(finish.placedMs.length, maxProbes); k++) {
    const placed = finish.placedMs[k];
    if (placed === undefined || placed < 0) continue;
    probes += 1;
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < n; c++) {
      const at = seen[k * n + c] ?? 0;
      if (at === 0) {
        missing += 1;
        continue;
      }
      const latency = at - placed;
      all.add(latency);
      low = Math.min(low, latency);
      high = Math.max(high, latency);
    }
    if (Number.isFinite(low)) firsts.add(low);
    if (Number.isFinite(high)) lasts.add(high);
  }
  const s = all.summary();
  send({
    type: "result",
    result: {
      clients: n,
      connected,
      subscribed,
      probes,
      samples: s.count,
      missing,
      p50_ms: s.p50_ms,
      p90_ms: s.p90_ms,
      p99_ms: s.p99_ms,
      p999_ms: s.p999_ms,
      max_ms: s.max_ms,
      mean_ms: s.mean_ms,
      first_client_p99_ms: firsts.summary().p99_ms,
      last_client_p99_ms: lasts.summary().p99_ms,
      deltas_received: deltas,
      snapshots_received: snapshots,
      gaps,
      disconnects,
      loop_delay_p99_ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      loop_delay_max_ms: Math.round(loopDelay.max / 1e4) / 100,
    },
  });
}

process.once("message", (message: FleetToChild) => {
  if (message.type !== "start") return;
  run(message)
    .catch((error: unknown) =>
      send({ type: "error", message: error instanceof Error ? error.message : String(error) }),
    )
    .finally(() => setTimeout(() => process.exit(0), 200));
});
