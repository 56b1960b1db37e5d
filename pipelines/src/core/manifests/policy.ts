/**
 * Tier policies for rendered manifests: what no Kubernetes tier may run, whatever its config
 * says. Images by digest only, non-root and locked-down containers, no host access, probes and
 * resources on every container, no literal secrets, and a default-deny network.
 */
import {
  type ContainerSpec,
  clusterScopedKinds,
  isWorkload,
  type KubeObject,
  objectId,
  podTemplateOf,
  type SecurityContextSpec,
} from "./documents.ts";
import type { ManifestFinding } from "./findings.ts";

/** Rule ids of the tier policies (see docs/k8s.md). */
export const policyRules = {
  imageDigest: "policy/image-digest",
  nonRoot: "policy/non-root",
  readOnlyRoot: "policy/read-only-root",
  privilegeEscalation: "policy/no-privilege-escalation",
  capabilities: "policy/drop-all-capabilities",
  seccomp: "policy/seccomp",
  privileged: "policy/no-privileged",
  hostPath: "policy/no-host-path",
  hostNamespaces: "policy/no-host-namespaces",
  probes: "policy/probes",
  resources: "policy/resources",
  namespace: "policy/namespace",
  literalSecret: "policy/no-literal-secrets",
  defaultDeny: "policy/default-deny",
} as const;

const digestPinned = /^[^@\s]+@sha256:[0-9a-f]{64}$/;
/** Environment variable names whose value must come from a Secret, never a literal. */
const secretLooking =
  /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL|DATABASE_URL|DSN)/i;

/** Every policy finding of a rendered overlay. */
export function checkPolicies(objects: readonly KubeObject[]): ManifestFinding[] {
  const findings: ManifestFinding[] = [];
  for (const object of objects) {
    const id = objectId(object);
    const add = (rule: string, path: string, message: string) =>
      findings.push({ rule, object: id, path, message });

    if (!clusterScopedKinds.has(object.kind) && !object.metadata.namespace) {
      add(policyRules.namespace, "metadata.namespace", "namespaced object has no namespace");
    }
    if (
      object.kind === "Secret" &&
      (object.data !== undefined || object.stringData !== undefined)
    ) {
      add(
        policyRules.literalSecret,
        "data",
        "a Secret with values is rendered into the overlay; reference it through the tier's secret manager (ExternalSecret) instead",
      );
    }
    if (isWorkload(object)) checkPod(object, add);
  }
  if (!objects.some(isDefaultDeny)) {
    findings.push({
      rule: policyRules.defaultDeny,
      object: "NetworkPolicy",
      path: "",
      message:
        "no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)",
    });
  }
  return findings;
}

type Add = (rule: string, path: string, message: string) => void;

function checkPod(object: KubeObject, add: Add): void {
  const template = podTemplateOf(object);
  const pod = template?.spec;
  const base = object.kind === "Pod" ? "spec" : "spec.template.spec";
  if (!pod) {
    add(policyRules.resources, base, "workload has no pod spec");
    return;
  }
  for (const key of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    if (pod[key] === true)
      add(policyRules.hostNamespaces, `${base}.${key}`, `${key} is not allowed`);
  }
  for (const [i, volume] of (pod.volumes ?? []).entries()) {
    if (volume.hostPath !== undefined) {
      add(
        policyRules.hostPath,
        `${base}.volumes[${i}]`,
        `volume "${volume.name}" mounts a host path`,
      );
    }
  }
  const podContext = pod.securityContext ?? {};
  const groups: [string, ContainerSpec[]][] = [
    ["initContainers", pod.initContainers ?? []],
    ["containers", pod.containers ?? []],
  ];
  for (const [group, containers] of groups) {
    for (const [i, container] of containers.entries()) {
      const at = `${base}.${group}[${i}]`;
      // Probes guard serving workloads; a Job's container runs to completion (the migration step).
      const longRunning = group === "containers" && !["Job", "CronJob"].includes(object.kind);
      checkContainer(container, podContext, at, longRunning, add);
    }
  }
}

