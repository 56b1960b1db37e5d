import { describe, expect, it } from "vitest";
import { describeInvocation } from "../../../pipelines/src/tools/invocation.ts";
import {
  apply,
  classifyKubectlError,
  getJob,
  getService,
  kubeconfigPath,
  kubectlError,
  kustomize,
  parseApplyOutput,
  parseJobState,
  parseService,
  patchServiceSelector,
  proxyGet,
  rolloutStatus,
  rolloutUndo,
  serviceProxyPath,
} from "../../../pipelines/src/tools/kubectl.ts";

describe("kubectl argument vectors", () => {
  it("renders an overlay without a cluster or a secret", () => {
    const call = kustomize("k8s/overlays/prod");
    expect(call).toEqual({ tool: "kubectl", args: ["kustomize", "k8s/overlays/prod"] });
  });

  it("applies server-side from stdin with the kubeconfig as a secret file, never a value", () => {
    const call = apply({
      manifests: "kind: List\n",
      kubeconfigSecret: "prod-kubeconfig",
      context: "prod",
    });
    expect(call.args).toEqual([
      "--kubeconfig",
      kubeconfigPath,
      "--context",
      "prod",
      "apply",
      "--server-side",
      "--field-manager=tiers",
      "-f",
      "-",
      // One-shot calls carry kubectl's --request-timeout (https://kubernetes.io/docs/reference/kubectl/kubectl/).
      "--request-timeout=30s",
    ]);
    expect(call.stdin).toBe("kind: List\n");
    expect(call.secretFiles).toEqual([{ path: kubeconfigPath, secret: "prod-kubeconfig" }]);
    // The only reference to the kubeconfig in argv is the path the engine materialises.
    expect(describeInvocation(call)).not.toContain("prod-kubeconfig");
  });

  it("bounds a rollout watch by its own --timeout plus the kubectl process limit, not --request-timeout", () => {
    const call = rolloutStatus({ namespace: "n", deployment: "d", timeoutSeconds: 330 });
    // --request-timeout would cut the watch itself; the process deadline sits above kubectl's wait.
    expect(call.args.some((a) => a.startsWith("--request-timeout"))).toBe(false);
    expect(call.deadlineMs).toBe(330_000 + 120_000);
  });

  it("offers server-side dry runs", () => {
    expect(apply({ manifests: "", dryRun: "server" }).args).toContain("--dry-run=server");
  });

  it("waits for a rollout with a timeout and undoes one", () => {
    expect(
      rolloutStatus({
        namespace: "tiers-staging",
        deployment: "tiers-staging-api",
        timeoutSeconds: 330,
      }).args,
    ).toEqual([
      "--kubeconfig",
      kubeconfigPath,
      "rollout",
      "status",
      "deployment/tiers-staging-api",
      "--namespace",
      "tiers-staging",
      "--watch=true",
      "--timeout=330s",
    ]);
    expect(rolloutUndo({ namespace: "n", deployment: "d" }).args.slice(2)).toEqual([
      "rollout",
      "undo",
      "deployment/d",
      "--namespace",
      "n",
      // One-shot calls carry kubectl's --request-timeout (https://kubernetes.io/docs/reference/kubectl/kubectl/).
      "--request-timeout=30s",
    ]);
  });

  it("switches a Service's colour with a merge patch of the selector only", () => {
    const call = patchServiceSelector({
      namespace: "tiers-prod",
      name: "tiers-prod-api",
      selector: { color: "green" },
    });
    const patch = call.args[call.args.indexOf("--patch") + 1]!;
    expect(JSON.parse(patch)).toEqual({ spec: { selector: { color: "green" } } });
    expect(call.args).toContain("--type=merge");
  });

  it("reads a Service as JSON", () => {
    expect(getService({ namespace: "n", name: "s" }).args.slice(2)).toEqual([
      "get",
      "service",
      "s",
      "--namespace",
      "n",
      "--output=json",
      // One-shot calls carry kubectl's --request-timeout (https://kubernetes.io/docs/reference/kubectl/kubectl/).
      "--request-timeout=30s",
    ]);
  });

  it("smoke-checks through the API server's service proxy", () => {
    const call = proxyGet({
      namespace: "tiers-prod",
      service: "tiers-prod-api-preview",
      port: "http",
      path: "/readyz",
    });
    expect(call.args.slice(2)).toEqual([
      "get",
      "--raw",
      "/api/v1/namespaces/tiers-prod/services/tiers-prod-api-preview:http/proxy/readyz",
      // One-shot calls carry kubectl's --request-timeout (https://kubernetes.io/docs/reference/kubectl/kubectl/).
      "--request-timeout=30s",
    ]);
    expect(() =>
      serviceProxyPath({ namespace: "n", service: "s", port: "http", path: "readyz" }),
    ).toThrow(/must start with/);
  });
});

