// Consumer lag is end − committed, per partition, and never negative: a group's committed
// offset is read before the partition's end, so a group committing as fast as it reads (market
// data) is never seen ahead of an end read a moment before.
import { randomUUID } from "node:crypto";
import type { Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureConsumerLag } from "../src/consumer-lag";
import { platformEnv } from "../src/env";
import { createKafka, idempotentProducer } from "../src/kafka";

/**
 * A topic whose end grows by 10 with every request the admin makes, read by a group that is
 * always caught up: at each moment its committed offset equals the end at that moment.
 */
function movingTopic() {
  let clock = 0;
  const endAt = (t: number) => 100 + 10 * t;
  const admin: Pick<Admin, "fetchOffsets" | "fetchTopicOffsets"> = {
    fetchOffsets: async () => {
      clock += 1;
      return [
        {
          topic: "t",
          partitions: [{ partition: 0, offset: String(endAt(clock)), metadata: null }],
        },
      ];
    },
    fetchTopicOffsets: async () => {
      clock += 1;
      const end = String(endAt(clock));
      return [{ partition: 0, offset: end, high: end, low: "0" }];
    },
  };
  return admin;
}

describe("measureConsumerLag", () => {
  it("reads a fast group's committed offset before the end, so its lag is never negative", async () => {
    const admin = movingTopic();
    const [lag] = await measureConsumerLag(admin, [{ group: "g", topic: "t" }]);
    // Committed 110 (read first), end 120 (read after): 10 behind, not 10 ahead.
    expect(lag).toEqual({
      group: "g",
      topic: "t",
      partition: 0,
      committed: "110",
      high: "120",
      lag: 10,
    });
  });

  describe("against the broker", () => {
    const kafka = createKafka(platformEnv().KAFKA_BROKERS, "consumer-lag-test");
    const admin = kafka.admin();
    const topic = `test.${randomUUID().slice(0, 8)}.lag`;
    const group = `lag-${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    });
    afterAll(async () => {
      await admin.deleteGroups([group]).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    });

    it("measures a group committing while messages arrive: never negative, 0 once caught up", async () => {
      const producer = idempotentProducer(kafka);
      const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 20 });
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let read = 0;
      await consumer.run({
        autoCommitThreshold: 1,
        eachMessage: async () => {
          read += 1;
        },
      });
      const lags: number[] = [];
      for (let round = 0; round < 40; round++) {
        await producer.send({ topic, acks: -1, messages: [{ value: `m${round}` }] });
        for (const measured of await measureConsumerLag(admin, [{ group, topic }])) {
          lags.push(measured.lag);
        }
      }
      await expect.poll(() => read, { timeout: 15_000 }).toBe(40);
      await expect
        .poll(async () => (await measureConsumerLag(admin, [{ group, topic }]))[0]?.lag, {
          timeout: 15_000,
        })
        .toBe(0);
      await consumer.disconnect();
      await producer.disconnect();
      expect(lags).toHaveLength(40);
      expect(lags.filter((lag) => lag < 0)).toEqual([]);
    }, 40_000);
  });
});
