/**
 * kubectl: argument vectors for rendering, applying, waiting for and rolling back the tier's
 * workloads, and parsers that turn kubectl's output into typed values or typed errors.
 *
 * The kubeconfig is a secret FILE: every call that talks to a cluster names the path where the
 * engine must materialise the secret (`Invocation.secretFiles`), so argv carries a path, never
 * credentials. Rendering (`kubectl kustomize`) needs no cluster and no secret.
 */
import { timeoutFor } from "../core/limits.ts";
import { ToolError } from "./errors.ts";
import type { Invocation, ToolResult } from "./invocation.ts";

/** Where engines materialise the kubeconfig secret; the host runner remaps it to a 0600 temp file. */
export const kubeconfigPath = "/run/secrets/tiers-kubeconfig";

/** Logical secret name of the kubeconfig when the tier's config does not name another one. */
export const defaultKubeconfigSecret = "kubeconfig";

/** Typed failures a caller can branch on without matching strings itself. */
export type KubectlErrorKind =
  | "not-found"
  | "unauthorized"
  | "forbidden"
  | "unreachable"
  | "timeout"
  | "rollout-failed"
  | "no-rollout-history"
  | "invalid"
  | "conflict"
  | "unavailable"
  | "failed";

/** How to reach the cluster: which secret holds the kubeconfig, and optionally which context. */
export interface ClusterAccess {
  /** Logical secret name resolved by the engine (default `kubeconfig`). */
  kubeconfigSecret?: string;
  /** kubeconfig context to use; the file's current context when absent. */
  context?: string;
}

/**
 * A call to the API server. A one-shot call carries kubectl's `--request-timeout` ("The length
 * of time to wait before giving up on a single server request", `kubectl options`,
 * https://kubernetes.io/docs/reference/kubectl/kubectl/); a watch (`rollout status`) must not,
 * since that limit would cut the watch itself, and is bounded by its own `--timeout` instead.
 */
function clusterCall(
  access: ClusterAccess,
  args: readonly string[],
  extra: Partial<Invocation> = {},
  oneShot = true,
): Invocation {
  const global = ["--kubeconfig", kubeconfigPath];
  if (access.context) global.push("--context", access.context);
  // Last, after the command's own arguments (kubectl reads global flags anywhere).
  const limit = oneShot ? [`--request-timeout=${timeoutFor("kubectl-request").text}`] : [];
  return {
    tool: "kubectl",
    args: [...global, ...args, ...limit],
    target: access.context ? `cluster context ${access.context}` : "the kubeconfig's cluster",
    secretFiles: [
      { path: kubeconfigPath, secret: access.kubeconfigSecret ?? defaultKubeconfigSecret },
    ],
    ...extra,
  };
}

/** `kubectl kustomize <overlay>`: renders an overlay offline (kustomize is built into kubectl). */
export function kustomize(overlayDir: string): Invocation {
  return { tool: "kubectl", args: ["kustomize", overlayDir] };
}

/** Options for applying rendered manifests. */
export interface ApplyOptions extends ClusterAccess {
  /** The rendered manifests (multi-document YAML), fed on stdin so nothing is re-rendered. */
  manifests: string;
  /** `server` asks the API server to validate without persisting; `client` only prints. */
  dryRun?: "server" | "client";
  /** Field manager recorded on every field this pipeline owns. */
  fieldManager?: string;
}

/**
 * `kubectl apply --server-side -f -`: server-side apply so the pipeline owns exactly the fields
 * it renders, and conflicts with hand edits surface as errors instead of being overwritten.
 */
export function apply(options: ApplyOptions): Invocation {
  const args = [
    "apply",
    "--server-side",
    `--field-manager=${options.fieldManager ?? "tiers"}`,
    "-f",
    "-",
  ];
  if (options.dryRun) args.push(`--dry-run=${options.dryRun}`);
  return clusterCall(options, args, { stdin: options.manifests });
}

/** Options for waiting on a Deployment's rollout. */
export interface RolloutOptions extends ClusterAccess {
  namespace: string;
  /** Deployment name. */
  deployment: string;
  /** How long to wait, in seconds, before the rollout counts as failed. */
  timeoutSeconds: number;
}

/** `kubectl rollout status deployment/<name> --timeout=<n>s`: exits non-zero when it fails. */
export function rolloutStatus(options: RolloutOptions): Invocation {
  return clusterCall(
    options,
    [
      "rollout",
      "status",
      `deployment/${options.deployment}`,
      "--namespace",
      options.namespace,
      "--watch=true",
      `--timeout=${options.timeoutSeconds}s`,
    ],
    // The process deadline sits above kubectl's own wait, so kubectl reports the failed rollout.
    { deadlineMs: options.timeoutSeconds * 1000 + timeoutFor("kubectl").ms },
    false,
  );
}

