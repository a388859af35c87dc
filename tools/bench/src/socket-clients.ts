// The socket clients' process (forked by socket-fleet.ts, so their event loop never delays the
// placement service's): N socket.io clients subscribed to one market's book, as browsers are.
// Up to `measuring` of them, spread evenly over the connection order (the order the server
// fans out in), are full socket.io clients: for each probe — a resting bid at a price of its
// own — each notes when a book delta first showed its level. The others are listeners: real
// socket.io connections (engine.io over a WebSocket, the socket.io handshake and the same
// `subscribe`, made with socket.io's own packet encoder) that answer pings and receive every
// broadcast without decoding it, so the server does all of its fan-out work while this
// process' CPU — on a machine the exchange shares — is not what the figure measures. At the
// end the parent sends the probes' placement times and this process answers with the
// latencies' percentiles over every (probe, measuring client) pair. Its own event-loop delay
// is reported too: a latency that is this process' queue, not the exchange's, shows there.
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { ClientToServerEvents, ServerToClientEvents } from "@spotx/protocol";
import { io, type Socket } from "socket.io-client";
import { Decoder, Encoder, type Packet, PacketType } from "socket.io-parser";
import { WebSocket } from "ws";
import { nowMs, Samples } from "./stats";

export type FleetStart = {
  type: "start";
  url: string;
  market: string;
  clients: number;
  /** How many of the clients decode and time the probes (the rest listen). */
  measuring: number;
  pricePrecision: number;
  probeTopTicks: number;
  maxProbes: number;
};
/** Placement time (ms, the shared monotonic clock) per probe; −1 for a refused one (IPC is JSON). */
export type FleetFinish = { type: "finish"; placedMs: number[] };
export type FleetToChild = FleetStart | FleetFinish;

export type FleetResult = {
  clients: number;
  /** Clients that decoded and timed the probes; the rest received without decoding. */
  measuring: number;
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
  /** Frames the listeners received (not decoded). */
  listener_frames: number;
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

/** Whether client c of n is one of the m measuring ones (exactly m, spread evenly). */
function measures(c: number, n: number, m: number): boolean {
  return Math.floor((c * m) / n) !== Math.floor(((c + 1) * m) / n);
}

async function run(start: FleetStart) {
  const { clients: n, maxProbes, probeTopTicks, pricePrecision } = start;
  const m = Math.max(1, Math.min(n, start.measuring));
  const seen = new Float64Array(maxProbes * m);
  const sockets: Client[] = [];
  const listeners: WebSocket[] = [];
  let connected = 0;
  let subscribed = 0;
  let deltas = 0;
  let snapshots = 0;
  let listenerFrames = 0;
  let gaps = 0;
  let disconnects = 0;
  let closing = false;

  /** A measuring client: socket.io-client, decoding every delta. */
  const connectMeasuring = (j: number) =>
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
          const index = k * m + j;
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

  /**
   * A listener: engine.io v4 over a WebSocket by hand. Open → socket.io CONNECT → `subscribe`
   * with an ack, each packet encoded and the answers decoded with socket.io's parser; once
   * subscribed, frames are only counted (engine.io's text ping "2" is answered "3").
   */
  const connectListener = () =>
    new Promise<boolean>((resolve) => {
      const url = `${start.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
      const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
      listeners.push(ws);
      const encoder = new Encoder();
      const decoder = new Decoder();
      let ready = false;
      const timer = setTimeout(() => settle(false), 15_000);
      const settle = (ok: boolean) => {
        clearTimeout(timer);
        if (ok) subscribed += 1;
        resolve(ok);
      };
      const sendPacket = (packet: Packet) => {
        for (const part of encoder.encode(packet)) {
          ws.send(typeof part === "string" ? `4${part}` : part);
        }
      };
      decoder.on("decoded", (packet: Packet) => {
        if (packet.type === PacketType.CONNECT) {
          connected += 1;
          sendPacket({
            type: PacketType.EVENT,
            nsp: "/",
            id: 1,
            data: ["subscribe", { channel: "book", market: start.market }],
          });
        } else if (packet.type === PacketType.ACK && packet.id === 1) {
          ready = true;
          decoder.destroy();
          const reply: unknown = Array.isArray(packet.data) ? packet.data[0] : undefined;
          settle(typeof reply === "object" && reply !== null && "ok" in reply && reply.ok === true);
        } else if (packet.type === PacketType.CONNECT_ERROR) {
          settle(false);
        }
      });
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (!isBinary && data.length === 1 && data[0] === 0x32) {
          ws.send("3");
          return;
        }
        if (ready) {
          listenerFrames += 1;
          return;
        }
        if (isBinary) {
          decoder.add(data);
          return;
        }
        const text = data.toString("utf8");
        if (text.startsWith("0")) sendPacket({ type: PacketType.CONNECT, nsp: "/" });
        else if (text.startsWith("4")) decoder.add(text.slice(1));
      });
      ws.on("close", () => {
        if (!closing && ready) disconnects += 1;
      });
      ws.on("error", () => settle(false));
    });

  let j = 0;
  const connectOne = (c: number) => (measures(c, n, m) ? connectMeasuring(j++) : connectListener());

  // The first client tells whether the server speaks socket.io at all.
  const first = await connectOne(0);
  if (!first) {
    for (const s of sockets) s.close();
    for (const l of listeners) l.close();
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
  for (const l of listeners) l.close();

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
    for (let c = 0; c < m; c++) {
      const at = seen[k * m + c] ?? 0;
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
      measuring: m,
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
      listener_frames: listenerFrames,
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
