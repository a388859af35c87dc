// deploy/k8s checked offline: every document against its kind's schema, and the mistakes a
// schema cannot see but that would silently break a deployment — a probe on the wrong path or
// port, a selector that picks no pod, a variable no process reads, a value a process refuses at
// start, an image or a Secret key that is not there.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import { platformEnvSchema } from "@spotx/platform";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodTemplateSpec } from "kubernetes-models/v1/PodTemplateSpec";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { marketMakerEnvSchema } from "../../../apps/market-maker/src/env";
import { webEnvSchema } from "../../../apps/web/src/env";
import { workerEnvSchema } from "../../../apps/worker/src/env";
import { apiEnvSchema } from "../../../packages/api/src/env";
import {
  ConfigMap,
  Deployment,
  HorizontalPodAutoscaler,
  Ingress,
  Job,
  KUSTOMIZATION_FILE,
  type Manifest,
  manifestFiles,
  modelFor,
  Namespace,
  NetworkPolicy,
  objectsOf,
  PodDisruptionBudget,
  readDocuments,
  Secret,
  Service,
  ServiceMonitor,
  validateManifest,
} from "../src/k8s-manifests";

const K8S_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../deploy/k8s");
const EXAMPLE_SECRET_FILE = "secret.example.yaml";
/** Files kept out of the kustomization on purpose (each says why in its header). */
const NOT_IN_KUSTOMIZATION = [EXAMPLE_SECRET_FILE, "demo/market-maker.yaml", "migrate-job.yaml"];

type EnvSchema = {
  shape: object;
  safeParse(value: unknown): {
    success: boolean;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  };
};

/** The schemas each process parses its environment with (the web process includes the API). */
const PROCESS_SCHEMAS: Record<string, EnvSchema[]> = {
  web: [platformEnvSchema, apiEnvSchema, webEnvSchema],
  worker: [platformEnvSchema, workerEnvSchema],
  // migrate.mjs reads the database URLs through @spotx/db's databaseUrls: the platform schema.
  migrate: [platformEnvSchema],
  "market-maker": [platformEnvSchema, marketMakerEnvSchema],
};

const manifests: Manifest[] = manifestFiles(K8S_DIR)
  .filter((file) => file !== KUSTOMIZATION_FILE && file !== EXAMPLE_SECRET_FILE)
  .flatMap((file) => readDocuments(K8S_DIR, file));
const exampleSecretDocuments = readDocuments(K8S_DIR, EXAMPLE_SECRET_FILE);

const deployments = objectsOf(manifests, Deployment);
const jobs = objectsOf(manifests, Job);
const services = objectsOf(manifests, Service);
const [exampleSecret] = objectsOf(exampleSecretDocuments, Secret);
const exampleSecretData: Record<string, string> = exampleSecret?.stringData ?? {};
const configMaps = new Map(
  objectsOf(manifests, ConfigMap).map((c) => [c.metadata?.name ?? "", c.data ?? {}]),
);

type Workload = { name: string; template: IPodTemplateSpec };
const workloads: Workload[] = [
  ...deployments.map((d) => ({ name: d.metadata?.name ?? "", template: d.spec?.template ?? {} })),
  ...jobs.map((j) => ({ name: j.metadata?.name ?? "", template: j.spec?.template ?? {} })),
];

