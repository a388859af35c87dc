// One load-generator process (forked by http-generators.ts as `node --import tsx
// tools/bench/src/http-generator.ts`): its share of the traders, their keys and resting orders,
// sending the flow through the web server's gate.io REST API with signed requests on an open
// loop. Apart from the benchmark process so signing, HTTP and JSON on the client side never
// share an event loop with the measurements; several of them so one process' event loop is not
// the limit. It reports placed orders as it goes (the parent times their settlement), and at
// the end of a run its loop, answers and latencies.
import { GateTransport } from "./gate-transport";
import { type OpenLoopResult, runOpenLoop } from "./open-loop";
import { OutcomeTally, type TallyWire } from "./tally";
import { TraderPool, type TraderState } from "./traders";

export type GeneratorTrader = TraderState & { key: string; secret: string };

export type GeneratorInit = {
  type: "init";
  baseUrl: string;
  /** Keep-alive connections this process may open. */
  connections: number;
  seed: number;
  traders: GeneratorTrader[];
};
export type GeneratorRun = {
  type: "run";
  /** This process' share of the offered rate. */
  rate: number;
  seconds: number;
  /** The shared schedule's start (nowMs clock) and this process' shift in it. */
  startAtMs: number;
  offsetMs: number;
  maxInFlight: number;
};
export type GeneratorToChild = GeneratorInit | GeneratorRun | { type: "state" } | { type: "stop" };

export type GeneratorToParent =
  | { type: "ready" }
  /** Orders placed since the last such message, with when each placement was sent. */
  | { type: "placed"; ids: bigint[]; calledMs: Float64Array }
  | { type: "done"; loop: OpenLoopResult; tally: TallyWire }
  | { type: "state"; traders: TraderState[] }
  | { type: "error"; message: string };

const FLUSH_MS = 200;

function send(message: GeneratorToParent) {
  process.send?.(message);
}

let pool: TraderPool | undefined;
let transport: GateTransport | undefined;

async function run(message: GeneratorRun) {
  if (!pool) throw new Error("run before init");
  const flow = pool;
  const tally = new OutcomeTally();
  let ids: bigint[] = [];
  let called: number[] = [];
  const flush = () => {
    if (ids.length === 0) return;
    send({ type: "placed", ids, calledMs: Float64Array.from(called) });
    ids = [];
    called = [];
  };
  const timer = setInterval(flush, FLUSH_MS);
  try {
    const loop = await runOpenLoop({
      rate: message.rate,
      durationMs: message.seconds * 1_000,
      maxInFlight: message.maxInFlight,
      startAtMs: message.startAtMs,
      offsetMs: message.offsetMs,
      issue: async (dueMs) => {
        const outcome = await flow.act();
        tally.record(outcome, dueMs);
        if (outcome.kind !== "cancel" && outcome.orderId !== null) {
          ids.push(outcome.orderId);
          called.push(outcome.calledMs);
        }
      },
    });
    flush();
    send({ type: "done", loop, tally: tally.toWire() });
  } finally {
    clearInterval(timer);
  }
}

async function handle(message: GeneratorToChild) {
  switch (message.type) {
    case "init": {
      const keys = new Map(message.traders.map((t) => [t.userId, t]));
      transport = new GateTransport(message.baseUrl, keys, message.connections);
      pool = new TraderPool(
        transport,
        message.traders.map((t) => ({ userId: t.userId, resting: t.resting })),
        message.seed,
      );
      send({ type: "ready" });
      return;
    }
    case "run":
      await run(message);
      return;
    case "state":
      send({ type: "state", traders: pool?.states() ?? [] });
      return;
    case "stop":
      transport?.close();
      process.disconnect();
      return;
  }
}

// Messages are handled one at a time, in order.
let queue = Promise.resolve();
process.on("message", (message: GeneratorToChild) => {
  queue = queue
    .then(() => handle(message))
    .catch((error: unknown) =>
      send({ type: "error", message: error instanceof Error ? error.message : String(error) }),
    );
});
// The parent gone (or done with us): nothing left to do.
process.on("disconnect", () => {
  transport?.close();
  process.exit(0);
});
