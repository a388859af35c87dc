// The benchmark's handle on its load-generator processes (http-generator.ts): starts them,
// deals the traders out (trader i to process i mod n, with its key and resting orders), runs
// each phase on one shared schedule — every process offers rate / n from the same start,
// shifted by its slot — and combines what they report. At the end it takes the traders'
// resting orders back, so the in-process flow continues from where the HTTP flow left it.
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import type { GeneratorToChild, GeneratorToParent, GeneratorTrader } from "./http-generator";
import { combineOpenLoops, type OpenLoopReport, type OpenLoopResult } from "./open-loop";
import { nowMs } from "./stats";
import { OutcomeTally, type TallyWire } from "./tally";
import type { TraderKey } from "./trader-accounts";
import type { TraderState } from "./traders";

type Waiter = {
  type: GeneratorToParent["type"];
  resolve: (message: GeneratorToParent) => void;
  reject: (error: Error) => void;
};

type Generator = {
  child: ChildProcess;
  pid: number;
  /** Who waits for which message, oldest first. */
  waiters: Waiter[];
  failed: Error | null;
};

export type HttpRunResult = { loop: OpenLoopReport; tally: OutcomeTally };

export class HttpGenerators {
  private onPlaced: ((orderId: bigint, calledMs: number) => void) | undefined;

  private constructor(private readonly generators: Generator[]) {
    for (const g of generators) {
      g.child.on("message", (message: GeneratorToParent) => this.receive(g, message));
      g.child.once("exit", (code, signal) =>
        this.fail(g, new Error(`load generator ${g.pid} exited (${signal ?? code})`)),
      );
    }
  }

  static async start(options: {
    count: number;
    baseUrl: string;
    connections: number;
    traders: readonly TraderState[];
    keys: readonly TraderKey[];
  }): Promise<HttpGenerators> {
    const keyOf = new Map(options.keys.map((k) => [k.userId, k]));
    const shares: GeneratorTrader[][] = Array.from({ length: options.count }, () => []);
    options.traders.forEach((trader, i) => {
      const key = keyOf.get(trader.userId);
      if (!key) throw new Error(`no API key for trader ${trader.userId}`);
      shares[i % options.count]?.push({
        userId: trader.userId,
        resting: trader.resting,
        key: key.key,
        secret: key.secret,
      });
    });
    const generators: Generator[] = [];
    for (let i = 0; i < options.count; i++) {
      // `node --import tsx tools/bench/src/http-generator.ts`, with an IPC channel that
      // carries bigints and typed arrays (structured clone).
      const child = fork(path.join(import.meta.dirname, "http-generator.ts"), [], {
        cwd: path.dirname(import.meta.dirname),
        execArgv: ["--import", "tsx"],
        serialization: "advanced",
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      if (child.pid === undefined) throw new Error("could not start a load generator");
      generators.push({ child, pid: child.pid, waiters: [], failed: null });
    }
    const handle = new HttpGenerators(generators);
    try {
      await Promise.all(
        generators.map((g, i) => {
          const ready = handle.next(g, "ready");
          handle.send(g, {
            type: "init",
            baseUrl: options.baseUrl,
            connections: options.connections,
            seed: 7_000 + i,
            traders: shares[i] ?? [],
          });
          return ready;
        }),
      );
    } catch (error) {
      handle.kill();
      throw error;
    }
    return handle;
  }

  pids(): number[] {
    return this.generators.map((g) => g.pid);
  }

  get count(): number {
    return this.generators.length;
  }

  /** One phase's load: `rate` in all, each placed order reported through `onPlaced`. */
  async run(options: {
    rate: number;
    seconds: number;
    maxInFlight: number;
    onPlaced?: (orderId: bigint, calledMs: number) => void;
  }): Promise<HttpRunResult> {
    const n = this.generators.length;
    this.onPlaced = options.onPlaced;
    // A moment for every process to receive the message before the shared start.
    const startAtMs = nowMs() + 300;
    try {
      const answers = await Promise.all(
        this.generators.map((g, i) => {
          const done = this.next(g, "done");
          this.send(g, {
            type: "run",
            rate: options.rate / n,
            seconds: options.seconds,
            startAtMs,
            offsetMs: (i * 1_000) / options.rate,
            maxInFlight: Math.max(1, Math.floor(options.maxInFlight / n)),
          });
          return done;
        }),
      );
      const loops: OpenLoopResult[] = [];
      const tally = new OutcomeTally();
      for (const answer of answers) {
        if (answer.type !== "done") throw new Error(`load generator: unexpected ${answer.type}`);
        loops.push(answer.loop);
        tally.merge(answer.tally as TallyWire);
      }
      return { loop: combineOpenLoops(loops), tally };
    } finally {
      this.onPlaced = undefined;
    }
  }

  /** The traders' state as the generators left it. */
  async states(): Promise<TraderState[]> {
    const answers = await Promise.all(
      this.generators.map((g) => {
        const state = this.next(g, "state");
        this.send(g, { type: "state" });
        return state;
      }),
    );
    return answers.flatMap((a) => (a.type === "state" ? a.traders : []));
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.generators.map(
        (g) =>
          new Promise<void>((resolve) => {
            if (g.child.exitCode !== null || g.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => g.child.kill("SIGKILL"), 5_000);
            g.child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            this.send(g, { type: "stop" });
          }),
      ),
    );
  }

  kill(): void {
    for (const g of this.generators) if (g.child.exitCode === null) g.child.kill("SIGKILL");
  }

  private send(g: Generator, message: GeneratorToChild) {
    if (g.child.connected) g.child.send(message);
  }

  /** The next message of `type` from `g`; rejects when it reports an error or exits. */
  private next(g: Generator, type: GeneratorToParent["type"]): Promise<GeneratorToParent> {
    return new Promise((resolve, reject) => {
      if (g.failed) reject(g.failed);
      else g.waiters.push({ type, resolve, reject });
    });
  }

  private receive(g: Generator, message: GeneratorToParent) {
    if (message.type === "placed") {
      const report = this.onPlaced;
      if (report) {
        message.ids.forEach((id, i) => {
          report(id, message.calledMs[i] ?? nowMs());
        });
      }
      return;
    }
    if (message.type === "error") {
      this.fail(g, new Error(`load generator ${g.pid}: ${message.message}`));
      return;
    }
    const at = g.waiters.findIndex((w) => w.type === message.type);
    const [waiter] = at < 0 ? [] : g.waiters.splice(at, 1);
    waiter?.resolve(message);
  }

  private fail(g: Generator, error: Error) {
    g.failed ??= error;
    for (const waiter of g.waiters.splice(0)) waiter.reject(g.failed);
  }
}