function containersOf(workload: Workload): IContainer[] {
  const spec = workload.template.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function deployment(name: string): Deployment {
  const found = deployments.find((d) => d.metadata?.name === name);
  if (!found) throw new Error(`no Deployment ${name}`);
  return found;
}

function selects(selector: ILabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values }) => {
    const value = labels[key];
    switch (operator) {
      case "In":
        return value !== undefined && (values ?? []).includes(value);
      case "NotIn":
        return value === undefined || !(values ?? []).includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabels && byExpressions;
}

/** The workloads whose pods a selector picks, by name. */
function picked(selector: ILabelSelector | undefined): string[] {
  return workloads
    .filter((w) => selects(selector, w.template.metadata?.labels ?? {}))
    .map((w) => w.name)
    .sort();
}

/** Which process a container runs, from its image (and, for the worker image, its command). */
function processOf(container: IContainer): string {
  const image = (container.image ?? "").split(":")[0];
  if (image === "spotx-web") return "web";
  if (image === "spotx-worker") {
    return container.command?.join(" ") === "node /app/migrate.mjs" ? "migrate" : "worker";
  }
  if (image === "spotx-market-maker") return "market-maker";
  throw new Error(`${container.name}: image ${container.image} is none of spotx's`);
}

/**
 * The environment a container starts with: ConfigMap and Secret values as referenced (the
 * Secret's from `secrets`), the pod's name where a field of the pod is asked for.
 */
function environmentOf(
  workload: Workload,
  container: IContainer,
  secrets: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  const podName = `${workload.name}-7c9d8f6b5-x2k9q`;
  const secretValue = (name: string, key: string) => {
    expect(name, `${container.name} takes the Secret spotx-secrets`).toBe("spotx-secrets");
    const value = secrets[key];
    if (value === undefined) throw new Error(`${container.name}: the Secret has no ${key}`);
    return value;
  };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const data = configMaps.get(source.configMapRef.name ?? "");
      if (!data) throw new Error(`${container.name}: no ConfigMap ${source.configMapRef.name}`);
      Object.assign(env, data);
    }
    if (source.secretRef) {
      for (const key of Object.keys(secrets)) {
        env[key] = secretValue(source.secretRef.name ?? "", key);
      }
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (variable.value !== undefined) {
      env[variable.name] = variable.value;
    } else if (from?.secretKeyRef) {
      env[variable.name] = secretValue(from.secretKeyRef.name ?? "", from.secretKeyRef.key);
    } else if (from?.configMapKeyRef) {
      const value = configMaps.get(from.configMapKeyRef.name ?? "")?.[from.configMapKeyRef.key];
      if (value === undefined) throw new Error(`${container.name}: ${variable.name} has no value`);
      env[variable.name] = value;
    } else if (from?.fieldRef?.fieldPath === "metadata.name") {
      env[variable.name] = podName;
    } else if (from?.fieldRef?.fieldPath === "status.podIP") {
      env[variable.name] = "10.42.0.7";
    } else {
      throw new Error(`${container.name}: ${variable.name} comes from an unexpected source`);
    }
  }
  return env;
}

/** The example's placeholders, with the two it deliberately makes unusable given real values. */
const SECRET_STAND_INS: Record<string, string> = {
  ...exampleSecretData,
  SPOTX_SECRET_KEY: randomBytes(32).toString("hex"),
  SPOTX_METRICS_TOKEN: randomBytes(24).toString("base64url"),
};

/** Each container's process and environment, over every workload. */
const containers = workloads.flatMap((workload) =>
  containersOf(workload).map((container) => ({
    workload: workload.name,
    container,
    process: processOf(container),
    env: environmentOf(workload, container, SECRET_STAND_INS),
  })),
);

