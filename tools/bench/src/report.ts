// The readable part of the report: the fixed-rate latencies, the ramp, each stage's own
// metrics, the CPU by process and the Kafka ceiling, as aligned tables.
import type { CpuReport } from "./cpu";
import type { KafkaCeiling } from "./kafka-ceiling";
import type { PhaseReport, StageFigures } from "./phase";
import type { ProfileSummary } from "./profile";
import type { HistogramDelta } from "./prometheus";
import type { FleetResult } from "./socket-clients";
import type { LatencySummary } from "./stats";

export type E2eSummary = {
  orders_per_sec: number;
  first_unsustained_per_sec: number | null;
  ack_p99_ms: number;
  settle_p99_ms: number;
  socket_p99_ms: number | null;
  kafka_ceiling_msgs_per_sec: number | null;
  unsettled: number;
  reconciliation: string;
};

export type E2eReport = {
  placement_path: string;
  machine: {
    node: string;
    cpu: string;
    cores: number;
    busy_cores_before: number;
    [more: string]: unknown;
  };
  settings: { socket_unavailable: string | null; BENCH_SOCKET_CLIENTS: number };
  summary: E2eSummary;
  targets: Record<string, boolean | null>;
  fixed: PhaseReport & {
    settle: LatencySummary;
    settle_unsettled: number;
    settle_watch: { announcements: number; missed_announcements: number };
    socket: FleetResult | null;
  };
  ramp: PhaseReport[];
  kafka_ceiling: KafkaCeiling | null;
  profiles: ProfileSummary[];
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

function stages(s: StageFigures): string[] {
  return [
    ...table(
      ["stage (from the processes' own /metrics)", "count", "mean", "p50", "p99"],
      [
        stageRow("placement batch commit (bench process)", s.placement_batch_ms),
        stageRow("cancel batch commit (bench process)", s.cancel_batch_ms),
        stageRow("outbox → Kafka produce (acks=all)", s.outbox_produce_ms),
        stageRow("engine batch: apply + Kafka txn commit", s.engine_batch_ms),
        stageRow("engine, one command", s.engine_command_us, "µs"),
        stageRow("settlement batch (PostgreSQL)", s.settlement_batch_ms),
        stageRow("market data: command → socket emit", s.socket_fanout_ms),
      ],
      [42, 9, 10, 12, 12],
    ),
    `  mean placement batch ${s.placement_batch_size_mean ?? "—"} orders, cancel batch ${s.cancel_batch_size_mean ?? "—"} · outbox published ${n(s.outbox_published)} · engine commands ${n(s.engine_commands)} · settlement events ${n(s.settlement_events_applied)} · socket emits ${n(s.socket_fanout_messages)}`,
    `  ledger reconciliation runs (worker, at most every 5 min): ${s.reconciliation_runs}${s.reconciliation_runs > 0 && s.reconciliation_last_s !== null ? `, the last took ${s.reconciliation_last_s.toFixed(2)} s` : ""}`,
    `  at the end: settlement lag ${n(s.settlement_lag_ms_max)} ms · consumer lag ${
      Object.entries(s.consumer_lag)
        .map(([g, v]) => `${g} ${v}`)
        .join(", ") || "—"
    }`,
  ];
}

export function printReport(r: E2eReport): void {
  const out: string[] = [];
  const f = r.fixed;
  out.push("");
  out.push(
    `spotx end-to-end benchmark — ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}`,
  );
  out.push(
    `other work on the machine before the run: ${r.machine.busy_cores_before.toFixed(2)} cores busy (every figure below shares the cores with it)`,
  );
  out.push(`orders go through: ${r.placement_path}`);
  out.push(
    "an order operation is a placement or a cancel; the mix is 42 % resting limit orders, 28 % crossing IOC orders, 30 % cancels (of which some find the order already filled)",
  );
  out.push("");
  out.push(`fixed rate: ${n(f.offered_per_sec)} order operations/s for ${f.seconds} s`);
  const socketNote = f.socket
    ? `${f.socket.subscribed} clients × ${n(f.socket.probes)} probes; missed ${n(f.socket.missing)}, gaps ${f.socket.gaps}`
    : `not measured: ${r.settings.socket_unavailable ?? "?"}`;
  out.push(
    ...table(
      ["", "p50", "p90", "p99", "p99.9", "max", "samples", ""],
      [
        latencyRow("ack: placeOrder → answer", f.ack),
        latencyRow("ack: cancelOrder → answer", f.cancel_ack),
        latencyRow(
          "placement → settled",
          f.settle,
          f.settle_unsettled > 0
            ? `${f.settle_unsettled} never settled`
            : `settlement's post-commit announcement (<ns>:settled); ${f.settle_watch.missed_announcements} lost, timed by the poll`,
        ),
        latencyRow(
          "placement → socket update",
          f.socket
            ? {
                count: f.socket.samples,
                p50_ms: f.socket.p50_ms,
                p90_ms: f.socket.p90_ms,
                p99_ms: f.socket.p99_ms,
                p999_ms: f.socket.p999_ms,
                max_ms: f.socket.max_ms,
                mean_ms: f.socket.mean_ms,
              }
            : null,
          socketNote,
        ),
      ],
      [27, 9, 9, 9, 9, 9, 9, 0],
    ),
  );
  out.push(
    `  generator: ${n(f.loop.issued_per_sec)}/s issued, started late p99 ${ms(f.loop.late_p99_ms)} (max ${ms(f.loop.late_max_ms)}); placed ${n(f.placed_per_sec)}/s, cancels ${n(f.cancels)} (+${n(f.cancels_already_closed)} already filled), refused ${JSON.stringify(f.refused)}`,
  );
  out.push(`  cpu (cores): ${cpuLine(f.cpu)}`);
  out.push(...stages(f.stages).map((l) => `  ${l}`));
  out.push(...pgWaitLines(f).map((l) => `  ${l}`));
  out.push("");
  out.push("throughput: offered order operations/s, open loop, until everything placed is settled");
  out.push(
    ...table(
      [
        "offered",
        "issued/s",
        "placed/s",
        "settled/s",
        "ack p50",
        "ack p99",
        "unsettled age max/end",
        "drain",
        "sustained",
      ],
      [f, ...r.ramp].map((p) => [
        `${n(p.offered_per_sec)}${p === f ? " (fixed)" : ""}`,
        n(p.loop.issued_per_sec),
        n(p.placed_per_sec),
        n(p.settled_per_sec),
        ms(p.ack.p50_ms),
        ms(p.ack.p99_ms),
        `${n(p.oldest_pending_max_ms)} / ${n(p.oldest_pending_end_ms)} ms`,
        p.drain_ms === null ? "> grace" : `${n(p.drain_ms)} ms`,
        p.sustained ? "yes" : `no: ${p.why_not.join("; ")}`,
      ]),
      [14, 9, 9, 9, 9, 9, 22, 9, 0],
    ),
  );
  for (const p of r.ramp) out.push(`  ${pad(p.name, 8)} cpu: ${cpuLine(p.cpu)}`);
  const last = r.ramp[r.ramp.length - 1];
  if (last) {
    out.push(`  stages at ${last.name}:`);
    out.push(...stages(last.stages).map((l) => `    ${l}`));
    out.push(...pgWaitLines(last).map((l) => `    ${l}`));
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
  const yes = (v: boolean | null) => (v === null ? "not measured" : v ? "met" : "MISSED");
  out.push(
    `targets: ≥ 3,000/s sustained: ${yes(r.targets.sustained_at_least_3000_per_sec ?? null)} (${n(s.orders_per_sec)}/s${s.first_unsustained_per_sec ? `; ${n(s.first_unsustained_per_sec)}/s was not` : ""}) · ack p99 ≤ 20 ms: ${yes(r.targets.ack_p99_at_most_20ms ?? null)} (${ms(s.ack_p99_ms)}) · socket p99 ≤ 50 ms: ${yes(r.targets.socket_p99_at_most_50ms ?? null)}${s.socket_p99_ms === null ? "" : ` (${ms(s.socket_p99_ms)})`}`,
  );
  out.push("");
  console.log(out.join("\n"));
}
