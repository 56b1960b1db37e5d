/**
 * The migration step through an injected runner (no cluster here): it follows the Job until
 * Complete or Failed, stops at its bound when the Job never finishes, and reports a status it
 * cannot read as a failure, never as done.
 */
import { describe, expect, it } from "vitest";
import { memorySink, Reporter } from "../../../../pipelines/src/core/log.ts";
import type { KubeObject } from "../../../../pipelines/src/core/manifests/index.ts";
import {
  migrationMarginSeconds,
  migrationPollSeconds,
  runMigrationJob,
} from "../../../../pipelines/src/engines/host/migration-job.ts";
import type { Invocation, ToolResult } from "../../../../pipelines/src/tools/invocation.ts";

const job: KubeObject = {
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: {
    name: "shop-x-db-migrate",
    namespace: "shop-x",
    labels: { "app.kubernetes.io/component": "migration" },
  },
  spec: { activeDeadlineSeconds: 10 },
};
const deployment: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "shop-x-db", namespace: "shop-x" },
};
const ok = (stdout = ""): ToolResult => ({ stdout, stderr: "", exitCode: 0 });

function cluster(status: () => ToolResult) {
  const calls: string[] = [];
  const run = async (i: Invocation): Promise<ToolResult> => {
    const args = i.args.slice(2);
    calls.push(`${args[0]} ${args[1]}`);
    if (args[0] === "get") return status();
    if (args[0] === "logs") return ok("boom: relation missing\n");
    return ok();
  };
  return { calls, run };
}

function step(run: (i: Invocation) => Promise<ToolResult>, clock?: { t: number }) {
  const sleeps: number[] = [];
  return {
    sleeps,
    outcome: runMigrationJob({
      objects: [deployment, job],
      access: {},
      run,
      reporter: new Reporter({ sink: memorySink() }),
      tier: "x",
      sleep: async (ms) => {
        sleeps.push(ms);
        if (clock) clock.t += ms;
      },
      ...(clock ? { now: () => clock.t } : {}),
    }),
  };
}

describe("the migration Job step (injected runner, no cluster here)", () => {
  it("is skipped when the overlay renders no migration Job", async () => {
    const c = cluster(() => ok());
    const outcome = await runMigrationJob({
      objects: [deployment],
      access: {},
      run: c.run,
      reporter: new Reporter({ sink: memorySink() }),
      tier: "x",
      sleep: async () => {},
    });
    expect(outcome.steps).toEqual([expect.objectContaining({ outcome: "skipped" })]);
    expect(c.calls).toEqual([]);
  });

  it("never applies anything but the Job and what it reads", async () => {
    const applied: string[] = [];
    const run = async (i: Invocation) => {
      if (i.args.includes("apply")) applied.push(i.stdin ?? "");
      if (i.args.includes("get"))
        return ok(
          JSON.stringify({
            kind: "Job",
            status: { conditions: [{ type: "Complete", status: "True" }] },
          }),
        );
      return ok();
    };
    const { outcome } = step(run);
    expect((await outcome).failure).toBeUndefined();
    expect(applied.join("\n")).toContain("kind: Job");
    expect(applied.join("\n")).not.toContain("kind: Deployment");
  });

  it("stops at activeDeadlineSeconds plus the margin when the Job never finishes, with its logs", async () => {
    const c = cluster(() => ok(JSON.stringify({ kind: "Job", status: { active: 1 } })));
    const clock = { t: 0 };
    const { outcome, sleeps } = step(c.run, clock);
    const { failure } = await outcome;
    const limit = 10 + migrationMarginSeconds;
    expect(failure?.message).toContain(`did not finish within ${limit}s`);
    expect(failure?.message).toContain("boom: relation missing");
    expect(sleeps.length).toBe(limit / migrationPollSeconds);
    expect(c.calls.at(-1)).toBe("logs job/shop-x-db-migrate");
  });

  it("the read bound holds even when the clock does not move", async () => {
    const c = cluster(() => ok(JSON.stringify({ kind: "Job", status: { active: 1 } })));
    const { outcome, sleeps } = step(c.run, { t: 0 });
    await outcome;
    const frozen = step(c.run);
    const { failure } = await frozen.outcome;
    expect(failure?.message).toMatch(/did not finish/);
    expect(frozen.sleeps.length).toBeLessThanOrEqual(sleeps.length);
  });

  it("a status it cannot read is a failure with the cause, not a success", async () => {
    const c = cluster(() => ({
      stdout: "",
      stderr: "error: You must be logged in to the server (Unauthorized)",
      exitCode: 1,
    }));
    const { failure } = await step(c.run).outcome;
    expect(failure?.message).toMatch(/could not read job\/shop-x-db-migrate \(unauthorized\)/);
    expect((failure?.cause as { kind?: string } | undefined)?.kind).toBe("unauthorized");
  });
});