/** `kubectl rollout undo deployment/<name>`: returns the pod template to the previous revision. */
export function rolloutUndo(options: Omit<RolloutOptions, "timeoutSeconds">): Invocation {
  return clusterCall(options, [
    "rollout",
    "undo",
    `deployment/${options.deployment}`,
    "--namespace",
    options.namespace,
  ]);
}

/** `kubectl get service <name> -o json`: the live Service, to read its selector (active colour). */
export function getService(
  options: ClusterAccess & { namespace: string; name: string },
): Invocation {
  return clusterCall(options, [
    "get",
    "service",
    options.name,
    "--namespace",
    options.namespace,
    "--output=json",
  ]);
}

/**
 * `kubectl patch service <name> --type=merge -p {"spec":{"selector":...}}`: the blue-green
 * switch. A merge patch replaces only the keys given, so other selector keys stay as rendered.
 */
export function patchServiceSelector(
  options: ClusterAccess & { namespace: string; name: string; selector: Record<string, string> },
): Invocation {
  return clusterCall(options, [
    "patch",
    "service",
    options.name,
    "--namespace",
    options.namespace,
    "--type=merge",
    "--patch",
    JSON.stringify({ spec: { selector: options.selector } }),
  ]);
}

/** One HTTP GET through the API server's service proxy: a smoke check without port-forwarding. */
export interface ProxyGetOptions extends ClusterAccess {
  namespace: string;
  /** Service name. */
  service: string;
  /** Named port of the Service (e.g. `http`). */
  port: string;
  /** Path on the service, starting with `/` (e.g. `/readyz`). */
  path: string;
}

/** The API path of a service proxy request; kept separate so tests and logs show it exactly. */
export function serviceProxyPath(options: Omit<ProxyGetOptions, keyof ClusterAccess>): string {
  if (!options.path.startsWith("/")) {
    throw new Error(`smoke path must start with "/": ${options.path}`);
  }
  return `/api/v1/namespaces/${options.namespace}/services/${options.service}:${options.port}/proxy${options.path}`;
}

/**
 * `kubectl get --raw /api/v1/namespaces/<ns>/services/<svc>:<port>/proxy/<path>`: kubectl
 * exits 0 on a 2xx answer and non-zero with the API server's reason otherwise. One finished
 * process per check, so the same runner (and the same fake in tests) drives it.
 */
export function proxyGet(options: ProxyGetOptions): Invocation {
  return clusterCall(options, ["get", "--raw", serviceProxyPath(options)]);
}

/** `kubectl version --output=json`: client and (if reachable) server versions. */
export function version(access?: ClusterAccess): Invocation {
  if (!access) return { tool: "kubectl", args: ["version", "--client", "--output=json"] };
  return clusterCall(access, ["version", "--output=json"]);
}

// --- parsing -----------------------------------------------------------------------------------

/** Sorts kubectl's error text into a typed kind; the raw text stays on the error for humans. */
export function classifyKubectlError(output: string): KubectlErrorKind {
  const text = output.toLowerCase();
  if (/exceeded its progress deadline|progress deadline exceeded/.test(text))
    return "rollout-failed";
  // Before "timeout": "Unable to connect to the server: dial tcp ...: i/o timeout" is unreachable.
  if (/unable to connect to the server|was refused|connection refused|no such host/.test(text))
    return "unreachable";
  if (/timed out waiting|context deadline exceeded|i\/o timeout/.test(text)) return "timeout";
  if (/no rollout history found|unable to find specified revision/.test(text))
    return "no-rollout-history";
  if (/\(notfound\)|not found/.test(text)) return "not-found";
  if (/\(unauthorized\)|unauthorized|you must be logged in/.test(text)) return "unauthorized";
  if (/\(forbidden\)|forbidden/.test(text)) return "forbidden";
  if (/\(conflict\)|conflict/.test(text)) return "conflict";
  if (/\(invalid\)|is invalid|error validating|unknown field/.test(text)) return "invalid";
  if (
    /serviceunavailable|service unavailable|unable to handle the request|no endpoints available/.test(
      text,
    )
  )
    return "unavailable";
  return "failed";
}

const hints: Partial<Record<KubectlErrorKind, string>> = {
  unauthorized: "the kubeconfig secret was rejected: check that it is current for this cluster",
  forbidden: "the kubeconfig's identity lacks RBAC rights in this namespace",
  unreachable: "the API server could not be reached: check the kubeconfig's server URL and network",
  "rollout-failed":
    "pods did not become ready in time: `kubectl describe` the deployment and read its events",
  timeout: "raise deploy.health_check.timeout in the tier's config, or look at the pods' events",
  "no-rollout-history": "this was the deployment's first revision: there is nothing to undo",
  conflict: "another manager owns these fields: remove the hand edit or apply with its owner",
  invalid: "the API server rejected a manifest: run `tiers deploy --dry-run` and fix the overlay",
};

