/**
 * Rendered manifests as data: the multi-document YAML `kubectl kustomize` prints, parsed into
 * plain objects the checks, the blue-green planner and the deploy step share. Pure: the text is
 * handed in, nothing is read here.
 */
import { stringify } from "yaml";
import { TiersError } from "../errors.ts";
import { parseYamlDocuments, toPlain, yamlWhere } from "../yaml.ts";

/** The common shape of every Kubernetes object; the rest stays untyped until a check needs it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `Kind/name`: how findings and logs name an object. */
export function objectId(object: Pick<KubeObject, "kind" | "metadata">): string {
  return `${object.kind}/${object.metadata.name}`;
}

/**
 * Parses rendered manifests. `where` names the source (e.g. `k8s/overlays/prod`) for errors;
 * a document that is not a Kubernetes object (no apiVersion/kind/metadata.name) is an error,
 * because kustomize never renders one and a hand-fed file with one is a mistake.
 */
export function parseManifests(text: string, where: string): KubeObject[] {
  const objects: KubeObject[] = [];
  const parsed = parseYamlDocuments(where, text);
  if (!parsed.ok) {
    const first = parsed.problems[0]!;
    throw new TiersError(
      first.kind === "syntax"
        ? `rendered manifests are not valid YAML: ${first.message}`
        : `rendered manifests refused: ${first.message}`,
      { where: yamlWhere(first) },
    );
  }
  for (const doc of parsed.value.documents) {
    const value = toPlain(doc) as unknown;
    if (value === null || value === undefined) continue;
    const object = value as Partial<KubeObject>;
    if (
      typeof object !== "object" ||
      typeof object.apiVersion !== "string" ||
      typeof object.kind !== "string" ||
      typeof object.metadata?.name !== "string"
    ) {
      throw new TiersError(
        "a rendered document is not a Kubernetes object (apiVersion, kind, metadata.name)",
        {
          where,
          hint: "render the overlay with `kubectl kustomize` and look at the document without a kind",
        },
      );
    }
    objects.push(object as KubeObject);
  }
  return objects;
}

/** Serialises objects back to one multi-document YAML stream, e.g. for `kubectl apply -f -`. */
export function renderManifests(objects: readonly KubeObject[]): string {
  return objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n");
}

/** The objects of one kind, in rendered order. */
export function ofKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((object) => object.kind === kind);
}

/** Kinds that are not namespaced, so a missing metadata.namespace is expected. */
export const clusterScopedKinds: ReadonlySet<string> = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "ClusterSecretStore",
  "CustomResourceDefinition",
  "PriorityClass",
  "StorageClass",
]);

/** A container as the checks read it. */
export interface ContainerSpec {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; [key: string]: unknown };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
  resources?: {
    requests?: Record<string, string | number>;
    limits?: Record<string, string | number>;
  };
  securityContext?: SecurityContextSpec;
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface ProbeSpec {
  httpGet?: { path?: string; port?: string | number };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  [key: string]: unknown;
}

export interface SecurityContextSpec {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
  [key: string]: unknown;
}

/** The pod spec of a workload as the checks read it. */
export interface PodSpec {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: { name: string; hostPath?: unknown; [key: string]: unknown }[];
  securityContext?: SecurityContextSpec;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
}

/** Kinds whose pods the policies inspect, and where each keeps its pod template. */
const podTemplatePaths: Record<string, string[]> = {
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
  Pod: [],
};

/** True when the object runs pods. */
export function isWorkload(object: KubeObject): boolean {
  return object.kind in podTemplatePaths;
}

/** The pod template (metadata + spec) of a workload, or undefined for other kinds. */
export function podTemplateOf(
  object: KubeObject,
): { metadata?: KubeObject["metadata"]; spec?: PodSpec } | undefined {
  const path = podTemplatePaths[object.kind];
  if (!path) return undefined;
  let node: unknown = object;
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  return (node ?? undefined) as { metadata?: KubeObject["metadata"]; spec?: PodSpec } | undefined;
}

/** Reads a nested field (`spec.replicas`) without caring whether the parents exist. */
export function field(object: unknown, path: string): unknown {
  let node: unknown = object;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
