// The readable part of the report: the fixed-rate latencies of both front doors side by side,
// CPU per order operation by process, the ramps, each stage's own metrics and the Kafka
// ceiling, as aligned tables.
import type { ChartData } from "./charts";
import { type CpuReport, EXCHANGE_PROCESSES } from "./cpu";
import type { KafkaCeiling } from "./kafka-ceiling";
import type { PhaseReport, StageFigures } from "./phase";
import type { ProfileSummary } from "./profile";
import type { HistogramDelta } from "./prometheus";
import type { RateLimitOverride } from "./rate-limit-override";
import type { FleetResult } from "./socket-clients";
import type { LatencySummary } from "./stats";

export type E2eSummary = {
  orders_per_sec: number;
  first_unsustained_per_sec: number | null;
  http_orders_per_sec: number | null;
  http_first_unsustained_per_sec: number | null;
  ack_p99_ms: number;
  http_ack_p99_ms: number | null;
  settle_p99_ms: number;
  socket_p99_ms: number | null;
  socket_p99_ms_1000_clients: number | null;
  exchange_cores_at_fixed_rate: number;
  kafka_ceiling_msgs_per_sec: number | null;
  unsettled: number;
  reconciliation: string;
};

type WithSocket = PhaseReport & { socket: FleetResult | null };

export type E2eReport = {
  generated_at: string;
  seconds: number;
  placement_paths: Record<PhaseReport["door"], string>;
  machine: {
    node: string;
    cpu: string;
    cores: number;
    busy_cores_before: number;
    [more: string]: unknown;
  };
  settings: {
    socket_unavailable: string | null;
    BENCH_SOCKET_CLIENTS: number;
    [more: string]: unknown;
  };
  rate_limits: RateLimitOverride | null;
  summary: E2eSummary & Record<string, unknown>;
  targets: Record<string, boolean | null>;
  fixed: WithSocket;
  ramp: PhaseReport[];
  http_fixed: PhaseReport | null;
  http_ramp: PhaseReport[];
  many_sockets: (WithSocket & { socket_unavailable: string | null }) | null;
  kafka_ceiling: KafkaCeiling | null;
  profiles: ProfileSummary[];
  charts: ChartData;
};

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const n = (v: number) => Math.round(v).toLocaleString("en-US");
const pad = (s: string, w: number) => (s.length >= w ? s : s + " ".repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : " ".repeat(w - s.length) + s);

function table(header: string[], rows: string[][], widths: number[]): string[] {
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? pad(c, widths[i] ?? 10) : lpad(c, widths[i] ?? 10))).join("  ");
  return [line(header), ...rows.map(line)];
}

function latencyRow(name: string, s: LatencySummary | null, note = ""): string[] {
  if (!s || s.count === 0) return [name, "—", "—", "—", "—", "—", "0", note];
  return [
    name,
    ms(s.p50_ms),
    ms(s.p90_ms),
    ms(s.p99_ms),
    ms(s.p999_ms),
    ms(s.max_ms),
    n(s.count),
    note,
  ];
}

