// The files for those who run Prometheus and Grafana (deploy/): promtool accepts the
// configuration and the alert rules; the discovery command writes one target per registered
// process from etcd and keeps a departed one listed; and every metric the rules and the
// dashboard name is exported by a running web or worker — a real worker process and the
// production web server (as `npm start` runs them), in a namespace and database of their own.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEMO_ASSETS, DEMO_MARKETS, schema } from "@spotx/db";
import { createTestDatabase, type TestDatabase } from "@spotx/db/testing";
import { platformEnv } from "@spotx/platform";
import { createEtcd, type Etcd3 } from "@spotx/platform/etcd";
import { createKafka } from "@spotx/platform/kafka";
import type { ServiceRecord } from "@spotx/platform/service-registry";
import { topology } from "@spotx/platform/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type KnownTarget,
  nextTargets,
  type TargetGroup,
  targetGroups,
} from "../../../deploy/prometheus/file-sd";

const root = path.resolve(import.meta.dirname, "../../..");
const deploy = path.join(root, "deploy");
const PROMTOOL = "/usr/bin/promtool";
const METRICS_TOKEN = randomBytes(24).toString("base64url");

let test: TestDatabase;
let etcd: Etcd3;
const namespace = `t${randomUUID().replaceAll("-", "").slice(0, 10)}`;
const names = topology(namespace);
const children: ChildProcess[] = [];

function output(child: ChildProcess): () => string {
  let text = "";
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-10_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => text;
}

/** Waits until the registry lists `count` processes, or a child dies, or 60 s pass. */
async function registered(count: number): Promise<ServiceRecord[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = Object.values(
      await etcd.getAll().prefix(names.etcd.servicesPrefix).strings(),
    ).map((v) => JSON.parse(v) as ServiceRecord);
    if (found.length >= count) return found;
    const dead = children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`a process exited (${dead.exitCode}) before registering`);
    if (Date.now() > deadline) throw new Error(`only ${found.length} of ${count} registered`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  const webBundle = path.join(root, "apps/web/dist/server.js");
  if (!fs.existsSync(webBundle)) {
    throw new Error("apps/web is not built; run `npm run build` (npm test does this first)");
  }
  test = await createTestDatabase();
  await test.db.insert(schema.assets).values([...DEMO_ASSETS]);
  await test.db.insert(schema.markets).values([...DEMO_MARKETS]);
  etcd = createEtcd(platformEnv().ETCD_ENDPOINTS);
  const env = {
    ...process.env,
    DATABASE_URL: test.url,
    SPOTX_NAMESPACE: namespace,
    LOG_LEVEL: "error",
    SPOTX_METRICS_TOKEN: METRICS_TOKEN,
  };
  const worker = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: path.join(root, "apps/worker"),
    env: { ...env, WORKER_PORT: "0", WORKER_INSTANCE_ID: `deploy-worker-${namespace}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const web = spawn(process.execPath, [webBundle], {
    cwd: path.join(root, "apps/web"),
    env: {
      ...env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      SPOTX_SECRET_KEY: randomBytes(32).toString("hex"),
      WEB_PORT: "0",
      WEB_HOST: "127.0.0.1",
      WEB_INSTANCE_ID: `deploy-web-${namespace}`,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(worker, web);
  const logs = [output(worker), output(web)];
  try {
    await registered(2);
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : error}\n${logs.map((l) => l()).join("\n")}`,
    );
  }
}, 90_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
        }),
    ),
  );
  await etcd?.delete().prefix(`/${namespace}/`);
  etcd?.close();
  const admin = createKafka(platformEnv().KAFKA_BROKERS, `test-${namespace}`).admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: [names.kafka.orders.topic, names.kafka.events.topic] })
    .catch(() => undefined);
  await admin.disconnect();
  await test?.drop();
});

/** promtool's verdict, with its output when it refuses. */
function promtool(cwd: string, ...args: string[]): string {
  if (!fs.existsSync(PROMTOOL)) {
    throw new Error("promtool is missing: apt-get install prometheus (npm test installs it)");
  }
  return execFileSync(PROMTOOL, args, { cwd, encoding: "utf8", stdio: "pipe" });
}

/** Every spotx metric a PromQL expression names. */
const metricNames = (expr: string) => [...expr.matchAll(/\bspotx_[a-z0-9_]+/g)].map((m) => m[0]);

function ruleExpressions(): string[] {
  const text = fs.readFileSync(path.join(deploy, "prometheus/alerts.yml"), "utf8");
  return [...text.matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => (m[1] ?? "").trim());
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(
    fs.readFileSync(path.join(deploy, "grafana/spotx.json"), "utf8"),
  ) as {
    panels: Array<{ targets?: Array<{ expr?: string }> }>;
  };
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).flatMap((t) => (t.expr ? [t.expr] : [])),
  );
}