/** Turns a finished kubectl call into a typed ToolError (for non-zero exits). */
export function kubectlError(
  invocation: Invocation,
  result: ToolResult,
): ToolError<KubectlErrorKind> {
  const kind = classifyKubectlError(`${result.stderr}\n${result.stdout}`);
  return new ToolError<KubectlErrorKind>(invocation, {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    kind,
    hint: hints[kind],
  });
}

/** One object kubectl reported after apply, e.g. `deployment.apps/tiers-prod-api-blue serverside-applied`. */
export interface AppliedObject {
  /** `deployment.apps`, `service`, ... as kubectl prints it. */
  resource: string;
  name: string;
  /** `created`, `configured`, `unchanged`, `serverside-applied`, ... */
  action: string;
}

/** Parses `kubectl apply` output lines into the objects it touched. */
export function parseApplyOutput(stdout: string): AppliedObject[] {
  const objects: AppliedObject[] = [];
  for (const line of stdout.split("\n")) {
    const match = /^([\w.-]+)\/([\w.-]+)\s+(.+?)\s*$/.exec(line.trim());
    if (match) objects.push({ resource: match[1]!, name: match[2]!, action: match[3]! });
  }
  return objects;
}

/** The parts of a live Service the blue-green switch needs. */
export interface LiveService {
  name: string;
  namespace: string;
  selector: Record<string, string>;
}

/** Parses `kubectl get service -o json`. Throws a plain Error on output that is not a Service. */
export function parseService(stdout: string): LiveService {
  const data = JSON.parse(stdout) as {
    kind?: string;
    metadata?: { name?: string; namespace?: string };
    spec?: { selector?: Record<string, string> };
  };
  if (data.kind !== "Service" || !data.metadata?.name) {
    throw new Error(`expected a Service object, got kind ${String(data.kind)}`);
  }
  return {
    name: data.metadata.name,
    namespace: data.metadata.namespace ?? "",
    selector: { ...(data.spec?.selector ?? {}) },
  };
}

/** Options naming one Job of a namespace. */
export interface JobOptions extends ClusterAccess {
  namespace: string;
  job: string;
}

/**
 * `kubectl delete job <name> --ignore-not-found --wait=true`: a Job's pod template is immutable,
 * so the previous release's migration Job is removed before this release's is applied.
 */
export function deleteJob(options: JobOptions & { timeoutSeconds: number }): Invocation {
  return clusterCall(options, [
    "delete",
    "job",
    options.job,
    "--namespace",
    options.namespace,
    "--ignore-not-found=true",
    "--wait=true",
    `--timeout=${options.timeoutSeconds}s`,
  ]);
}

/**
 * `kubectl get job <name> -o json`: one read of the Job's status. The deploy polls this rather
 * than `kubectl wait --for=condition=complete`, which waits for that one condition and so only
 * notices a failed Job when its own timeout runs out (kubectl wait takes one `--for` condition).
 */
export function getJob(options: JobOptions): Invocation {
  return clusterCall(options, [
    "get",
    "job",
    options.job,
    "--namespace",
    options.namespace,
    "--output=json",
  ]);
}

/** Where a Job stands: still running, or finished one way or the other. */
export type JobState =
  | { state: "running" }
  | { state: "complete" }
  | { state: "failed"; reason: string; message: string };

/**
 * Parses `kubectl get job -o json` into its state. A Job has finished when it carries a
 * `Complete` or `Failed` condition whose status is "True" — the Job controller's own test,
 * FinishedCondition in kubernetes/kubernetes pkg/controller/job/util/utils.go. Throws a plain
 * Error on output that is not a Job.
 */
export function parseJobState(stdout: string): JobState {
  const data = JSON.parse(stdout) as {
    kind?: string;
    status?: {
      conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    };
  };
  if (data.kind !== "Job") throw new Error(`expected a Job object, got kind ${String(data.kind)}`);
  for (const c of data.status?.conditions ?? []) {
    if (c.status !== "True") continue;
    if (c.type === "Complete") return { state: "complete" };
    if (c.type === "Failed")
      return { state: "failed", reason: c.reason ?? "Failed", message: c.message ?? "" };
  }
  return { state: "running" };
}

/** `kubectl logs job/<name> --tail=200`: the migration runner's output, for the failure report. */
export function jobLogs(options: JobOptions): Invocation {
  return clusterCall(options, [
    "logs",
    `job/${options.job}`,
    "--namespace",
    options.namespace,
    "--all-containers=true",
    "--tail=200",
  ]);
}