function stageRow(name: string, h: HistogramDelta | null, unit = "ms"): string[] {
  if (!h) return [name, "—", "—", "—", "—"];
  const f = (v: number) =>
    Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ${unit}` : "> top";
  return [name, n(h.count), f(h.mean), `≤ ${f(h.p50_le)}`, `≤ ${f(h.p99_le)}`];
}

function pgWaitLines(p: PhaseReport): string[] {
  const w = p.pg_waits;
  return [
    `PostgreSQL CPU of this database's backends, by connection: ${
      Object.entries(w.cpu_by_who ?? {})
        .sort((a, b) => b[1] - a[1])
        .map(([who, cores]) => `${who} ${cores.toFixed(2)}`)
        .join(" · ") || "—"
    } cores`,
    `PostgreSQL backends busy: ${w.busy_backends_mean} on average (pg_stat_activity every 50 ms); their time by wait and statement:`,
    ...w.top
      .slice(0, 8)
      .map(
        (t) =>
          `  ${lpad(`${(t.share * 100).toFixed(1)} %`, 7)}  ${pad(t.who, 10)} ${pad(t.what, 22)} ${t.statement}`,
      ),
  ];
}

function cpuLine(cpu: CpuReport): string {
  const parts = Object.entries(cpu.by_process).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  return `${parts.join(" · ")} · other ${cpu.other_cores.toFixed(2)} = ${cpu.machine_busy_cores.toFixed(2)} of ${cpu.cores_available} cores busy`;
}

function stages(s: StageFigures, door: PhaseReport["door"]): string[] {
  const where = door === "http" ? "web server" : "bench process";
  return [
    ...table(
      ["stage (from the processes' own /metrics)", "count", "mean", "p50", "p99"],
      [
        ...(s.gate_request_ms
          ? [stageRow("gate.io API request (web server's own time)", s.gate_request_ms)]
          : []),
        stageRow(`placement batch commit (${where})`, s.placement_batch_ms),
        stageRow(`cancel batch commit (${where})`, s.cancel_batch_ms),
        stageRow("outbox → Kafka produce (acks=all)", s.outbox_produce_ms),
        stageRow("engine batch: apply + events acknowledged", s.engine_batch_ms),
        stageRow("engine, one command", s.engine_command_us, "µs"),
        stageRow("settlement batch (PostgreSQL)", s.settlement_batch_ms),
        stageRow("market data: command → socket emit", s.socket_fanout_ms),
      ],
      [42, 9, 10, 12, 12],
    ),
    `  mean placement batch ${s.placement_batch_size_mean ?? "—"} orders, cancel batch ${s.cancel_batch_size_mean ?? "—"} · outbox published ${n(s.outbox_published)} · engine commands ${n(s.engine_commands)} · settlement events ${n(s.settlement_events_applied)} · socket emits ${n(s.socket_fanout_messages)}`,
    ...(door === "http"
      ? [`  rate-limit refusals during the phase: ${n(s.rate_limit_rejections)}`]
      : []),
    `  ledger reconciliation runs (worker, at most every 5 min): ${s.reconciliation_runs}${s.reconciliation_runs > 0 && s.reconciliation_last_s !== null ? `, the last took ${s.reconciliation_last_s.toFixed(2)} s` : ""}`,
    `  at the end: settlement lag ${n(s.settlement_lag_ms_max)} ms · consumer lag ${
      Object.entries(s.consumer_lag)
        .map(([g, v]) => `${g} ${v}`)
        .join(", ") || "—"
    }`,
  ];
}

function socketSummary(f: FleetResult): LatencySummary {
  return {
    count: f.samples,
    p50_ms: f.p50_ms,
    p90_ms: f.p90_ms,
    p99_ms: f.p99_ms,
    p999_ms: f.p999_ms,
    max_ms: f.max_ms,
    mean_ms: f.mean_ms,
  };
}

function socketNote(f: FleetResult | null, unavailable: string | null): string {
  if (!f) return `not measured: ${unavailable ?? "?"}`;
  return `${f.measuring} of ${f.subscribed} clients timing ${n(f.probes)} probes; missed ${n(f.missing)}, gaps ${f.gaps}; clients' event loop p99 ${ms(f.loop_delay_p99_ms)}`;
}

function settleNote(p: PhaseReport): string {
  return p.settle_unsettled > 0
    ? `${p.settle_unsettled} not seen settled`
    : `${p.settle_watch.missed_announcements} announcements lost, timed by the poll`;
}

function generatorLine(p: PhaseReport): string {
  const gaveUp = p.loop.not_issued > 0 ? ` (${n(p.loop.not_issued)} never issued)` : "";
  return `generator: ${n(p.loop.issued_per_sec)}/s issued${gaveUp}, started late p99 ${ms(p.loop.late_p99_ms)} (max ${ms(p.loop.late_max_ms)}); placed ${n(p.placed_per_sec)}/s, cancels ${n(p.cancels)} (+${n(p.cancels_already_closed)} already filled), refused ${JSON.stringify(p.refused)}`;
}

