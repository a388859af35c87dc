// Consumer lag: every few seconds, how far each of spotx's consumer groups is behind the end of
// its topic, per partition (measured by @spotx/platform/consumer-lag, which the operator console
// uses too) — for /metrics, the operator console and /ready. A group whose lag stays above one
// while its committed offset does not move is stuck, and the process reports not ready until it
// moves again.
import { processSingleton } from "@spotx/platform";
import { measureConsumerLag, pipelineGroups } from "@spotx/platform/consumer-lag";
import type { Kafka } from "@spotx/platform/kafka";
import type { Logger } from "@spotx/platform/logger";
import { metrics, prometheus } from "@spotx/platform/metrics";
import type { Topology } from "@spotx/platform/topology";

export const lagMetrics = processSingleton("consumer-lag.metrics", () => ({
  lag: new prometheus.Gauge({
    name: "spotx_kafka_consumer_lag",
    help: "Messages between a consumer group's committed offset and the end of the partition",
    labelNames: ["group", "topic", "partition"] as const,
    registers: [metrics.registry],
  }),
}));

export type LagReport = {
  group: string;
  topic: string;
  partition: number;
  lag: number;
  committed: string;
  high: string;
  /** Since when the committed offset has not moved while lag > 1 (null when fine). */
  stuckSince: number | null;
};

export type ConsumerLagJob = {
  /** The last measurement of every watched partition. */
  report(): LagReport[];
  /** Groups stuck for longer than `stuckAfterMs`, for /ready. */
  stuck(): LagReport[];
  stop(): void;
};

export function startConsumerLagJob(options: {
  kafka: Kafka;
  names: Topology;
  log: Logger;
  intervalMs?: number;
  stuckAfterMs?: number;
}): ConsumerLagJob {
  const { kafka, names, log } = options;
  const stuckAfterMs = options.stuckAfterMs ?? 30_000;
  const watched = pipelineGroups(names);
  const reports = new Map<string, LagReport>();
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;

  const measure = async () => {
    connected ??= admin.connect();
    await connected;
    for (const measured of await measureConsumerLag(admin, watched)) {
      const { group, topic, partition, committed, lag } = measured;
      lagMetrics.lag.set({ group, topic, partition: String(partition) }, lag);
      const key = `${group}/${topic}/${partition}`;
      const previous = reports.get(key);
      const moving = !previous || previous.committed !== committed;
      reports.set(key, {
        ...measured,
        stuckSince: lag > 1 && !moving ? (previous?.stuckSince ?? Date.now()) : null,
      });
    }
  };

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    measure()
      .catch((error: unknown) => log.warn({ err: error }, "could not measure consumer lag"))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs ?? 5_000);
  timer.unref();

  return {
    report: () => [...reports.values()],
    stuck: () =>
      [...reports.values()].filter(
        (r) => r.stuckSince !== null && Date.now() - r.stuckSince > stuckAfterMs,
      ),
    stop() {
      clearInterval(timer);
      void admin.disconnect().catch(() => undefined);
    },
  };
}
