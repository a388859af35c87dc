// The machine's raw Kafka ceiling, in the same run: small command-sized messages produced by
// one producer with spotx's settings (idempotent, acks=all, batches as large as the outbox
// relay's) to a temporary topic partitioned like spotx's, and consumed by a consumer group at
// the same time. Nothing else — no PostgreSQL, no engine — so no pipeline stage built on
// kafkajs here can go faster than this.
import { idempotentProducer, type Kafka } from "@spotx/platform/kafka";
import { nowMs, round } from "./stats";

export type KafkaCeiling = {
  messages: number;
  message_bytes: number;
  batch: number;
  partitions: number;
  produce_msgs_per_sec: number;
  produce_consume_msgs_per_sec: number;
  /** Per produce request (acks=all) of `batch` messages. */
  produce_request_p50_ms: number;
  produce_request_p99_ms: number;
};

export async function kafkaCeiling(
  kafka: Kafka,
  topic: string,
  options: { messages?: number; batch?: number; partitions?: number } = {},
): Promise<KafkaCeiling> {
  const messages = options.messages ?? 300_000;
  const batch = options.batch ?? 1_000;
  const partitions = options.partitions ?? 4;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions }],
  });
  await admin.disconnect();

  // A command as the outbox relay sends it, give or take: ~200 bytes of JSON.
  const value = JSON.stringify({
    type: "place",
    market: "BTC_USDT",
    order: {
      id: "123456789",
      userId: "4242",
      side: "buy",
      type: "limit",
      timeInForce: "gtc",
      price: "2999912",
      quantity: "55",
      stp: null,
    },
    time: Date.now(),
  });
  const keys = ["BTC_USDT", "ETH_USDT", "SOL_USDT", "XRP_USDT"];

  let consumed = 0;
  let lastConsumed = 0;
  let allConsumed: (() => void) | undefined;
  const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch: received }) => {
      consumed += received.messages.length;
      lastConsumed = nowMs();
      if (consumed >= messages) allConsumed?.();
    },
  });
  // Let the group settle so the timed part measures flow, not a join.
  await new Promise((resolve) => setTimeout(resolve, 3_000));

  const producer = idempotentProducer(kafka);
  await producer.connect();
  const requestMs: number[] = [];
  const started = nowMs();
  for (let sent = 0; sent < messages; sent += batch) {
    const chunk = Array.from({ length: Math.min(batch, messages - sent) }, (_, i) => ({
      key: keys[(sent + i) % keys.length] ?? null,
      value,
    }));
    const t = nowMs();
    await producer.send({ topic, acks: -1, messages: chunk });
    requestMs.push(nowMs() - t);
  }
  const produced = nowMs();
  if (consumed < messages) {
    await Promise.race([
      new Promise<void>((resolve) => (allConsumed = resolve)),
      new Promise((resolve) => setTimeout(resolve, 60_000)),
    ]);
  }
  await producer.disconnect();
  await consumer.stop();
  await consumer.disconnect();
  requestMs.sort((a, b) => a - b);
  const at = (p: number) =>
    requestMs[Math.min(requestMs.length - 1, Math.ceil(p * requestMs.length) - 1)] ?? 0;
  return {
    messages,
    message_bytes: Buffer.byteLength(value),
    batch,
    partitions,
    produce_msgs_per_sec: Math.round(messages / ((produced - started) / 1_000)),
    produce_consume_msgs_per_sec: Math.round(
      Math.min(consumed, messages) / ((Math.max(lastConsumed, produced) - started) / 1_000),
    ),
    produce_request_p50_ms: round(at(0.5), 2),
    produce_request_p99_ms: round(at(0.99), 2),
  };
}