/** CPU µs per order operation, by process, one row per phase. */
function cpuPerOpTable(phases: Array<{ label: string; p: PhaseReport }>): string[] {
  const load = ["bench", "generators", "socket clients"];
  const header = [
    "phase",
    ...EXCHANGE_PROCESSES,
    "exchange",
    "cores",
    ...load.map((l) => `(${l})`),
    "ops",
  ];
  const rows = phases.map(({ label, p }) => {
    const us = p.cpu_per_op.us_per_op;
    const cell = (name: string) =>
      p.cpu_per_op.unmeasured.includes(name) ? "n/a" : n(us[name] ?? 0);
    return [
      label,
      ...EXCHANGE_PROCESSES.map(cell),
      n(p.cpu_per_op.exchange_us_per_op),
      p.cpu_per_op.exchange_cores.toFixed(2),
      ...load.map(cell),
      n(p.cpu_per_op.operations),
    ];
  });
  return table(header, rows, [26, 7, 7, 9, 7, 7, 7, 9, 6, 8, 13, 17, 9]);
}

function throughputTable(fixed: PhaseReport, steps: PhaseReport[]): string[] {
  return table(
    [
      "offered",
      "issued/s",
      "placed/s",
      "settled/s",
      "ack p50",
      "ack p99",
      "settle p99",
      "µs/op",
      "unsettled age max/end",
      "drain",
      "sustained",
    ],
    [fixed, ...steps].map((p) => [
      `${n(p.offered_per_sec)}${p === fixed ? " (fixed)" : ""}`,
      n(p.loop.issued_per_sec),
      n(p.placed_per_sec),
      n(p.settled_per_sec),
      ms(p.ack.p50_ms),
      ms(p.ack.p99_ms),
      ms(p.settle.p99_ms),
      n(p.cpu_per_op.exchange_us_per_op),
      `${n(p.oldest_pending_max_ms)} / ${n(p.oldest_pending_end_ms)} ms`,
      p.drain_ms === null ? "> grace" : `${n(p.drain_ms)} ms`,
      p.sustained ? "yes" : `no: ${p.why_not.join("; ")}`,
    ]),
    [14, 9, 9, 9, 9, 9, 10, 7, 22, 9, 0],
  );
}

function phaseDetail(p: PhaseReport, indent: string): string[] {
  return [
    `${indent}${generatorLine(p)}`,
    `${indent}cpu (cores): ${cpuLine(p.cpu)}`,
    ...stages(p.stages, p.door).map((l) => `${indent}${l}`),
    ...pgWaitLines(p).map((l) => `${indent}${l}`),
  ];
}

