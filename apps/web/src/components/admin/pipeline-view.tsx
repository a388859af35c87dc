"use client";
// The Pipeline page: the live charts (consumer lag per partition, orders per second, order
// acknowledgement and engine latency, outbox backlog, settlement lag — the last hour drawn on
// arrival from the history every web instance keeps, then pushed every two seconds by the
// operator feed) above the Kafka topology (topics, partitions, groups and their members —
// fetched through admin.kafka every five seconds).
import type { PipelineSample } from "@spotx/protocol";
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useTRPC } from "../../trpc/client";
import { Badge } from "../ui/badge";
import { Banner } from "../ui/banner";
import { LineChart, type LineSeriesData } from "../ui/line-chart";
import { Panel } from "../ui/panel";
import { Table, Td, Th, tableStateOf } from "../ui/table";
import { refusalText } from "./console-errors";
import { consoleTime } from "./console-format";
import { FeedStatus, useOperatorFeed } from "./operator-feed";
import type { KafkaView } from "./views";

/** Outbox rows older than this mean the relay is stuck (the worker's /ready says so too). */
const OUTBOX_STUCK_SECONDS = 30;

type Pick = (s: PipelineSample) => number | null | undefined;

function line(samples: readonly PipelineSample[], key: string, label: string, pick: Pick) {
  return {
    key,
    label,
    points: samples.flatMap((s) => {
      const value = pick(s);
      return value === null || value === undefined ? [] : [{ time: s.time, value }];
    }),
  };
}

/** One line per group and partition, from the samples that measured the lag. */
function lagLines(samples: readonly PipelineSample[]): LineSeriesData[] {
  const keys = new Map<string, string>();
  for (const s of samples) {
    for (const l of s.lag ?? []) {
      keys.set(`${l.group}/${l.partition}`, `${l.group.split(".").at(-1)} p${l.partition}`);
    }
  }
  return [...keys.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, label]) =>
      line(
        samples,
        key,
        label,
        (s) => s.lag?.find((l) => `${l.group}/${l.partition}` === key)?.lag,
      ),
    );
}

function settlementLines(samples: readonly PipelineSample[]): LineSeriesData[] {
  const markets = [...new Set(samples.flatMap((s) => s.settlement.map((m) => m.market)))].sort();
  return markets.map((market) =>
    line(samples, market, market, (s) => s.settlement.find((m) => m.market === market)?.lagMs),
  );
}

