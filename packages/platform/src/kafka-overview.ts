// What the operator console shows of Kafka — the brokers, the pipeline's topics with each
// partition's leader, replicas and offsets, and each consumer group's state, members (with the
// partitions assigned to them) and lag per partition — read with one long-lived admin client.
// Callers run it through the Kafka circuit breaker.
import { type Admin, AssignerProtocol, type Kafka } from "kafkajs";
import { measureConsumerLag, type PartitionLag, type WatchedGroup } from "./consumer-lag";
import { kafkaClient } from "./kafka";
import { processSingleton } from "./probe";

export type TopicPartitionOverview = {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  low: string;
  high: string;
};

export type GroupMemberOverview = {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** Partitions of the group's topic assigned to this member. */
  partitions: number[];
};

export type GroupOverview = {
  group: string;
  topic: string;
  state: string;
  members: GroupMemberOverview[];
  partitions: PartitionLag[];
  totalLag: number;
};

export type KafkaOverview = {
  clusterId: string;
  controller: number | null;
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  topics: Array<{ topic: string; partitions: TopicPartitionOverview[] }>;
  /** Topics asked about that do not exist (yet: a worker creates them at start). */
  missingTopics: string[];
  /** The groups of the topics that exist. */
  groups: GroupOverview[];
};

/** One admin connection kept open across requests; dropped and remade after a failure. */
export class KafkaAdminSession {
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;

  constructor(private readonly kafka: Kafka) {}

  async use<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = await this.connected();
    try {
      return await work(admin);
    } catch (error) {
      // A broken connection is remade on the next call rather than retried here: the caller's
      // breaker decides when that is worth trying.
      this.admin = undefined;
      this.connecting = undefined;
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.connecting = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  private connected(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (error) {
        this.connecting = undefined;
        throw error;
      }
      this.admin = admin;
      return admin;
    })();
    return this.connecting;
  }
}

/** The process's admin session on KAFKA_BROKERS (the operator console's). */
export function kafkaAdminSession(): KafkaAdminSession {
  return processSingleton(
    "kafka.admin-session",
    () => new KafkaAdminSession(kafkaClient("spotx-console")),
  );
}

/** The partitions of `topic` assigned to a member, from its encoded assignment. */
function assignedPartitions(assignment: Buffer, topic: string): number[] {
  if (assignment.length === 0) return [];
  const decoded = AssignerProtocol.MemberAssignment.decode(assignment);
  return [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b);
}

export async function kafkaOverview(
  admin: Admin,
  topics: readonly string[],
  groups: readonly WatchedGroup[],
): Promise<KafkaOverview> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  const watched = groups.filter((g) => existing.has(g.topic));
  const [cluster, metadata, lags, described] = await Promise.all([
    admin.describeCluster(),
    present.length > 0 ? admin.fetchTopicMetadata({ topics: present }) : { topics: [] },
    measureConsumerLag(admin, watched),
    watched.length > 0 ? admin.describeGroups(watched.map((g) => g.group)) : { groups: [] },
  ]);
  const offsets = new Map(
    await Promise.all(present.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const)),
  );
  return {
    clusterId: cluster.clusterId,
    controller: cluster.controller,
    brokers: [...cluster.brokers].sort((a, b) => a.nodeId - b.nodeId),
    topics: metadata.topics
      .map((t) => ({
        topic: t.name,
        partitions: t.partitions
          .map((p) => {
            const end = offsets.get(t.name)?.find((o) => o.partition === p.partitionId);
            return {
              partition: p.partitionId,
              leader: p.leader,
              replicas: [...p.replicas],
              isr: [...p.isr],
              low: end?.low ?? "0",
              high: end?.high ?? "0",
            };
          })
          .sort((a, b) => a.partition - b.partition),
      }))
      .sort((a, b) => a.topic.localeCompare(b.topic)),
    missingTopics: topics.filter((t) => !existing.has(t)),
    groups: watched.map(({ group, topic }) => {
      const description = described.groups.find((d) => d.groupId === group);
      const partitions = lags.filter((l) => l.group === group && l.topic === topic);
      return {
        group,
        topic,
        state: description?.state ?? "Unknown",
        members: (description?.members ?? [])
          .map((m) => ({
            memberId: m.memberId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            partitions: assignedPartitions(m.memberAssignment, topic),
          }))
          .sort((a, b) => a.memberId.localeCompare(b.memberId)),
        partitions,
        totalLag: partitions.reduce((sum, p) => sum + p.lag, 0),
      };
    }),
  };
}
