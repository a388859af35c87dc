// The two front doors a phase's load can come through, behind one interface: the placement
// service called in this process (what the web server's tRPC and gate.io handlers call — no
// HTTP, signing or rate limits), or signed gate.io REST requests from the generator processes
// to the web server (all of those included). Same traders, same flow, same open-loop schedule.
import type { HttpGenerators } from "./http-generators";
import { type OpenLoopReport, runOpenLoop } from "./open-loop";
import { OutcomeTally } from "./tally";
import type { TraderPool } from "./traders";

export type LoadRun = {
  rate: number;
  seconds: number;
  maxInFlight: number;
  /** Share of commands that are socket probes (in-process only). */
  probeShare: number;
  /** Filled with each probe's placement time (−1 when refused), by probe number. */
  probes?: number[];
  /** Each placed order, with when its placement was sent. */
  onPlaced: (orderId: bigint, calledMs: number) => void;
};

export type LoadDriver = {
  door: "in-process" | "http";
  run(options: LoadRun): Promise<{ loop: OpenLoopReport; tally: OutcomeTally }>;
};

export function inProcessDriver(pool: TraderPool): LoadDriver {
  return {
    door: "in-process",
    async run(options) {
      const tally = new OutcomeTally();
      pool.probeShare = options.probeShare;
      try {
        const { report } = await runOpenLoop({
          rate: options.rate,
          durationMs: options.seconds * 1_000,
          maxInFlight: options.maxInFlight,
          issue: async (dueMs) => {
            const outcome = await pool.act();
            tally.record(outcome, dueMs);
            if (outcome.probe !== null && options.probes) {
              options.probes[outcome.probe] = outcome.error === null ? outcome.calledMs : -1;
            }
            if (outcome.kind !== "cancel" && outcome.orderId !== null) {
              options.onPlaced(outcome.orderId, outcome.calledMs);
            }
          },
        });
        return { loop: report, tally };
      } finally {
        pool.probeShare = 0;
      }
    },
  };
}

export function httpDriver(generators: HttpGenerators): LoadDriver {
  return {
    door: "http",
    run: (options) =>
      generators.run({
        rate: options.rate,
        seconds: options.seconds,
        maxInFlight: options.maxInFlight,
        onPlaced: options.onPlaced,
      }),
  };
}
