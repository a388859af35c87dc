"use client";
// The Services page's table: every process registered in etcd, live — a row appears when an
// instance registers and goes when its lease does (pushed by the operator feed the moment etcd
// says so) — with its uptime, the markets whose engine it owns, and the health of each of its
// dependencies from its own /ready (probed every few seconds).
import type { OperatorService, OperatorServicesMessage } from "@spotx/protocol";
import { useEffect, useState } from "react";
import { Badge } from "../ui/badge";
import { Banner } from "../ui/banner";
import { Panel } from "../ui/panel";
import { Table, Td, Th } from "../ui/table";
import { FeedStatus, useOperatorFeed } from "./operator-feed";

const COLUMNS = [
  { key: "instance", label: "Instance" },
  { key: "kind", label: "Kind" },
  { key: "host", label: "Host · port" },
  { key: "pid", label: "PID", num: true },
  { key: "version", label: "Version" },
  { key: "uptime", label: "Uptime", num: true },
  { key: "health", label: "Health" },
  { key: "dependencies", label: "Dependencies" },
  { key: "markets", label: "Markets owned" },
] as const;

/** "3d 4h", "2h 05m", "4m 09s", "12s". */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number) => String(n).padStart(2, "0");
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3_600)}h`;
  if (s >= 3_600) return `${Math.floor(s / 3_600)}h ${two(Math.floor((s % 3_600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
  return `${s}s`;
}

function useNow(everyMs: number) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

function Health({ instance }: { instance: OperatorService }) {
  if (!instance.health || !instance.ready) return <Badge>probing…</Badge>;
  if (!instance.health.ok) {
    return (
      <Badge tone="down" title={instance.health.error ?? undefined}>
        down
      </Badge>
    );
  }
  const failing = instance.ready.stages.filter((s) => !s.ok);
  if (!instance.ready.ok) {
    return (
      <Badge
        tone="warn"
        title={
          failing.map((s) => `${s.name}: ${s.detail ?? "failing"}`).join("\n") ||
          instance.ready.error ||
          undefined
        }
      >
        not ready
      </Badge>
    );
  }
  return (
    <Badge tone="up" title={`/ready in ${instance.ready.latencyMs} ms`}>
      ready
    </Badge>
  );
}

function Dependencies({ instance }: { instance: OperatorService }) {
  const dependencies = Object.entries(instance.ready?.dependencies ?? {});
  const failing = instance.ready?.stages.filter((s) => !s.ok) ?? [];
  if (dependencies.length === 0 && failing.length === 0) return <span className="muted">—</span>;
  return (
    <span className="console-deps">
      {dependencies.map(([name, probe]) => (
        <Badge
          key={name}
          tone={probe.ok ? "up" : "down"}
          title={probe.ok ? `${probe.latencyMs} ms` : (probe.error ?? "failing")}
          data-testid={`dependency-${name}`}
        >
          {name}
        </Badge>
      ))}
      {failing.map((stage) => (
        <Badge key={stage.name} tone="down" title={stage.detail}>
          {stage.name}
        </Badge>
      ))}
    </span>
  );
}

export function ServicesView({ initial }: { initial: OperatorServicesMessage | null }) {
  const { services } = useOperatorFeed();
  const now = useNow(1_000);
  const shown = services ?? initial;
  const instances = shown?.instances ?? [];
  const workers = instances.filter((i) => i.kind === "worker").length;
  return (
    <>
      {shown?.error ? (
        <Banner tone="danger" title="The registry is unavailable">
          {shown.error}
        </Banner>
      ) : null}
      {shown && shown.orphanedMarkets.length > 0 ? (
        <Banner tone="warning" title="Markets owned by an instance that is gone">
          {shown.orphanedMarkets
            .map((m) => `${m.symbol} (partition ${m.partition}, ${m.instance})`)
            .join(", ")}
          : their owner's lease has not expired yet; another worker takes them over when it does.
        </Banner>
      ) : null}
      <Panel
        flush
        title={`${instances.length} process${instances.length === 1 ? "" : "es"} · ${workers} worker${workers === 1 ? "" : "s"}`}
        actions={<FeedStatus at={shown?.time} />}
      >
        <Table
          label="Registered processes"
          columns={COLUMNS}
          testId="services"
          state={
            shown === null
              ? { kind: "loading", message: "Waiting for the registry…" }
              : instances.length === 0
                ? { kind: "empty", message: "No process is registered in etcd." }
                : { kind: "ready" }
          }
        >
          {instances.map((instance) => (
            <tr key={instance.id} data-testid={`service-${instance.id}`}>
              <Th>
                <span title={instance.id}>{instance.id}</span>
              </Th>
              <td>
                <Badge tone="info">{instance.kind}</Badge>
              </td>
              <td className="num">
                {instance.host}:{instance.httpPort}
              </td>
              <Td num>{instance.pid}</Td>
              <td>{instance.version}</td>
              <Td num title={instance.startedAt}>
                {formatUptime((now - Date.parse(instance.startedAt)) / 1000)}
              </Td>
              <td data-testid="health">
                <Health instance={instance} />
              </td>
              <td>
                <Dependencies instance={instance} />
              </td>
              <td>
                {instance.markets.length === 0 ? (
                  <span className="muted">—</span>
                ) : (
                  <span className="console-deps">
                    {instance.markets.map((m) => (
                      <Badge
                        key={m.symbol}
                        title={`partition ${m.partition}, epoch ${m.epoch}, since ${m.since}`}
                      >
                        {m.symbol}
                      </Badge>
                    ))}
                  </span>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </Panel>
    </>
  );
}