describe("kubectl output parsing", () => {
  it.each([
    ['error: deployment "tiers-staging-api" exceeded its progress deadline', "rollout-failed"],
    ["error: timed out waiting for the condition", "timeout"],
    ['error: no rollout history found for deployment "tiers-staging-api"', "no-rollout-history"],
    ['Error from server (NotFound): services "tiers-prod-api" not found', "not-found"],
    ["error: You must be logged in to the server (Unauthorized)", "unauthorized"],
    [
      'Error from server (Forbidden): deployments.apps is forbidden: User "ci" cannot patch resource',
      "forbidden",
    ],
    [
      'error: Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas',
      "conflict",
    ],
    [
      'The Deployment "tiers-prod-api-blue" is invalid: spec.template.spec.containers[0].image: Required value',
      "invalid",
    ],
    [
      "Error from server (ServiceUnavailable): the server is currently unable to handle the request",
      "unavailable",
    ],
    [
      "The connection to the server localhost:8080 was refused - did you specify the right host or port?",
      "unreachable",
    ],
    ["Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout", "unreachable"],
    ["something else entirely", "failed"],
  ])("%s -> %s", (text, kind) => {
    expect(classifyKubectlError(text)).toBe(kind);
  });

  it("turns a failed call into a typed ToolError with a hint and the redacted command", () => {
    const call = rolloutStatus({ namespace: "n", deployment: "d", timeoutSeconds: 5 });
    const error = kubectlError(call, {
      exitCode: 1,
      stdout: "",
      stderr: 'error: deployment "d" exceeded its progress deadline',
    });
    expect(error.kind).toBe("rollout-failed");
    expect(error.hint).toMatch(/describe/);
    expect(error.command).toContain("rollout status deployment/d");
  });

  it("lists the objects apply touched", () => {
    const out = [
      "namespace/tiers-prod serverside-applied",
      "deployment.apps/tiers-prod-api-green serverside-applied",
      "service/tiers-prod-api unchanged",
      "",
    ].join("\n");
    expect(parseApplyOutput(out)).toEqual([
      { resource: "namespace", name: "tiers-prod", action: "serverside-applied" },
      { resource: "deployment.apps", name: "tiers-prod-api-green", action: "serverside-applied" },
      { resource: "service", name: "tiers-prod-api", action: "unchanged" },
    ]);
  });

  it("reads a live Service's selector and rejects other objects", () => {
    const service = parseService(
      JSON.stringify({
        kind: "Service",
        metadata: { name: "tiers-prod-api", namespace: "tiers-prod" },
        spec: { selector: { "app.kubernetes.io/name": "api", color: "green" } },
      }),
    );
    expect(service.selector.color).toBe("green");
    expect(() => parseService(JSON.stringify({ kind: "Pod", metadata: { name: "x" } }))).toThrow(
      /Service/,
    );
  });
});

describe("kubectl Job status", () => {
  // A Job has finished when a Complete or Failed condition has status "True": the Job
  // controller's FinishedCondition, kubernetes/kubernetes pkg/controller/job/util/utils.go.
  const job = (status: unknown) => JSON.stringify({ kind: "Job", status });

  it("reads the job as JSON with a bounded request", () => {
    const call = getJob({ namespace: "ns", job: "m" });
    expect(call.args).toEqual(
      expect.arrayContaining(["get", "job", "m", "--namespace", "ns", "--output=json"]),
    );
    expect(call.args.some((a) => a.startsWith("--request-timeout="))).toBe(true);
  });

  it("is running until a finishing condition is True", () => {
    expect(parseJobState(job({ active: 1 }))).toEqual({ state: "running" });
    expect(parseJobState(job({ conditions: [{ type: "Failed", status: "False" }] }))).toEqual({
      state: "running",
    });
    expect(parseJobState(job({ conditions: [{ type: "Suspended", status: "True" }] }))).toEqual({
      state: "running",
    });
  });

  it("tells complete from failed, with the controller's reason", () => {
    expect(parseJobState(job({ conditions: [{ type: "Complete", status: "True" }] }))).toEqual({
      state: "complete",
    });
    expect(
      parseJobState(
        job({
          conditions: [
            { type: "Failed", status: "True", reason: "DeadlineExceeded", message: "too long" },
          ],
        }),
      ),
    ).toEqual({ state: "failed", reason: "DeadlineExceeded", message: "too long" });
  });

  it("refuses output that is not a Job", () => {
    expect(() => parseJobState(JSON.stringify({ kind: "Pod" }))).toThrow(/expected a Job/);
  });
});