describe("deploy/k8s", () => {
  it("holds only valid objects of kinds Kubernetes or the Prometheus Operator knows", () => {
    const failures: string[] = [];
    for (const { file, index, object } of [...manifests, ...exampleSecretDocuments]) {
      try {
        validateManifest(object);
      } catch (error) {
        failures.push(`${file}#${index}: ${error instanceof Error ? error.message : error}`);
      }
    }
    expect(failures).toEqual([]);
    const kinds = new Set(manifests.map((m) => modelFor(m.object).kind));
    expect([...kinds].sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "HorizontalPodAutoscaler",
      "Ingress",
      "Job",
      "Namespace",
      "NetworkPolicy",
      "PodDisruptionBudget",
      "Service",
      "ServiceMonitor",
    ]);
  });

  it("refuses a field of the wrong type and a kind it does not know (the check is real)", () => {
    const web = manifests.find((m) => m.object.kind === "Deployment");
    if (!web) throw new Error("no Deployment");
    const withReplicas = (replicas: unknown) => ({
      ...web.object,
      spec: { ...(web.object.spec as object), replicas },
    });
    expect(() => validateManifest(withReplicas(3))).not.toThrow();
    expect(() => validateManifest(withReplicas("three"))).toThrow(/replicas must be integer/);
    const monitor = manifests.find((m) => m.object.kind === "ServiceMonitor");
    if (!monitor) throw new Error("no ServiceMonitor");
    expect(() =>
      validateManifest({ ...monitor.object, spec: { selector: {}, endpoints: { port: "http" } } }),
    ).toThrow(/endpoints must be array/);
    expect(() =>
      validateManifest({ ...web.object, apiVersion: "apps/v1", kind: "Deploymnet" }),
    ).toThrow("unknown kind apps/v1/Deploymnet");
  });

  it("applies with kustomize everything but the example Secret, the migration Job and the demo", () => {
    const kustomization = parse(fs.readFileSync(path.join(K8S_DIR, KUSTOMIZATION_FILE), "utf8"));
    expect(kustomization.kind).toBe("Kustomization");
    expect(kustomization.namespace).toBe("spotx");
    const resources: string[] = kustomization.resources;
    expect(resources).not.toContain(EXAMPLE_SECRET_FILE);
    const files = manifestFiles(K8S_DIR).filter((file) => file !== KUSTOMIZATION_FILE);
    expect([...resources, ...NOT_IN_KUSTOMIZATION].sort()).toEqual(files);
    // Each file applied alone (`kubectl apply -f`) lands in the same namespace.
    const namespaces = objectsOf(manifests, Namespace).map((n) => n.metadata?.name);
    expect(namespaces).toEqual(["spotx"]);
    const elsewhere = [...manifests, ...exampleSecretDocuments].filter(
      (m) => m.object.kind !== "Namespace" && objectNamespace(m) !== "spotx",
    );
    expect(elsewhere.map((m) => `${m.file}#${m.index}`)).toEqual([]);
  });

  it("probes web and worker on the port they listen on: /health alive, /ready ready", () => {
    const listening = deployments.filter((d) =>
      d.spec?.template.spec?.containers.some((c) => (c.ports ?? []).length > 0),
    );
    expect(listening.map((d) => d.metadata?.name).sort()).toEqual(["spotx-web", "spotx-worker"]);
    // The port each process listens on is what its schema makes of the environment.
    const listensOn: Record<string, (env: Record<string, string>) => number> = {
      web: (env) => webEnvSchema.parse(env).WEB_PORT,
      worker: (env) => workerEnvSchema.parse(env).WORKER_PORT,
    };
    for (const { process, container, env } of containers) {
      const listening = listensOn[process];
      if (!listening) continue;
      const [port] = container.ports ?? [];
      expect(listening(env)).toBe(port?.containerPort);
      const probed = (probe: IContainer["livenessProbe"]) => {
        const target = probe?.httpGet?.port;
        const number =
          typeof target === "string"
            ? container.ports?.find((p) => p.name === target)?.containerPort
            : target;
        return `${probe?.httpGet?.path} on ${number}`;
      };
      expect(probed(container.startupProbe)).toBe(`/health on ${port?.containerPort}`);
      expect(probed(container.livenessProbe)).toBe(`/health on ${port?.containerPort}`);
      expect(probed(container.readinessProbe)).toBe(`/ready on ${port?.containerPort}`);
      // /ready probes each server within 3 s: a shorter probe timeout would fail a slow answer.
      expect(container.readinessProbe?.timeoutSeconds).toBeGreaterThan(3);
    }
  });

  it("gives every container CPU and memory requests and limits", () => {
    const missing = containers.flatMap(({ workload, container }) =>
      ["requests", "limits"].flatMap((bound) =>
        ["cpu", "memory"]
          .filter((resource) => {
            const bounds = container.resources?.[bound as "requests" | "limits"];
            return bounds?.[resource] === undefined;
          })
          .map((resource) => `${workload}/${container.name} ${bound}.${resource}`),
      ),
    );
    expect(missing).toEqual([]);
    expect(containers.length).toBe(workloads.length);
  });

  it("runs every pod as uid 10001, non-root, read-only, without capabilities or escalation", () => {
    for (const workload of workloads) {
      const spec = workload.template.spec;
      expect(spec?.automountServiceAccountToken, workload.name).toBe(false);
      expect(spec?.enableServiceLinks, workload.name).toBe(false);
      expect(spec?.securityContext, workload.name).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: "RuntimeDefault" },
      });
      const emptyDirs = (spec?.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name);
      for (const container of containersOf(workload)) {
        const context = container.securityContext;
        expect(context, container.name).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        });
        expect(context?.privileged ?? false).toBe(false);
        expect(context?.capabilities?.drop).toEqual(["ALL"]);
        expect(context?.capabilities?.add ?? []).toEqual([]);
        const tmp = container.volumeMounts?.find((m) => m.mountPath === "/tmp");
        expect(emptyDirs, `${container.name}: /tmp is an emptyDir`).toContain(tmp?.name);
      }
    }
  });

  it("points every selector at the pods it is meant for", () => {
    const selections: Record<string, string[]> = {};
    for (const d of deployments) {
      // A Deployment whose selector misses its own template is refused by the API server.
      expect(selects(d.spec?.selector, d.spec?.template.metadata?.labels ?? {})).toBe(true);
    }
    for (const s of services) {
      selections[`Service/${s.metadata?.name}`] = picked({ matchLabels: s.spec?.selector ?? {} });
    }
    for (const p of objectsOf(manifests, PodDisruptionBudget)) {
      selections[`PodDisruptionBudget/${p.metadata?.name}`] = picked(p.spec?.selector);
    }
    for (const n of objectsOf(manifests, NetworkPolicy)) {
      selections[`NetworkPolicy/${n.metadata?.name}`] = picked(n.spec?.podSelector);
      for (const [i, rule] of (n.spec?.ingress ?? []).entries()) {
        for (const peer of rule.from ?? []) {
          if (peer.namespaceSelector) continue;
          const key = `NetworkPolicy/${n.metadata?.name} from#${i}`;
          selections[key] = [...(selections[key] ?? []), ...picked(peer.podSelector)];
        }
      }
    }
    expect(selections).toEqual({
      "Service/spotx-web": ["spotx-web"],
      "Service/spotx-worker": ["spotx-worker"],
      "PodDisruptionBudget/spotx-web": ["spotx-web"],
      "PodDisruptionBudget/spotx-worker": ["spotx-worker"],
      "NetworkPolicy/spotx-default-deny-ingress": [
        "spotx-market-maker",
        "spotx-migrate",
        "spotx-web",
        "spotx-worker",
      ],
      "NetworkPolicy/spotx-web": ["spotx-web"],
      "NetworkPolicy/spotx-web from#0": ["spotx-web"],
      "NetworkPolicy/spotx-worker": ["spotx-worker"],
      "NetworkPolicy/spotx-worker from#0": ["spotx-web"],
      "NetworkPolicy/spotx-web-from-market-maker": ["spotx-web"],
      "NetworkPolicy/spotx-web-from-market-maker from#0": ["spotx-market-maker"],
    });

    const [hpa, ...otherHpas] = objectsOf(manifests, HorizontalPodAutoscaler);
    expect(otherHpas).toEqual([]);
    expect(hpa?.spec?.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "spotx-web",
    });
    expect(hpa?.spec?.metrics?.map((m) => m.resource?.name)).toEqual(["cpu"]);
    // A replica count on the Deployment would reset the autoscaler's on every apply.
    expect(deployment("spotx-web").spec?.replicas).toBeUndefined();
  });

  it("routes Services, the Ingress and the network policies to ports the pods open", () => {
    const podPorts = (selector: ILabelSelector) =>
      workloads
        .filter((w) => selects(selector, w.template.metadata?.labels ?? {}))
        .flatMap(containersOf)
        .flatMap((c) => c.ports ?? []);
    const routes: string[] = [];
    for (const s of services) {
      for (const port of s.spec?.ports ?? []) {
        const opened = podPorts({ matchLabels: s.spec?.selector ?? {} }).find(
          (p) => p.name === port.targetPort || p.containerPort === port.targetPort,
        );
        routes.push(`${s.metadata?.name}:${port.name}/${port.port} → ${opened?.containerPort}`);
      }
    }
    for (const ingress of objectsOf(manifests, Ingress)) {
      for (const path of (ingress.spec?.rules ?? []).flatMap((r) => r.http?.paths ?? [])) {
        const backend = path.backend.service;
        const service = services.find((s) => s.metadata?.name === backend?.name);
        const port = service?.spec?.ports?.find(
          (p) => p.name === backend?.port?.name || p.port === backend?.port?.number,
        );
        routes.push(`ingress ${path.path} → ${backend?.name}:${port?.port}`);
      }
    }
    for (const n of objectsOf(manifests, NetworkPolicy)) {
      const opened = podPorts(n.spec?.podSelector ?? {}).map((p) => p.containerPort);
      for (const port of (n.spec?.ingress ?? []).flatMap((rule) => rule.ports ?? [])) {
        routes.push(
          `${n.metadata?.name} allows ${port.port}: ${opened.includes(Number(port.port))}`,
        );
      }
    }
    expect(routes.sort()).toEqual([
      "ingress / → spotx-web:80",
      "spotx-web allows 3000: true",
      "spotx-web-from-market-maker allows 3000: true",
      "spotx-web:http/80 → 3000",
      "spotx-worker allows 3001: true",
      "spotx-worker:http/3001 → 3001",
    ]);
  });

  it("sets only variables the processes read", () => {
    const strays = containers.flatMap(({ workload, process, env }) => {
      const known = new Set((PROCESS_SCHEMAS[process] ?? []).flatMap((s) => Object.keys(s.shape)));
      return Object.keys(env)
        .filter((name) => !known.has(name))
        .map((name) => `${workload}: ${name}`);
    });
    expect(strays).toEqual([]);
    expect(containers.map((c) => `${c.workload}: ${c.process}`).sort()).toEqual([
      "spotx-market-maker: market-maker",
      "spotx-migrate: migrate",
      "spotx-web: web",
      "spotx-worker: worker",
    ]);
  });

  it("gives each process a configuration it accepts, in production", () => {
    const refusals = containers.flatMap(({ workload, process, env }) =>
      (PROCESS_SCHEMAS[process] ?? []).flatMap((schema) => {
        const parsed = schema.safeParse(env);
        return (parsed.error?.issues ?? []).map(
          (issue) => `${workload}: ${issue.path.join(".")}: ${issue.message}`,
        );
      }),
    );
    expect(refusals).toEqual([]);
    for (const { workload, env } of containers) {
      expect(env.NODE_ENV, workload).toBe("production");
    }
    const web = containers.find((c) => c.process === "web")?.env;
    const worker = containers.find((c) => c.process === "worker")?.env;
    // Behind the ingress controller: its forwarding headers are believed, one hop deep.
    expect(web?.SPOTX_TRUSTED_PROXIES).toBe("1");
    expect(web?.DEMO_DEPOSITS).toBe("off");
    // Instance ids are the pod names, so each registers in etcd under a name of its own.
    expect(web?.WEB_INSTANCE_ID).toMatch(/^spotx-web-/);
    expect(worker?.WORKER_INSTANCE_ID).toMatch(/^spotx-worker-/);
  });

  it("documents every Secret key the pods take, with placeholders production refuses", () => {
    const taken = new Set(
      containers.flatMap(({ container }) =>
        (container.env ?? []).flatMap((v) => v.valueFrom?.secretKeyRef?.key ?? []),
      ),
    );
    expect(Object.keys(exampleSecretData).sort()).toEqual([...taken].sort());
    expect([...taken].sort()).toEqual([
      "DATABASE_OWNER_URL",
      "DATABASE_URL",
      "REDIS_URL",
      "SPOTX_METRICS_TOKEN",
      "SPOTX_SECRET_KEY",
    ]);
    // An unedited copy of the example cannot start a process; its URLs show the accepted form.
    const parsed = platformEnvSchema.safeParse({ ...exampleSecretData, NODE_ENV: "production" });
    expect(parsed.error?.issues.map((issue) => issue.path.join(".")).sort()).toEqual([
      "SPOTX_METRICS_TOKEN",
      "SPOTX_SECRET_KEY",
    ]);
    // The owner role's URL (DDL rights) reaches the migration and nothing else.
    const owners = containers.filter(({ env }) => env.DATABASE_OWNER_URL !== undefined);
    expect(owners.map((c) => c.workload)).toEqual(["spotx-migrate"]);
  });

  it("runs spotx's three images of one release; the migration is node /app/migrate.mjs", () => {
    const images = Object.fromEntries(
      containers.map(({ workload, container }) => [workload, container.image]),
    );
    const tag = images["spotx-web"]?.split(":")[1];
    expect(tag).toMatch(/^\d+\.\d+\.\d+$/);
    expect(images).toEqual({
      "spotx-web": `spotx-web:${tag}`,
      "spotx-worker": `spotx-worker:${tag}`,
      "spotx-migrate": `spotx-worker:${tag}`,
      "spotx-market-maker": `spotx-market-maker:${tag}`,
    });
    const migrate = containers.find((c) => c.workload === "spotx-migrate")?.container;
    expect(migrate?.command).toEqual(["node", "/app/migrate.mjs"]);
    expect(jobs[0]?.spec?.template.spec?.restartPolicy).toBe("Never");
    // The web and worker images start their servers by themselves.
    for (const name of ["spotx-web", "spotx-worker"]) {
      expect(deployment(name).spec?.template.spec?.containers[0]?.command).toBeUndefined();
    }
  });

  it("lets Prometheus scrape /metrics with the token, labelled as the alert rules expect", () => {
    const [monitor] = objectsOf(manifests, ServiceMonitor);
    const labelsOf = (s: Service) => s.metadata?.labels ?? {};
    const scraped = services.filter((s) => selects(monitor?.spec.selector, labelsOf(s)));
    expect(scraped.map((s) => s.metadata?.name).sort()).toEqual(["spotx-web", "spotx-worker"]);
    const [endpoint] = monitor?.spec.endpoints ?? [];
    for (const service of scraped) {
      expect(service.spec?.ports?.map((p) => p.name)).toContain(endpoint?.port);
    }
    expect(endpoint?.path).toBe("/metrics");
    expect(endpoint?.authorization).toEqual({
      type: "Bearer",
      credentials: { name: "spotx-secrets", key: "SPOTX_METRICS_TOKEN" },
    });
    // deploy/prometheus/alerts.yml selects job="spotx" and names kind and spotx_id.
    const targets = (endpoint?.relabelings ?? []).map((r) => r.targetLabel).sort();
    expect(targets).toEqual(["job", "kind", "spotx_id"]);
    for (const name of ["spotx-web", "spotx-worker"]) {
      const template = deployment(name).spec?.template;
      const port = template?.spec?.containers[0]?.ports?.[0]?.containerPort;
      expect(template?.metadata?.annotations).toMatchObject({
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(port),
        "prometheus.io/path": "/metrics",
      });
    }
  });
});

function objectNamespace(manifest: Manifest): unknown {
  const metadata = manifest.object.metadata as { namespace?: unknown } | undefined;
  return metadata?.namespace;
}