/** The metrics a process declares on /metrics (# TYPE lines), with their types. */
async function exported(record: ServiceRecord): Promise<Map<string, string>> {
  const response = await fetch(`http://127.0.0.1:${record.httpPort}/metrics`);
  expect(response.status).toBe(200);
  const types = new Map<string, string>();
  for (const match of (await response.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    types.set(match[1] ?? "", match[2] ?? "");
  }
  return types;
}

describe("promtool", () => {
  it("accepts the Prometheus configuration and its rule file", () => {
    // As an operator installs it: the files copied together, with the token file beside them.
    const installed = fs.mkdtempSync(path.join(os.tmpdir(), "spotx-prometheus-"));
    for (const file of ["prometheus.yml", "alerts.yml"]) {
      fs.copyFileSync(path.join(deploy, "prometheus", file), path.join(installed, file));
    }
    fs.writeFileSync(path.join(installed, "metrics-token"), METRICS_TOKEN, { mode: 0o600 });
    expect(promtool(installed, "check", "config", "prometheus.yml")).toContain(
      "is valid prometheus config file syntax",
    );
    expect(fs.readFileSync(path.join(deploy, "prometheus/prometheus.yml"), "utf8")).toMatch(
      /authorization:\n\s+type: Bearer\n\s+credentials_file: metrics-token/,
    );
  });

  it("accepts the alert rules: one per condition the console shows red", () => {
    expect(promtool(deploy, "check", "rules", "prometheus/alerts.yml")).toContain(
      "SUCCESS: 7 rules found",
    );
    const alerts = [
      ...fs
        .readFileSync(path.join(deploy, "prometheus/alerts.yml"), "utf8")
        .matchAll(/^\s*- alert: (\S+)$/gm),
    ].map((m) => m[1]);
    expect(alerts).toEqual([
      "SpotxServiceGone",
      "SpotxNoWorker",
      "SpotxSettlementStopped",
      "SpotxConsumerLag",
      "SpotxOutboxStuck",
      "SpotxBreakerOpen",
      "SpotxReconciliationFindings",
    ]);
  });
});

describe("the metrics the rules and the dashboard name", () => {
  it("are each exported by a running web or worker process", async () => {
    const records = await registered(2);
    expect(new Set(records.map((r) => r.kind))).toEqual(new Set(["web", "worker"]));
    const declared = new Map<string, string>();
    for (const record of records) {
      for (const [name, type] of await exported(record)) declared.set(name, type);
    }
    const named = new Set([...ruleExpressions(), ...dashboardExpressions()].flatMap(metricNames));
    // Sanity: the extraction found the pipeline's figures at all.
    expect(named).toContain("spotx_kafka_consumer_lag");
    expect(named).toContain("spotx_engine_command_seconds_bucket");
    const missing = [...named].filter((name) => {
      if (declared.has(name)) return false;
      const base = name.replace(/_(bucket|sum|count)$/, "");
      return declared.get(base) !== "histogram" && declared.get(base) !== "summary";
    });
    expect(missing).toEqual([]);
  });
});

describe("/metrics of the running processes", () => {
  it("answers the internal network and the metrics token, and refuses a client beyond a proxy without it", async () => {
    for (const record of await registered(2)) {
      const url = `http://127.0.0.1:${record.httpPort}/metrics`;
      // Loopback is internal; a request relayed by a proxy spotx does not trust is not.
      expect((await fetch(url)).status).toBe(200);
      const relayed = { "x-forwarded-for": "203.0.113.9" };
      const refused = await fetch(url, { headers: relayed });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { label: string }).label).toBe("FORBIDDEN");
      const withToken = await fetch(url, {
        headers: { ...relayed, authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(withToken.status).toBe(200);
      expect(await withToken.text()).toContain("# TYPE spotx_");
      const wrongToken = await fetch(url, {
        headers: { ...relayed, authorization: `Bearer ${METRICS_TOKEN}x` },
      });
      expect(wrongToken.status).toBe(403);
      // Up or down is anyone's to know; the detail is not.
      const ready = await fetch(`http://127.0.0.1:${record.httpPort}/ready`, { headers: relayed });
      expect(Object.keys((await ready.json()) as object)).toEqual(["status"]);
    }
  });
});

describe("the discovery command", () => {
  it("writes one target per registered process from etcd, labelled with its kind and id", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "spotx-sd-")), "spotx.json");
    execFileSync(
      process.execPath,
      ["--import", "tsx", "deploy/prometheus/file-sd.ts", "--out", out, "--once"],
      { cwd: root, env: { ...process.env, SPOTX_NAMESPACE: namespace }, stdio: "pipe" },
    );
    const groups = JSON.parse(fs.readFileSync(out, "utf8")) as TargetGroup[];
    expect(groups.map((g) => g.labels)).toEqual([
      { kind: "web", spotx_id: `deploy-web-${namespace}`, namespace, registered: "true" },
      { kind: "worker", spotx_id: `deploy-worker-${namespace}`, namespace, registered: "true" },
    ]);
    for (const group of groups) expect(group.targets).toEqual([expect.stringMatching(/:\d+$/)]);
  });

  it("keeps a departed process listed as registered=false until --keep-departed has passed", () => {
    const record = (id: string): ServiceRecord => ({
      kind: "worker",
      id,
      host: "10.0.0.7",
      pid: 1,
      version: "1",
      startedAt: "2025-01-01T00:00:00Z",
      httpPort: 3001,
    });
    let known = new Map<string, KnownTarget>();
    known = nextTargets(known, [record("w-1"), record("w-2")], 1_000, 60_000);
    known = nextTargets(known, [record("w-2")], 30_000, 60_000);
    expect(
      targetGroups(known, "spotx").map((g) => [g.labels.spotx_id, g.labels.registered]),
    ).toEqual([
      ["w-1", "false"],
      ["w-2", "true"],
    ]);
    known = nextTargets(known, [record("w-2")], 61_001, 60_000);
    expect(targetGroups(known, "spotx").map((g) => g.labels.spotx_id)).toEqual(["w-2"]);
  });
});
