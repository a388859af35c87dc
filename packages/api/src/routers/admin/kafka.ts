// admin.kafka: the brokers, the pipeline's topics and partitions (leader, replicas, in-sync
// replicas, offsets) and the engine, settlement and market-data consumer groups with their
// members and lag per partition — one admin round of requests behind the Kafka breaker.
import { breakers } from "@spotx/platform/breakers";
import { pipelineGroups } from "@spotx/platform/consumer-lag";
import { kafkaAdminSession, kafkaOverview } from "@spotx/platform/kafka-overview";
import { z } from "zod";
import { operatorProcedure } from "../../trpc";

const partitionLag = z.object({
  partition: z.number().int(),
  committed: z.string(),
  high: z.string(),
  lag: z.number().int(),
});

export const kafkaOutput = z.object({
  clusterId: z.string(),
  controller: z.number().int().nullable(),
  brokers: z.array(
    z.object({ nodeId: z.number().int(), host: z.string(), port: z.number().int() }),
  ),
  topics: z.array(
    z.object({
      topic: z.string(),
      partitions: z.array(
        z.object({
          partition: z.number().int(),
          leader: z.number().int(),
          replicas: z.array(z.number().int()),
          isr: z.array(z.number().int()),
          low: z.string(),
          high: z.string(),
        }),
      ),
    }),
  ),
  /** Pipeline topics that do not exist yet (a worker creates them at start). */
  missingTopics: z.array(z.string()),
  groups: z.array(
    z.object({
      group: z.string(),
      topic: z.string(),
      state: z.string(),
      members: z.array(
        z.object({
          memberId: z.string(),
          clientId: z.string(),
          clientHost: z.string(),
          partitions: z.array(z.number().int()),
        }),
      ),
      partitions: z.array(partitionLag),
      totalLag: z.number().int(),
    }),
  ),
});

export const kafkaProcedure = operatorProcedure.output(kafkaOutput).query(async ({ ctx }) => {
  const { names } = ctx.services;
  const overview = await breakers.kafka.run(() =>
    kafkaAdminSession().use((admin) =>
      kafkaOverview(
        admin,
        [names.kafka.orders.topic, names.kafka.events.topic],
        pipelineGroups(names),
      ),
    ),
  );
  return {
    ...overview,
    groups: overview.groups.map((g) => ({
      ...g,
      partitions: g.partitions.map(({ partition, committed, high, lag }) => ({
        partition,
        committed,
        high,
        lag,
      })),
    })),
  };
});