function Stat({
  label,
  value,
  alarm,
  testId,
}: {
  label: string;
  value: string;
  alarm?: boolean;
  testId?: string;
}) {
  return (
    <div className="console-stat" data-alarm={alarm ? "true" : undefined} data-testid={testId}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

const figure = (value: number | null | undefined, unit = "") =>
  value === null || value === undefined ? "—" : `${value.toLocaleString("en-US")}${unit}`;

export function PipelineView({ initialKafka }: { initialKafka: KafkaView | null }) {
  const { samples } = useOperatorFeed();
  const latest = samples.at(-1);
  const charts = useMemo(
    () => ({
      lag: lagLines(samples),
      rates: [
        line(samples, "placed", "orders placed", (s) => s.ordersPerSecond),
        line(samples, "engine", "engine commands", (s) => s.engineCommandsPerSecond),
      ],
      ack: [
        line(samples, "ack", "ack p99 (POST /spot/orders)", (s) => s.ackP99Ms),
        line(samples, "commit", "placement commit p99", (s) => s.placementCommitP99Ms),
      ],
      engine: [
        line(samples, "p50", "engine p50", (s) => s.engineP50Us),
        line(samples, "p99", "engine p99", (s) => s.engineP99Us),
      ],
      outbox: [
        line(samples, "backlog", "unpublished rows", (s) => s.outbox?.backlog),
        line(samples, "age", "oldest (s)", (s) => s.outbox?.oldestAgeSeconds),
      ],
      settlement: settlementLines(samples),
    }),
    [samples],
  );
  const totalLag = latest?.lag?.reduce((n, l) => n + l.lag, 0);
  const stopped = latest?.settlement.filter((m) => m.stopped) ?? [];
  const outboxAge = latest?.outbox?.oldestAgeSeconds ?? 0;

  return (
    <>
      {stopped.length > 0 ? (
        <Banner tone="danger" title="Settlement stopped" testId="settlement-stopped">
          {stopped.map((m) => m.market).join(", ")}: a sequence gap or a refused event. The market's
          later events are held until it is repaired; see the worker's log.
        </Banner>
      ) : null}
      {latest?.lagError ? <Banner tone="warning">{latest.lagError}</Banner> : null}
      {latest && latest.scrapeErrors.length > 0 ? (
        <Banner tone="warning" title="Some processes' figures are missing">
          {latest.scrapeErrors.map((e) => `${e.id}: ${e.error}`).join("; ")}
        </Banner>
      ) : null}
      <div className="console-head">
        <span
          className="muted"
          data-testid="pipeline-history"
          data-from={samples[0]?.time}
          data-points={samples.length}
        >
          {samples[0] && latest && latest.time - samples[0].time >= 60_000
            ? `Charts from ${consoleTime(samples[0].time).slice(11)} (the last hour is kept)`
            : "Charts keep the last hour"}
        </span>
        <FeedStatus at={latest?.time} />
      </div>
      <dl className="console-stats">
        <Stat label="Consumer lag (all groups)" value={figure(totalLag)} testId="stat-lag" />
        <Stat label="Orders placed / s" value={figure(latest?.ordersPerSecond)} />
        <Stat label="Ack p99" value={figure(latest?.ackP99Ms, " ms")} />
        <Stat label="Engine p99" value={figure(latest?.engineP99Us, " µs")} />
        <Stat
          label="Outbox backlog · oldest"
          value={
            latest?.outbox
              ? `${figure(latest.outbox.backlog)} · ${figure(latest.outbox.oldestAgeSeconds, " s")}`
              : "—"
          }
          alarm={outboxAge > OUTBOX_STUCK_SECONDS}
          testId="stat-outbox"
        />
        <Stat
          label="Settlement stopped"
          value={stopped.length === 0 ? "none" : stopped.map((m) => m.market).join(", ")}
          alarm={stopped.length > 0}
        />
      </dl>
      <div className="console-grid">
        <Panel title="Consumer lag per partition (messages)">
          <LineChart label="Consumer lag per partition" series={charts.lag} testId="chart-lag" />
        </Panel>
        <Panel title="Throughput (per second)">
          <LineChart
            label="Orders and engine commands per second"
            series={charts.rates}
            unit="/s"
          />
        </Panel>
        <Panel title="Order acknowledgement p99 (ms)">
          <LineChart
            label="Order acknowledgement latency"
            series={charts.ack}
            unit="ms"
            emptyMessage="No order placed in the last intervals."
          />
        </Panel>
        <Panel title="Engine latency per command (µs)">
          <LineChart
            label="Engine latency"
            series={charts.engine}
            unit="µs"
            emptyMessage="No command applied in the last intervals."
          />
        </Panel>
        <Panel title="Outbox backlog">
          <LineChart label="Outbox backlog" series={charts.outbox} />
        </Panel>
        <Panel title="Settlement lag behind the engine (ms)">
          <LineChart
            label="Settlement lag per market"
            series={charts.settlement}
            unit="ms"
            emptyMessage="No market settled yet."
          />
        </Panel>
      </div>
      <KafkaTopology initial={initialKafka} />
    </>
  );
}

function KafkaTopology({ initial }: { initial: KafkaView | null }) {
  const trpc = useTRPC();
  const query = useQuery(
    trpc.admin.kafka.queryOptions(undefined, {
      ...(initial ? { initialData: initial } : {}),
      refetchInterval: 5_000,
    }),
  );
  const kafka = query.data;
  const partitions = kafka?.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.topic, ...p })),
  );
  return (
    <>
      {kafka && kafka.missingTopics.length > 0 ? (
        <Banner tone="warning" title="Topics not created yet">
          {kafka.missingTopics.join(", ")}: a worker creates them when it starts.
        </Banner>
      ) : null}
      <div className="console-grid">
        <Panel
          flush
          title={
            kafka
              ? `Topics · ${kafka.brokers.length} broker${kafka.brokers.length === 1 ? "" : "s"} · controller ${kafka.controller ?? "—"}`
              : "Topics"
          }
        >
          <Table
            label="Topic partitions"
            columns={[
              { key: "topic", label: "Topic" },
              { key: "partition", label: "Partition", num: true },
              { key: "leader", label: "Leader", num: true },
              { key: "isr", label: "In sync / replicas" },
              { key: "low", label: "Low", num: true },
              { key: "high", label: "High", num: true },
            ]}
            state={
              query.isError && !kafka
                ? { kind: "error", message: refusalText(query.error) }
                : tableStateOf(query, partitions?.length ?? 0, "No pipeline topic exists yet.")
            }
            testId="kafka-partitions"
          >
            {partitions?.map((p) => (
              <tr key={`${p.topic}/${p.partition}`}>
                <Th>{p.topic}</Th>
                <Td num>{p.partition}</Td>
                <Td num>{p.leader}</Td>
                <td>
                  <Badge tone={p.isr.length < p.replicas.length ? "down" : "up"}>
                    {p.isr.length} / {p.replicas.length}
                  </Badge>
                </td>
                <Td num>{p.low}</Td>
                <Td num>{p.high}</Td>
              </tr>
            ))}
          </Table>
        </Panel>
        <Panel flush title="Consumer groups">
          <Table
            label="Consumer groups"
            columns={[
              { key: "group", label: "Group" },
              { key: "state", label: "State" },
              { key: "members", label: "Members (partitions)" },
              { key: "lag", label: "Lag", num: true },
            ]}
            state={
              query.isError && !kafka
                ? { kind: "error", message: refusalText(query.error) }
                : tableStateOf(query, kafka?.groups.length ?? 0, "No consumer group yet.")
            }
            testId="kafka-groups"
          >
            {kafka?.groups.map((g) => (
              <tr key={g.group}>
                <Th>
                  {g.group}
                  <div className="muted" style={{ fontSize: 11.5 }}>
                    {g.topic}
                  </div>
                </Th>
                <td>
                  <Badge tone={g.state === "Stable" ? "up" : "warn"}>{g.state}</Badge>
                </td>
                <td>
                  {g.members.length === 0 ? (
                    <span className="down">no member</span>
                  ) : (
                    g.members.map((m) => (
                      <div key={m.memberId} title={m.memberId}>
                        {m.clientHost} · {m.partitions.join(", ") || "none"}
                      </div>
                    ))
                  )}
                </td>
                <Td num>{g.totalLag}</Td>
              </tr>
            ))}
          </Table>
        </Panel>
      </div>
      {query.isError && kafka ? (
        <p className="muted down" role="alert">
          Refreshing the topology failed ({refusalText(query.error)}); showing the last answer.
        </p>
      ) : null}
    </>
  );
}
