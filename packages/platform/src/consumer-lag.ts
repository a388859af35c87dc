// How far each of spotx's consumer groups is behind the end of its topic, per partition: one
// measurement, shared by the worker's lag job (metrics and /ready) and the operator console.
// (The events topic is written in transactions: its end includes a commit marker after the
// last message, so a caught-up consumer of it shows a lag of 1.)
import type { Admin } from "kafkajs";
import type { Topology } from "./topology";

/** A consumer group and the topic it reads. */
export type WatchedGroup = { group: string; topic: string };

export type PartitionLag = {
  group: string;
  topic: string;
  partition: number;
  /** The group's committed offset (the partition's low watermark when it has none yet). */
  committed: string;
  /** The partition's end (high watermark). */
  high: string;
  lag: number;
};

/** The groups of the pipeline: the engine reads commands, settlement events. */
export function pipelineGroups(names: Topology): WatchedGroup[] {
  return [
    { group: names.kafka.groups.engine, topic: names.kafka.orders.topic },
    { group: names.kafka.groups.settlement, topic: names.kafka.events.topic },
  ];
}

/**
 * Measures every watched group's lag on every partition of its topic, with a connected admin.
 *
 * The groups' committed offsets are read BEFORE the partitions' ends. A group commits only
 * what it has read, so its committed offset is at most the end at the time of the commit, and
 * ends only grow: read in this order, end − committed is never negative. (Read the other way
 * round, a fast group — the engine commits every second — could commit past an end read a
 * moment earlier, and its lag read negative.)
 */
export async function measureConsumerLag(
  admin: Pick<Admin, "fetchOffsets" | "fetchTopicOffsets">,
  watched: readonly WatchedGroup[],
): Promise<PartitionLag[]> {
  const committed: Array<{ group: string; topic: string; offsets: Map<number, string> }> = [];
  for (const { group, topic } of watched) {
    const fetched = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const offsets = new Map(
      (fetched[0]?.partitions ?? []).map((p) => [p.partition, p.offset] as const),
    );
    committed.push({ group, topic, offsets });
  }
  const ends = new Map<string, Array<{ partition: number; high: string; low: string }>>();
  for (const topic of new Set(watched.map((w) => w.topic))) {
    ends.set(topic, await admin.fetchTopicOffsets(topic));
  }
  const measured: PartitionLag[] = [];
  for (const { group, topic, offsets } of committed) {
    for (const end of ends.get(topic) ?? []) {
      const found = offsets.get(end.partition);
      const at = found !== undefined && BigInt(found) >= 0n ? found : end.low;
      measured.push({
        group,
        topic,
        partition: end.partition,
        committed: at,
        high: end.high,
        lag: Number(BigInt(end.high) - BigInt(at)),
      });
    }
  }
  return measured.sort(
    (a, b) =>
      a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition,
  );
}
