// Kafka is a real broker, and the pipeline leans on two of its behaviours (docs/decisions/004):
// an idempotent producer's sends arrive once each and in order, and a consumer group commits
// the offsets a consumer resolved — only those — so a restarted consumer starts right after the
// last resolved message it committed and reads everything past it again.
import { randomUUID } from "node:crypto";
import type { Consumer, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { platformEnv } from "../src/env";
import { createKafka, idempotentProducer } from "../src/kafka";

const kafka = createKafka(platformEnv().KAFKA_BROKERS, "platform-test");
const admin = kafka.admin();
const run = randomUUID().slice(0, 8);
const input = `test.${run}.input`;
const output = `test.${run}.output`;
const closers: Array<Producer | Consumer> = [];

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: input, numPartitions: 1 },
      { topic: output, numPartitions: 1 },
    ],
  });
});

afterAll(async () => {
  await Promise.all(closers.map((c) => c.disconnect()));
  await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
  await admin.disconnect();
});

/** Reads `topic` from the start until `expected` messages arrived. */
async function readAll(topic: string, expected: number) {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  closers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? "");
        if (values.length >= expected) resolve();
      },
    });
  });
  await consumer.stop();
  return values;
}

describe("Kafka", () => {
  it("delivers an idempotent producer's messages once each, in the order they were sent", async () => {
    const producer = idempotentProducer(kafka);
    closers.push(producer);
    await producer.connect();
    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (let i = 0; i < sent.length; i += 20) {
      await producer.send({
        topic: output,
        acks: -1,
        messages: sent.slice(i, i + 20).map((value) => ({ key: "BTC_USDT", value })),
      });
    }
    expect(await readAll(output, sent.length)).toEqual(sent);
  });

  it("commits only resolved offsets: a restarted consumer reads again from the first unresolved one", async () => {
    const producer = idempotentProducer(kafka);
    closers.push(producer);
    await producer.connect();
    await producer.send({
      topic: input,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: "k", value: `c${i}` })),
    });
    const groupId = `group-${run}`;
    // The first consumer resolves (as if their output were acknowledged) only the first six.
    const first = kafka.consumer({ groupId });
    closers.push(first);
    await first.connect();
    await first.subscribe({ topic: input, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void first.run({
        autoCommit: true,
        autoCommitInterval: 50,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          for (const message of batch.messages) {
            if (Number(message.offset) <= 5) resolveOffset(message.offset);
          }
          if (batch.messages.some((m) => m.offset === "9")) resolve();
        },
      });
    });
    await first.disconnect();
    const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
    expect(offsets[0]?.partitions[0]?.offset).toBe("6");

    const second = kafka.consumer({ groupId });
    closers.push(second);
    await second.connect();
    await second.subscribe({ topic: input, fromBeginning: true });
    const again: string[] = [];
    await new Promise<void>((resolve) => {
      void second.run({
        eachMessage: async ({ message }) => {
          again.push(message.value?.toString() ?? "");
          if (again.length === 4) resolve();
        },
      });
    });
    await second.stop();
    expect(again).toEqual(["c6", "c7", "c8", "c9"]);
  });
});
