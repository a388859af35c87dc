// Kafka is a real broker: transactions are atomic for read_committed consumers, and a
// consume-transform-produce step commits its input offset in the same transaction.
import { randomUUID } from "node:crypto";
import type { Consumer, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { platformEnv } from "../src/env";
import { createKafka, idempotentProducer, transactionalProducer } from "../src/kafka";

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

/** Reads `topic` from the start with the given isolation until `expected` messages arrived. */
async function readAll(topic: string, expected: number, readUncommitted: boolean) {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, readUncommitted });
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
  it("shows a committed transaction to read_committed consumers and hides an aborted one", async () => {
    const producer = transactionalProducer(kafka, `tx-${run}-1`);
    closers.push(producer);
    await producer.connect();

    const committed = await producer.transaction();
    await committed.send({ topic: output, messages: [{ key: "BTC_USDT", value: "committed-1" }] });
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ key: "BTC_USDT", value: "aborted" }] });
    await aborted.abort();

    const marker = await producer.transaction();
    await marker.send({ topic: output, messages: [{ key: "BTC_USDT", value: "committed-2" }] });
    await marker.commit();

    // read_uncommitted sees all three records; read_committed only the two committed ones.
    expect(await readAll(output, 3, true)).toEqual(["committed-1", "aborted", "committed-2"]);
    expect(await readAll(output, 2, false)).toEqual(["committed-1", "committed-2"]);
  });

  it("commits a consumed offset inside the producing transaction (sendOffsets)", async () => {
    const producer = idempotentProducer(kafka);
    closers.push(producer);
    await producer.connect();
    await producer.send({ topic: input, acks: -1, messages: [{ key: "k", value: "in-1" }] });

    const groupId = `ctp-${run}`;
    const consumer = kafka.consumer({ groupId, readUncommitted: false });
    const tx = transactionalProducer(kafka, `tx-${run}-2`);
    closers.push(consumer, tx);
    await Promise.all([consumer.connect(), tx.connect()]);
    await consumer.subscribe({ topic: input, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const transaction = await tx.transaction();
          await transaction.send({ topic: output, messages: [{ value: `out-${message.value}` }] });
          await transaction.sendOffsets({
            consumerGroupId: groupId,
            topics: [
              {
                topic,
                partitions: [{ partition, offset: (BigInt(message.offset) + 1n).toString() }],
              },
            ],
          });
          await transaction.commit();
          resolve();
        },
      });
    });
    await consumer.stop();

    const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
    expect(offsets[0]?.partitions[0]?.offset).toBe("1");
  });
});
