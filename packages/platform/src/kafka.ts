// The one module that talks to Kafka: it owns the kafkajs client, the topic definitions and
// the health check. Producers here are idempotent with acks=all.
import {
  type Admin,
  Kafka,
  type KafkaConfig,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from "kafkajs";
import { platformEnv } from "./env";
import { logger } from "./logger";
import { type ProbeResult, probe, processSingleton } from "./probe";
import { type Topology, topology } from "./topology";

export type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from "kafkajs";

function logCreator() {
  const log = logger("kafkajs");
  return (entry: LogEntry) => {
    const { message, ...extra } = entry.log;
    const fields = { namespace: entry.namespace, ...extra };
    // kafkajs logs every retriable broker response (coordinator loading, concurrent
    // transactions) as an error and then retries it; only a failure it gives up on is one.
    const retried = entry.namespace === "Connection" || "retryCount" in extra;
    if (entry.level === logLevel.ERROR && !retried) log.error(fields, message);
    else if (entry.level === logLevel.ERROR) log.warn(fields, message);
    else if (entry.level === logLevel.WARN) log.warn(fields, message);
    else log.debug(fields, message);
  };
}

export function createKafka(
  brokers: readonly string[],
  clientId: string,
  overrides: Partial<KafkaConfig> = {},
): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    logLevel: logLevel.WARN,
    logCreator,
    ...overrides,
  });
}

/** The process-wide client for KAFKA_BROKERS. */
export function kafkaClient(clientId = "spotx"): Kafka {
  return processSingleton(`kafka.client.${clientId}`, () =>
    createKafka(platformEnv().KAFKA_BROKERS, clientId),
  );
}

const keyPartitioner = Partitioners.DefaultPartitioner();

/**
 * The partition kafkajs' default partitioner (murmur2 of the key, as Java clients do) sends a
 * keyed message to. Consumers use it to know which markets a partition they were assigned
 * carries, without waiting for a message.
 */
export function partitionForKey(topic: string, key: string, numPartitions: number): number {
  const partitionMetadata = Array.from({ length: numPartitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  return keyPartitioner({ topic, partitionMetadata, message: { key, value: null } });
}

/** The number of partitions of a topic, from the cluster's metadata. */
export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const count = metadata.topics[0]?.partitions.length ?? 0;
  if (count === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
  return count;
}

/** What one produce request may carry, well under the broker's default max message size. */
export const MAX_SEND_BYTES = 512 * 1024;

/** Splits messages into runs whose keys and values add up to at most `limit` bytes. */
export function byteChunks<T extends { key: string | null; value: string }>(
  messages: readonly T[],
  limit: number,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const message of messages) {
    const bytes = Buffer.byteLength(message.value) + (message.key?.length ?? 0) + 64;
    if (current.length > 0 && size + bytes > limit) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(message);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** An idempotent producer: acks=all is implied, retries never duplicate or reorder. */
export function idempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/**
 * Creates the app's topics (commands and events, keyed by market symbol so one market's
 * messages stay in order on one partition) when missing; existing topics are left as they are.
 */
export async function ensureTopics(admin: Admin, names: Topology = topology()): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = [names.kafka.orders, names.kafka.events].filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.numPartitions })),
  });
}

/** Connects afresh and asks the cluster for its metadata (a real Metadata request). */
export function pingKafka(brokers: readonly string[], timeoutMs = 3_000): Promise<ProbeResult> {
  return probe(async () => {
    const kafka = new Kafka({
      clientId: "spotx-probe",
      brokers: [...brokers],
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return `Kafka cluster ${cluster.clusterId} (${cluster.brokers.length} broker)`;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }, timeoutMs);
}

type ReadinessAdmin = { admin: Admin | null; connecting: Promise<Admin> | null };

/**
 * The cluster's metadata through one admin connection the process keeps for its readiness
 * probes (made on first use; dropped after a failure, so the next probe connects afresh).
 */
export function checkKafka(timeoutMs = 3_000): Promise<ProbeResult> {
  const state = processSingleton<ReadinessAdmin>("kafka.readiness-admin", () => ({
    admin: null,
    connecting: null,
  }));
  return probe(async () => {
    state.connecting ??= (async () => {
      const admin = createKafka(platformEnv().KAFKA_BROKERS, "spotx-readiness", {
        connectionTimeout: timeoutMs,
        requestTimeout: timeoutMs,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      state.admin = admin;
      return admin;
    })();
    try {
      const admin = await state.connecting;
      const cluster = await admin.describeCluster();
      return `Kafka cluster ${cluster.clusterId} (${cluster.brokers.length} broker)`;
    } catch (error) {
      const stale = state.admin;
      state.admin = null;
      state.connecting = null;
      await stale?.disconnect().catch(() => undefined);
      throw error;
    }
  }, timeoutMs);
}
