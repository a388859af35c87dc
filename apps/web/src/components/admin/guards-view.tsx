"use client";
// Locks, breakers and rate limits: the Redis locks held now with their fencing tokens and time
// left, every instance's circuit breakers — a web's request breakers, a worker's pipeline ones
// (settlement's PostgreSQL, market data's Redis) — with their last transition, and rate-limit
// refusals (pushed by the operator feed every two seconds), and — fetched — this web instance's breakers in full (window counts, the
// last transition, settings) and the rate-limit settings in force.
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc/client";
import { Badge, type BadgeTone } from "../ui/badge";
import { Banner } from "../ui/banner";
import { Panel } from "../ui/panel";
import { Table, Td, Th, tableStateOf } from "../ui/table";
import { refusalText } from "./console-errors";
import { consoleTime } from "./console-format";
import { FeedStatus, useOperatorFeed } from "./operator-feed";
import type { BreakersView, RateLimitsView } from "./views";

const STATE_TONE: Record<string, BadgeTone> = { closed: "up", half_open: "warn", open: "down" };

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

export function GuardsView({
  initialBreakers,
  initialRateLimits,
}: {
  initialBreakers: BreakersView | null;
  initialRateLimits: RateLimitsView | null;
}) {
  const { guards, state } = useOperatorFeed();
  const trpc = useTRPC();
  const breakers = useQuery(
    trpc.admin.breakers.queryOptions(undefined, {
      ...(initialBreakers ? { initialData: initialBreakers } : {}),
      refetchInterval: 5_000,
    }),
  );
  const limits = useQuery(
    trpc.admin.rateLimits.queryOptions(undefined, {
      ...(initialRateLimits ? { initialData: initialRateLimits } : {}),
      refetchInterval: 10_000,
    }),
  );
  const waiting = guards === null;
  const feedState = (rows: number, empty: string) =>
    waiting
      ? state.kind === "refused"
        ? ({ kind: "error", message: "The live feed was refused." } as const)
        : ({ kind: "loading", message: "Waiting for the live feed…" } as const)
      : rows === 0
        ? ({ kind: "empty", message: empty } as const)
        : ({ kind: "ready" } as const);
  const instances = guards?.instances ?? [];
  const breakerRows = instances.flatMap((i) =>
    i.error ? [] : i.breakers.map((b) => ({ instance: i.id, kind: i.kind, ...b })),
  );
  const refusals = instances.flatMap((i) =>
    i.rateLimitRejections.map((r) => ({ instance: i.id, ...r })),
  );
  const open = breakerRows.filter((b) => b.state === "open");

  return (
    <>
      {open.length > 0 ? (
        <Banner tone="danger" title="Circuit breaker open" testId="breaker-open">
          {open.map((b) => `${b.dependency} on ${b.instance}`).join(", ")}: calls to that server
          fail at once until a probe gets through.
        </Banner>
      ) : null}
      <div className="console-head">
        <span />
        <FeedStatus at={guards?.time} />
      </div>
      <Panel flush title="Locks held">
        {guards?.lockError ? <Banner tone="warning">{guards.lockError}</Banner> : null}
        <Table
          label="Locks held"
          columns={[
            { key: "resource", label: "Resource" },
            { key: "owner", label: "Holder" },
            { key: "token", label: "Fencing token", num: true },
            { key: "ttl", label: "Time left", num: true },
          ]}
          state={feedState(guards?.locks?.length ?? 0, "No lock is held right now.")}
          testId="locks"
        >
          {guards?.locks?.map((lock) => (
            <tr key={lock.resource}>
              <Th>{lock.resource}</Th>
              <td className="num">{lock.owner}</td>
              <Td num>{lock.token}</Td>
              <Td num>{seconds(lock.ttlMs)}</Td>
            </tr>
          ))}
        </Table>
      </Panel>
      <Panel flush title="Circuit breakers, every instance">
        <Table
          label="Circuit breakers"
          columns={[
            { key: "instance", label: "Instance" },
            { key: "dependency", label: "Dependency" },
            { key: "state", label: "State" },
            { key: "last", label: "Last transition" },
            { key: "transitions", label: "Transitions", num: true },
            { key: "rejections", label: "Calls refused", num: true },
          ]}
          state={feedState(breakerRows.length, "No instance reports a breaker.")}
          testId="breakers"
        >
          {breakerRows.map((b) => (
            <tr
              key={`${b.instance}/${b.dependency}`}
              data-testid="breaker-row"
              data-kind={b.kind}
              data-dependency={b.dependency}
            >
              <Th>
                {b.instance}
                <div className="muted" style={{ fontSize: 11.5 }}>
                  {b.kind}
                </div>
              </Th>
              <td>{b.dependency}</td>
              <td>
                <Badge tone={STATE_TONE[b.state ?? ""] ?? "neutral"}>{b.state ?? "unknown"}</Badge>
              </td>
              <td>{b.lastTransitionAt ? consoleTime(b.lastTransitionAt) : "never"}</td>
              <Td num>{b.transitions}</Td>
              <Td num>{b.rejections}</Td>
            </tr>
          ))}
        </Table>
        {instances
          .filter((i) => i.error)
          .map((i) => (
            <p key={i.id} className="muted" style={{ padding: "6px 10px", margin: 0 }}>
              {i.id}: no figures ({i.error})
            </p>
          ))}
      </Panel>
      <Panel flush title="Rate-limit refusals since each instance started">
        <Table
          label="Rate-limit refusals"
          columns={[
            { key: "instance", label: "Instance" },
            { key: "class", label: "Class" },
            { key: "scope", label: "Scope" },
            { key: "refused", label: "Refused", num: true },
          ]}
          state={feedState(refusals.length, "No request has been refused.")}
          testId="rate-limit-refusals"
        >
          {refusals.map((r) => (
            <tr key={`${r.instance}/${r.endpointClass}/${r.scope}`}>
              <Th>{r.instance}</Th>
              <td>{r.endpointClass}</td>
              <td>{r.scope}</td>
              <Td num>{r.refused}</Td>
            </tr>
          ))}
        </Table>
      </Panel>
      <Panel flush title="This web instance's breakers in full">
        <Table
          label="Breakers of this instance"
          columns={[
            { key: "dependency", label: "Dependency" },
            { key: "state", label: "State" },
            { key: "last", label: "Last transition" },
            { key: "window", label: "Window: calls / failed / timed out", num: true },
            { key: "settings", label: "Timeout · opens at · probe after" },
          ]}
          state={
            breakers.isError && !breakers.data
              ? { kind: "error", message: refusalText(breakers.error) }
              : tableStateOf(breakers, breakers.data?.local.length ?? 0, "No breaker.")
          }
        >
          {breakers.data?.local.map((b) => (
            <tr key={b.dependency}>
              <Th>{b.dependency}</Th>
              <td>
                <Badge tone={STATE_TONE[b.state] ?? "neutral"}>{b.state}</Badge>
              </td>
              <td>
                {b.lastTransition
                  ? `${b.lastTransition.from} → ${b.lastTransition.to}, ${consoleTime(b.lastTransition.at)}`
                  : "never"}
              </td>
              <Td num>
                {b.window.calls} / {b.window.failures} / {b.window.timeouts}
              </Td>
              <td>
                {seconds(b.settings.timeoutMs)} · &gt; {b.settings.errorThresholdPercent}% of ≥{" "}
                {b.settings.volumeThreshold} in {seconds(b.settings.windowMs)} ·{" "}
                {seconds(b.settings.resetMs)}
              </td>
            </tr>
          ))}
        </Table>
      </Panel>
      <Panel
        flush
        title={`Rate limits in force${limits.data?.settingsSource ? ` (${limits.data.settingsSource === "etcd" ? "etcd" : limits.data.settingsSource === "defaults" ? "defaults" : "etcd value malformed: instances keep what they had"})` : ""}`}
      >
        <Table
          label="Rate-limit settings"
          columns={[
            { key: "class", label: "Class" },
            { key: "scope", label: "Scope" },
            { key: "rule", label: "Allowed", num: true },
            { key: "refused", label: "Refused (all instances)", num: true },
          ]}
          state={
            limits.isError && !limits.data
              ? { kind: "error", message: refusalText(limits.error) }
              : limits.data?.error
                ? { kind: "error", message: limits.data.error }
                : tableStateOf(limits, limits.data?.settings?.length ?? 0, "No settings.")
          }
        >
          {limits.data?.settings?.map((s) => (
            <tr key={`${s.endpointClass}/${s.scope}`}>
              <Th>{s.endpointClass}</Th>
              <td>{s.scope}</td>
              <Td num>
                {s.rule.points} / {s.rule.duration} s
              </Td>
              <Td num>
                {limits.data?.rejections.find(
                  (r) => r.endpointClass === s.endpointClass && r.scope === s.scope,
                )?.refused ?? 0}
              </Td>
            </tr>
          ))}
        </Table>
      </Panel>
    </>
  );
}
