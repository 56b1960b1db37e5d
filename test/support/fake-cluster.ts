/**
 * A fake Kubernetes API as kubectl would answer the deploy's calls (test/integration/k8s.test.ts
 * and the deploy-infra tests): `kustomize` runs the real kubectl on `dir`; every other call is
 * recorded and answered from this object's state. No cluster can run on the build machines.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseManifests } from "../../pipelines/src/core/manifests/index.ts";
import { readPins, setPins } from "../../pipelines/src/core/promotion/overlay.ts";
import { runHost } from "../../pipelines/src/engines/host/run.ts";
import type { Invocation, ToolResult } from "../../pipelines/src/tools/invocation.ts";

/**
 * Answers kubectl's cluster calls the way kubectl prints them, records every invocation, and
 * renders with the real kubectl. Scripted failures: rollouts that miss their deadline, smoke
 * paths that answer 503.
 */
export class FakeCluster {
  readonly calls: Invocation[] = [];
  /** Colour the live api Service selects; undefined: the Service does not exist yet. */
  liveColour: string | undefined;
  failRollout = new Set<string>();
  /** Returns true when this proxied GET should fail. */
  failSmoke: (path: string) => boolean = () => false;
  readonly sleeps: number[] = [];
  /** Deployments at their first revision: `rollout undo` has nothing to go back to. */
  noHistory = new Set<string>();
  /** stderr of a failing server-side dry run, if it should fail. */
  rejectDryRun: string | undefined;
  /** The migration Job fails (its Failed condition turns True) and its logs say why. */
  failMigration = false;
  /** Status reads of the migration Job that still answer "running" before it finishes. */
  migrationRunningReads = 0;

  constructor(private readonly dir: string) {}

  run = async (invocation: Invocation): Promise<ToolResult> => {
    if (invocation.args[0] === "kustomize")
      return runHost(invocation, { root: this.dir, reject: false });
    this.calls.push(invocation);
    const args = invocation.args.slice(2); // after --kubeconfig <path>
    const ok = (stdout: string): ToolResult => ({ stdout, stderr: "", exitCode: 0 });
    const fail = (stderr: string): ToolResult => ({ stdout: "", stderr, exitCode: 1 });
    if (args[0] === "get" && args[1] === "service") {
      if (!this.liveColour)
        return fail(`Error from server (NotFound): services "${args[2]}" not found`);
      return ok(
        JSON.stringify({
          kind: "Service",
          metadata: { name: args[2], namespace: args[4] },
          spec: { selector: { "app.kubernetes.io/name": "api", color: this.liveColour } },
        }),
      );
    }
    if (args[0] === "apply" && args.includes("--dry-run=server") && this.rejectDryRun) {
      return fail(this.rejectDryRun);
    }
    if (args[0] === "apply") {
      const objects = parseManifests(invocation.stdin ?? "", "stdin");
      return ok(
        objects
          .map((o) => `${o.kind.toLowerCase()}/${o.metadata.name} serverside-applied`)
          .join("\n"),
      );
    }
    if (args[0] === "rollout" && args[1] === "status") {
      const name = args[2]!.replace("deployment/", "");
      if (this.failRollout.has(name))
        return fail(`error: deployment "${name}" exceeded its progress deadline`);
      return ok(`deployment "${name}" successfully rolled out`);
    }
    if (args[0] === "rollout" && args[1] === "undo") {
      const name = args[2]!.replace("deployment/", "");
      if (this.noHistory.has(name))
        return fail(`error: no rollout history found for deployment "${name}"`);
      return ok(`${args[2]} rolled back`);
    }
    if (args[0] === "delete" && args[1] === "job") return ok("");
    if (args[0] === "get" && args[1] === "job") {
      // The Job's status as the API server returns it (batch/v1 JobStatus conditions).
      const running = this.migrationRunningReads-- > 0;
      const condition = this.failMigration
        ? {
            type: "Failed",
            status: "True",
            reason: "BackoffLimitExceeded",
            message: "Job has reached the specified backoff limit",
          }
        : { type: "Complete", status: "True" };
      return ok(
        JSON.stringify({
          kind: "Job",
          metadata: { name: args[2] },
          status: running ? { active: 1 } : { conditions: [condition] },
        }),
      );
    }
    if (args[0] === "logs")
      return ok('{"level":"error","msg":"migrate: column "payload" does not exist"}');
    if (args[0] === "get" && args[1] === "--raw") {
      if (this.failSmoke(args[2]!)) {
        return fail(
          "Error from server (ServiceUnavailable): the server is currently unable to handle the request",
        );
      }
      return ok("ok");
    }
    if (args[0] === "patch" && args[1] === "service") {
      const patch = JSON.parse(args[args.indexOf("--patch") + 1]!) as {
        spec: { selector: { color: string } };
      };
      this.liveColour = patch.spec.selector.color;
      return ok(`service/${args[2]} patched`);
    }
    return fail(`fake cluster: unexpected call ${args.join(" ")}`);
  };

  /** Each recorded call as a short line without the kubeconfig flag. */
  lines(): string[] {
    return this.calls.map((c) => {
      const args = c.args
        .slice(2)
        .filter((a, i, all) => a !== "--namespace" && all[i - 1] !== "--namespace");
      if (args[0] === "get" && args[1] === "--raw")
        return `GET ${args[2]!.replace(/^\/api\/v1\/namespaces\/[^/]+\/services\//, "")}`;
      if (args[0] === "apply") {
        const dry = c.args.includes("--dry-run=server") ? " --dry-run=server" : "";
        return `apply${dry} ${parseManifests(c.stdin ?? "", "stdin").length} objects`;
      }
      if (args[0] === "patch") return `patch ${args[2]} ${args[args.indexOf("--patch") + 1]}`;
      return args.filter((a) => !a.startsWith("--")).join(" ");
    });
  }
}

/** Pins real-looking digests into the overlays of `tiers` under `dir` (the shipped pins are placeholders). */
export async function pinOverlays(
  dir: string,
  tiers: readonly string[],
  digestOf: (imageName: string) => string,
): Promise<void> {
  for (const tier of tiers) {
    const file = join(dir, `k8s/overlays/${tier}/kustomization.yaml`);
    const text = await readFile(file, "utf8");
    const edits = readPins(text, file).map((pin) => ({
      index: pin.index,
      digest: digestOf(pin.name),
    }));
    await writeFile(file, setPins(text, edits, file));
  }
}
