// The pipeline's last hour as one web instance keeps it: a ring buffer in memory (the points
// thinHistory keeps: every sample of the last five minutes, one per 10 s before) mirrored into
// Redis — a sorted set per instance, scored by sample time, expiring an hour after the
// instance's last write, and an index of the instances that wrote — so that a console joining any
// instance gets the union of every instance's hour (mergeHistories), an instance that was down or
// has just started included. Each sample costs one MULTI: the new point in, the points the buffer
// let go of out; a failed write only leaves extra or missing points, which the merge tolerates.
import { breakers } from "@spotx/platform/breakers";
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { HISTORY_SPAN_MS, mergeHistories, type PipelineSample, thinHistory } from "@spotx/protocol";

type Entry = { time: number; sample: PipelineSample; text: string };

export type PipelineHistoryOptions = {
  redis: Redis;
  names: Topology;
  /** This web instance's id (its registration's): its own sorted set. */
  instanceId: string;
  log: Logger;
};

/** A sample read back from Redis, or null when the member is not one (another version's…). */
function parseSample(text: string): PipelineSample | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    if (!("time" in value) || typeof value.time !== "number") return null;
    return value as PipelineSample;
  } catch {
    return null;
  }
}

export class PipelineHistory {
  private entries: Entry[] = [];

  constructor(private readonly options: PipelineHistoryOptions) {}

  /** This instance's own points, oldest first. */
  local(): PipelineSample[] {
    return this.entries.map((e) => e.sample);
  }

  /**
   * Keeps a new sample (if the buffer's rule keeps it) and lets go of the points the rule no
   * longer keeps, here and in Redis. Rejects when Redis did not take it; memory is updated anyway.
   */
  async record(sample: PipelineSample): Promise<void> {
    const entry: Entry = { time: sample.time, sample, text: JSON.stringify(sample) };
    const before = this.entries;
    this.entries = thinHistory([...before, entry], sample.time);
    const kept = new Set(this.entries);
    const dropped = before.filter((e) => !kept.has(e)).map((e) => e.text);
    const added = kept.has(entry);
    if (!added && dropped.length === 0) return;
    const { redis, names, instanceId } = this.options;
    const key = names.redis.pipelineHistory(instanceId);
    const writers = names.redis.pipelineHistoryWriters;
    const horizon = sample.time - HISTORY_SPAN_MS;
    await breakers.redis.run(() => {
      const batch = redis.multi();
      if (dropped.length > 0) batch.zrem(key, ...dropped);
      if (added) batch.zadd(key, sample.time, entry.text);
      batch.zremrangebyscore(key, "-inf", `(${horizon}`).pexpire(key, HISTORY_SPAN_MS);
      batch
        .zadd(writers, sample.time, instanceId)
        .zremrangebyscore(writers, "-inf", `(${horizon}`)
        .pexpire(writers, HISTORY_SPAN_MS);
      return batch.exec();
    });
  }

  /**
   * The last hour at `now` as every instance recorded it, merged with this instance's own; this
   * instance's alone (and a warning) when Redis does not answer.
   */
  async merged(now: number): Promise<PipelineSample[]> {
    const { redis, names, instanceId, log } = this.options;
    const horizon = now - HISTORY_SPAN_MS;
    try {
      const writers = await breakers.redis.run(() =>
        redis.zrangebyscore(names.redis.pipelineHistoryWriters, horizon, "+inf"),
      );
      const others = writers.filter((id) => id !== instanceId);
      if (others.length === 0) return thinHistory(this.local(), now);
      const replies = await breakers.redis.run(() => {
        const batch = redis.pipeline();
        for (const id of others)
          batch.zrangebyscore(names.redis.pipelineHistory(id), horizon, "+inf");
        return batch.exec();
      });
      const histories = (replies ?? []).map(([error, members]) => {
        if (error) throw error;
        return (members as string[]).flatMap((text) => parseSample(text) ?? []);
      });
      return mergeHistories([this.local(), ...histories], now);
    } catch (error) {
      log.warn({ err: error }, "the other instances' pipeline history could not be read");
      return thinHistory(this.local(), now);
    }
  }
}