export function printReport(r: E2eReport): void {
  const out: string[] = [];
  const f = r.fixed;
  const h = r.http_fixed;
  const many = r.many_sockets;
  out.push("");
  out.push(
    `spotx end-to-end benchmark — ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}`,
  );
  out.push(
    `other work on the machine before the run: ${r.machine.busy_cores_before.toFixed(2)} cores busy (every figure below shares the cores with it)`,
  );
  out.push(`in-process: ${r.placement_paths["in-process"]}`);
  out.push(`HTTP: ${h ? r.placement_paths.http : "not run (BENCH_HTTP_GENERATORS=0)"}`);
  if (r.rate_limits) {
    out.push(
      `rate limits: raised for this namespace through etcd ${r.rate_limits.etcd_key} to ${n(r.rate_limits.confirmed_limit)}/s per address, user and key (orders and reads) — the limiter runs on every request, never refuses`,
    );
  }
  out.push(
    "an order operation is a placement or a cancel; the mix is 42 % resting limit orders, 28 % crossing IOC orders, 30 % cancels (of which some find the order already filled)",
  );
  out.push(
    "ack = from the command's due time on the open-loop schedule to its answer (a generator that fell behind counts); service = from the call / request sent",
  );
  out.push("");
  const fixedParts = [`in-process ${n(f.offered_per_sec)}/s for ${f.seconds} s`];
  if (h) fixedParts.push(`HTTP ${n(h.offered_per_sec)}/s for ${h.seconds} s`);
  if (many) {
    fixedParts.push(
      `${n(many.socket?.subscribed ?? 0)} socket clients, in-process ${n(many.offered_per_sec)}/s for ${many.seconds} s`,
    );
  }
  out.push(`fixed rates (order operations/s): ${fixedParts.join("; ")}`);
  const rows: string[][] = [
    latencyRow("in-process ack: place", f.ack, `service p99 ${ms(f.ack_service.p99_ms)}`),
    latencyRow("in-process ack: cancel", f.cancel_ack),
    latencyRow("in-process placed → settled", f.settle, settleNote(f)),
    latencyRow(
      "placement → socket update",
      f.socket ? socketSummary(f.socket) : null,
      socketNote(f.socket, r.settings.socket_unavailable),
    ),
  ];
  if (h) {
    rows.push(
      latencyRow("HTTP ack: POST order", h.ack, `service p99 ${ms(h.ack_service.p99_ms)}`),
      latencyRow(
        "HTTP ack: DELETE order",
        h.cancel_ack,
        "gate.io's DELETE answers once settled (≤ 2 s)",
      ),
      latencyRow("HTTP placed → settled", h.settle, settleNote(h)),
    );
  }
  if (many) {
    rows.push(
      latencyRow(
        `placement → socket (${n(many.socket?.subscribed ?? 0)})`,
        many.socket ? socketSummary(many.socket) : null,
        socketNote(many.socket, many.socket_unavailable),
      ),
    );
  }
  out.push(
    ...table(
      ["", "p50", "p90", "p99", "p99.9", "max", "samples", ""],
      rows,
      [29, 9, 9, 9, 9, 9, 9, 0],
    ),
  );
  out.push("");
  out.push(
    "CPU per order operation (µs), by process — the exchange is worker + web + PostgreSQL + Kafka + Redis + etcd; the load's own processes in parentheses",
  );
  const cpuPhases = [{ label: `in-process ${n(f.offered_per_sec)}/s`, p: f as PhaseReport }];
  if (h) cpuPhases.push({ label: `HTTP ${n(h.offered_per_sec)}/s`, p: h });
  if (many)
    cpuPhases.push({
      label: `${n(many.socket?.subscribed ?? 0)} sockets ${n(many.offered_per_sec)}/s`,
      p: many,
    });
  out.push(...cpuPerOpTable(cpuPhases));
  out.push(
    "  PostgreSQL is the whole server (all databases: others' tests too); its busy time by connection is below",
  );
  out.push("");
  out.push(`in-process fixed rate, details:`);
  out.push(...phaseDetail(f, "  "));
  if (h) {
    out.push(`HTTP fixed rate, details:`);
    out.push(...phaseDetail(h, "  "));
  }
  if (many) {
    out.push(`${many.name}, details:`);
    out.push(...phaseDetail(many, "  "));
  }
  out.push("");
  out.push(
    "throughput, in-process: offered order operations/s, open loop, until everything placed is settled",
  );
  out.push(...throughputTable(f, r.ramp));
  for (const p of r.ramp) out.push(`  ${pad(p.name, 8)} cpu: ${cpuLine(p.cpu)}`);
  const last = r.ramp[r.ramp.length - 1];
  if (last) {
    out.push(`  stages at ${last.name}:`);
    out.push(...stages(last.stages, last.door).map((l) => `    ${l}`));
    out.push(...pgWaitLines(last).map((l) => `    ${l}`));
  }
  if (h) {
    out.push("");
    out.push("throughput, signed HTTP: the same rule");
    out.push(...throughputTable(h, r.http_ramp));
    for (const p of r.http_ramp) out.push(`  ${pad(p.name, 12)} cpu: ${cpuLine(p.cpu)}`);
    const lastHttp = r.http_ramp[r.http_ramp.length - 1];
    if (lastHttp) {
      out.push(`  stages at ${lastHttp.name}:`);
      out.push(...stages(lastHttp.stages, lastHttp.door).map((l) => `    ${l}`));
    }
  }
  out.push("");
  const k = r.kafka_ceiling;
  out.push(
    k
      ? `Kafka ceiling (kafkajs, idempotent, acks=all, ${k.partitions} partitions, batches of ${n(k.batch)}): ${n(k.messages)} × ${k.message_bytes} B — produce ${n(k.produce_msgs_per_sec)} msgs/s, produce→consume ${n(k.produce_consume_msgs_per_sec)} msgs/s; produce request p50 ${ms(k.produce_request_p50_ms)}, p99 ${ms(k.produce_request_p99_ms)}`
      : "Kafka ceiling: not measured",
  );
  for (const p of r.profiles) {
    out.push("");
    out.push(
      `cpu profile of ${p.process} (${p.seconds} s, ${(p.busy_share * 100).toFixed(0)} % busy), self time by package:`,
    );
    out.push(
      `  ${p.by_package.map((x) => `${x.package} ${(x.share * 100).toFixed(1)} %`).join(" · ")}`,
    );
    out.push(
      `  top functions: ${p.top_functions
        .slice(0, 8)
        .map((x) => `${x.function || "(anon)"} [${x.where}] ${(x.share * 100).toFixed(1)} %`)
        .join(" · ")}`,
    );
  }
  out.push("");
  const s = r.summary;
  out.push(
    `nothing lost: ${s.unsettled === 0 ? "every placed order settled" : `${s.unsettled} orders never settled`}; reconciliation ${s.reconciliation}`,
  );
  const yes = (v: boolean | null | undefined) =>
    v === null || v === undefined ? "not measured" : v ? "met" : "MISSED";
  const t = r.targets;
  const opt = (v: number | null, f: (x: number) => string) => (v === null ? "" : ` (${f(v)})`);
  out.push("targets (issue 16, this machine):");
  out.push(
    `  sustained ≥ 10,000/s in-process: ${yes(t.sustained_in_process_at_least_10000_per_sec)} (${n(s.orders_per_sec)}/s${s.first_unsustained_per_sec ? `; ${n(s.first_unsustained_per_sec)}/s was not` : ""}) · ≥ 5,000/s through HTTP: ${yes(t.sustained_http_at_least_5000_per_sec)}${opt(s.http_orders_per_sec, (v) => `${n(v)}/s${s.http_first_unsustained_per_sec ? `; ${n(s.http_first_unsustained_per_sec)}/s was not` : ""}`)}`,
  );
  out.push(
    `  at ${n(f.offered_per_sec)}/s: ack p99 ≤ 15 ms in-process: ${yes(t.ack_p99_in_process_at_most_15ms)} (${ms(s.ack_p99_ms)}) · ≤ 25 ms HTTP: ${yes(t.ack_p99_http_at_most_25ms)}${opt(s.http_ack_p99_ms, ms)} · settled p99 ≤ 150 ms: ${yes(t.settle_p99_at_most_150ms)} (${ms(s.settle_p99_ms)})`,
  );
  out.push(
    `  socket p99 ≤ 50 ms (200 clients): ${yes(t.socket_p99_200_clients_at_most_50ms)}${opt(s.socket_p99_ms, ms)} · ≤ 100 ms (1,000 clients): ${yes(t.socket_p99_1000_clients_at_most_100ms)}${opt(s.socket_p99_ms_1000_clients, ms)} · exchange ≤ 0.8 cores: ${yes(t.exchange_cores_at_fixed_rate_at_most_0_8)} (${s.exchange_cores_at_fixed_rate.toFixed(2)}) · nothing lost: ${yes(t.nothing_lost)}`,
  );
  out.push("");
  console.log(out.join("\n"));
}
