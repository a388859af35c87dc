// Reads the Kubernetes manifests under deploy/k8s and validates each document against the
// OpenAPI schema of its kind (kubernetes-models, and the Prometheus Operator's CRDs), so that a
// wrong field type or an unknown kind is found here rather than by `kubectl apply`.
import fs from "node:fs";
import path from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { parseAllDocuments } from "yaml";

/** A model class of kubernetes-models: its type meta, and an instance that validates itself. */
export type ManifestModel<T = { validate(): void }> = {
  apiVersion: string;
  kind: string;
  new (data: never): T;
};

/** Every kind deploy/k8s may hold; anything else is a mistake (or needs adding here). */
export const MANIFEST_MODELS: readonly ManifestModel[] = [
  Namespace,
  ConfigMap,
  Secret,
  Service,
  Deployment,
  Job,
  PodDisruptionBudget,
  HorizontalPodAutoscaler,
  Ingress,
  NetworkPolicy,
  ServiceMonitor,
];

export {
  ConfigMap,
  Deployment,
  HorizontalPodAutoscaler,
  Ingress,
  Job,
  Namespace,
  NetworkPolicy,
  PodDisruptionBudget,
  Secret,
  Service,
  ServiceMonitor,
};

/** The kustomize file: not an API object, read on its own. */
export const KUSTOMIZATION_FILE = "kustomization.yaml";

export type Manifest = {
  /** Relative to the manifests' directory, with forward slashes. */
  file: string;
  /** The document's position in its file, from 0. */
  index: number;
  object: Record<string, unknown>;
};

/** The YAML files under `dir`, relative and sorted. */
export function manifestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => file.split(path.sep).join("/"))
    .sort();
}

/** The non-empty documents of one YAML file; a syntax error throws, naming the file. */
export function readDocuments(dir: string, file: string): Manifest[] {
  const text = fs.readFileSync(path.join(dir, file), "utf8");
  const manifests: Manifest[] = [];
  for (const [index, document] of parseAllDocuments(text).entries()) {
    const [error] = document.errors;
    if (error) throw new Error(`${file} document ${index}: ${error.message}`);
    const object: unknown = document.toJS();
    if (object === null || object === undefined) continue;
    if (typeof object !== "object" || Array.isArray(object)) {
      throw new Error(`${file} document ${index} is not a mapping`);
    }
    manifests.push({ file, index, object: object as Record<string, unknown> });
  }
  return manifests;
}

/** The model class for an object's apiVersion and kind, or an error naming them. */
export function modelFor(object: Record<string, unknown>): ManifestModel {
  const model = MANIFEST_MODELS.find(
    (candidate) => candidate.apiVersion === object.apiVersion && candidate.kind === object.kind,
  );
  if (!model) {
    throw new Error(`unknown kind ${String(object.apiVersion)}/${String(object.kind)}`);
  }
  return model;
}

/** Validates an object against its kind's schema; throws with the schema's complaint. */
export function validateManifest(object: Record<string, unknown>): void {
  new (modelFor(object))(object as never).validate();
}

/** The objects of one kind, validated, as instances of its model (typed fields). */
export function objectsOf<T extends { validate(): void }>(
  manifests: readonly Manifest[],
  model: ManifestModel<T>,
): T[] {
  return manifests
    .filter((m) => m.object.apiVersion === model.apiVersion && m.object.kind === model.kind)
    .map((m) => {
      const instance = new model(m.object as never);
      instance.validate();
      return instance;
    });
}