function checkContainer(
  container: ContainerSpec,
  pod: SecurityContextSpec,
  at: string,
  longRunning: boolean,
  add: Add,
): void {
  const name = `container "${container.name}"`;
  const image = container.image ?? "";
  if (!digestPinned.test(image)) {
    add(
      policyRules.imageDigest,
      `${at}.image`,
      `${name} image "${image}" is not pinned by digest (<repository>@sha256:<64 hex>); mutable tags cannot run in a Kubernetes tier`,
    );
  }
  const sc = container.securityContext ?? {};
  const runAsNonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
  const runAsUser = sc.runAsUser ?? pod.runAsUser;
  if (runAsNonRoot !== true || runAsUser === 0) {
    add(
      policyRules.nonRoot,
      `${at}.securityContext.runAsNonRoot`,
      `${name} must run as a non-root user (runAsNonRoot: true, runAsUser not 0)`,
    );
  }
  if (sc.readOnlyRootFilesystem !== true) {
    add(
      policyRules.readOnlyRoot,
      `${at}.securityContext.readOnlyRootFilesystem`,
      `${name} must have a read-only root filesystem (mount an emptyDir where it writes)`,
    );
  }
  if (sc.allowPrivilegeEscalation !== false) {
    add(
      policyRules.privilegeEscalation,
      `${at}.securityContext.allowPrivilegeEscalation`,
      `${name} must set allowPrivilegeEscalation: false`,
    );
  }
  if (sc.privileged === true) {
    add(
      policyRules.privileged,
      `${at}.securityContext.privileged`,
      `${name} may not be privileged`,
    );
  }
  const drop = sc.capabilities?.drop ?? [];
  if (!drop.includes("ALL") || (sc.capabilities?.add ?? []).length > 0) {
    add(
      policyRules.capabilities,
      `${at}.securityContext.capabilities`,
      `${name} must drop ALL capabilities and add none`,
    );
  }
  const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
  if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
    add(
      policyRules.seccomp,
      `${at}.securityContext.seccompProfile`,
      `${name} needs seccompProfile RuntimeDefault (or Localhost)`,
    );
  }
  if (longRunning) {
    for (const probe of ["livenessProbe", "readinessProbe"] as const) {
      if (!container[probe]) add(policyRules.probes, `${at}.${probe}`, `${name} has no ${probe}`);
    }
  }
  for (const kind of ["requests", "limits"] as const) {
    for (const resource of ["cpu", "memory"]) {
      if (container.resources?.[kind]?.[resource] === undefined) {
        add(
          policyRules.resources,
          `${at}.resources.${kind}.${resource}`,
          `${name} has no ${resource} ${kind.slice(0, -1)}`,
        );
      }
    }
  }
  for (const [i, env] of (container.env ?? []).entries()) {
    if (secretLooking.test(env.name) && env.value !== undefined) {
      add(
        policyRules.literalSecret,
        `${at}.env[${i}]`,
        `${name} sets ${env.name} to a literal value; use valueFrom.secretKeyRef`,
      );
    }
  }
}

/** A NetworkPolicy that selects every pod and allows nothing in either direction. */
export function isDefaultDeny(object: KubeObject): boolean {
  if (object.kind !== "NetworkPolicy") return false;
  const spec = (object.spec ?? {}) as {
    podSelector?: Record<string, unknown>;
    policyTypes?: string[];
    ingress?: unknown[];
    egress?: unknown[];
  };
  const selectsAll = spec.podSelector !== undefined && Object.keys(spec.podSelector).length === 0;
  const types = spec.policyTypes ?? [];
  return (
    selectsAll &&
    types.includes("Ingress") &&
    types.includes("Egress") &&
    (spec.ingress ?? []).length === 0 &&
    (spec.egress ?? []).length === 0
  );
}
