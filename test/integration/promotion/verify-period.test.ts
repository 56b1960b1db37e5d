/**
 * The verification period after a deploy (issue 16, `deploy.verify`) on real git repositories
 * and the real `kubectl kustomize`, with the cluster a fake that answers kubectl's calls as
 * kubectl would and a clock the test sets: no cluster can run here, so these stop at kubectl's
 * argument vectors (the test names say so), and no test waits for real time. Pin facts before
 * each deploy (passage, rejection, signature) are a stand-in here; they run on the real registry
 * and cosign in deploy-verify and the other promotion scenarios.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { type EnvironmentModel, loadModel } from "../../../pipelines/src/core/environment/index.ts";
import { memorySink, Reporter } from "../../../pipelines/src/core/log.ts";
import { parseManifests } from "../../../pipelines/src/core/manifests/index.ts";
import { readPins, setPins } from "../../../pipelines/src/core/promotion/overlay.ts";
import { DeployError, deployTier } from "../../../pipelines/src/engines/host/deploy.ts";
import {
  type DeployVerifier,
  overlayPins,
  readOverlay,
} from "../../../pipelines/src/engines/host/deploy-verify.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { tierStatus } from "../../../pipelines/src/engines/host/promotion/status.ts";
import { runHost } from "../../../pipelines/src/engines/host/run.ts";
import { restoredByPeriod } from "../../../pipelines/src/engines/host/verify-period.ts";
import type { Invocation, ToolResult } from "../../../pipelines/src/tools/invocation.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  configure,
  ensureBusybox,
  git,
  makeRepo,
  overlayDigests,
  passTest,
  publishArtefact,
  type Repo,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

const repos: Repo[] = [];
afterAll(async () => {
  for (const r of repos) await r.remove();
});

const minute = 60_000;
const release = (n: string) => ({
  api: `sha256:${n.repeat(64)}`,
  worker: `sha256:${String.fromCharCode(n.charCodeAt(0) + 1).repeat(64)}`,
});
const A = release("a");
const B = release("c");
const C = release("e");

/** A clock the test owns: `sleep` advances it instead of waiting. */
class Clock {
  constructor(public ms = Date.parse("2026-03-02T10:00:00.000Z")) {}
  now = () => new Date(this.ms);
  sleep = async (ms: number) => {
    this.ms += ms;
  };
}

/** The kubectl calls a rolling deploy makes, answered as kubectl would; health by the clock. */
class FakeCluster {
  readonly calls: string[] = [];
  /** When (clock ms) the health endpoints start failing; undefined: never. */
  failFrom: number | undefined;
  /** Only while the applied manifests name this digest (undefined: whatever runs). */
  failWith: string | undefined;
  /** The manifests of the last real apply: what runs. */
  running = "";
  smokes = 0;
  /** Colour the live blue-green Service selects; undefined: it does not exist yet. */
  liveColour: string | undefined;
  /** The Services each health check went through. */
  readonly via: string[] = [];
  constructor(
    private readonly root: string,
    private readonly clock: Clock,
  ) {}
  run = async (invocation: Invocation): Promise<ToolResult> => {
    if (invocation.args[0] === "kustomize")
      return runHost(invocation, { root: this.root, reject: false });
    const args = invocation.args.slice(2).filter((a) => !a.startsWith("--"));
    const ok = (stdout: string): ToolResult => ({ stdout, stderr: "", exitCode: 0 });
    this.calls.push(args.slice(0, 3).join(" "));
    if (args[0] === "apply") {
      if (!invocation.args.includes("--dry-run=server")) this.running = invocation.stdin ?? "";
      const objects = parseManifests(invocation.stdin ?? "", "stdin");
      return ok(
        objects
          .map((o) => `${o.kind.toLowerCase()}/${o.metadata.name} serverside-applied`)
          .join("\n"),
      );
    }
    if (args[0] === "rollout") return ok(`${args[2]} ok`);
    if (args[0] === "delete" || args[0] === "logs") return ok("");
    if (args[0] === "get" && args[1] === "job") {
      return ok(
        JSON.stringify({
          kind: "Job",
          status: { conditions: [{ type: "Complete", status: "True" }] },
        }),
      );
    }
    if (args[0] === "get" && args[1] === "service" && this.liveColour) {
      return ok(
        JSON.stringify({
          kind: "Service",
          metadata: { name: args[2] },
          spec: { selector: { "app.kubernetes.io/name": "api", color: this.liveColour } },
        }),
      );
    }
    if (args[0] === "patch" && args[1] === "service") {
      const patch = invocation.args[invocation.args.indexOf("--patch") + 1]!;
      this.liveColour = (
        JSON.parse(patch) as { spec: { selector: { color: string } } }
      ).spec.selector.color;
      return ok(`service/${args[2]} patched`);
    }
    if (args[0] === "get" && args[1] === "service") {
      return {
        stdout: "",
        stderr: `Error from server (NotFound): services "${args[2]}" not found`,
        exitCode: 1,
      };
    }
    if (args[0] === "get" && invocation.args.includes("--raw")) {
      this.smokes++;
      this.via.push(/\/services\/([^:/]+)/.exec(args[1] ?? "")?.[1] ?? "?");
      const failing = this.failWith === undefined || this.running.includes(this.failWith);
      if (this.failFrom !== undefined && this.clock.ms >= this.failFrom && failing) {
        return {
          stdout: "",
          stderr:
            "Error from server (ServiceUnavailable): the server is currently unable to handle the request",
          exitCode: 1,
        };
      }
      return ok("ok");
    }
    return { stdout: "", stderr: `fake cluster: unexpected call ${args.join(" ")}`, exitCode: 1 };
  };
  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
}

/** Passage recorded, not rejected, signed: a stand-in for the facts (see the file comment). */
const pinsHold =
  (root: string): DeployVerifier =>
  async (tier, m) =>
    overlayPins(m, tier, await readOverlay(root, tier)).map((pin) => ({
      ...pin,
      passage: { ok: true, why: "recorded (stand-in)" },
      rejection: { state: "absent", file: "releases/rejections/" },
      signature: { ok: true, why: "verifies (stand-in)" },
    }));

/** Pins a release in staging's overlay and commits it, as a promotion would. */
async function pin(
  root: string,
  pins: { api: string; worker: string },
  tier = "staging",
): Promise<void> {
  const file = join(root, "k8s", "overlays", tier, "kustomization.yaml");
  const text = await readFile(file, "utf8");
  const current = readPins(text, "overlay");
  const edits = current.map((p) => ({
    index: p.index,
    digest: p.name.endsWith("worker") || p.newName?.endsWith("worker") ? pins.worker : pins.api,
  }));
  await writeFile(file, setPins(text, edits, "overlay"));
  git(root, "commit", "-qam", `promote ${tier}: ${pins.api.slice(7, 15)}`);
}

async function stagingRepo(verify: object | undefined = { for: "10m", every: "30s" }) {
  const r = await makeRepo(async (root) => {
    if (verify) await configure(root, "staging.yaml", ["deploy", "verify"], verify);
  });
  repos.push(r);
  return r.root;
}

async function deploy(root: string, clock: Clock, cluster: FakeCluster, tier = "staging") {
  const sink = memorySink();
  const run = deployTier({
    root,
    tier,
    model: await loadModel(root),
    run: cluster.run,
    verify: pinsHold(root),
    reporter: new Reporter({ sink }),
    sleep: clock.sleep,
    now: clock.now,
    period: { env: cleanEnv() },
  });
  return { run, sink };
}

async function failure(promise: Promise<unknown>): Promise<DeployError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeployError);
  return error as DeployError;
}

function files(root: string, dir: string): string[] {
  return git(root, "ls-tree", "-r", "--name-only", "HEAD", dir).split("\n").filter(Boolean);
}

async function recordAt(root: string, file: string) {
  return parse(git(root, "show", `HEAD:${file}`));
}

describe("verification period (injected clock, real git and kustomize; fake cluster, no cluster here)", () => {
  it("checks every 30s for 10m, then records the pins as verified in git", async () => {
    const root = await stagingRepo();
    await pin(root, A);
    const deployed = git(root, "rev-parse", "HEAD");
    const clock = new Clock();
    const cluster = new FakeCluster(root, clock);
    const { run, sink } = await deploy(root, clock, cluster);
    const result = await run;

    expect(result.outcome).toBe("deployed");
    expect(clock.ms - Date.parse("2026-03-02T10:00:00.000Z")).toBe(10 * minute);
    const [file] = files(root, "releases/verifications/staging");
    expect(file).toBe(
      `releases/verifications/staging/20260302T101000Z-${deployed.slice(0, 12)}.yaml`,
    );
    expect(result.verification).toEqual({ outcome: "verified", record: file, checksRun: 20 });
    const record = await recordAt(root, file!);
    expect(record).toMatchObject({
      kind: "verification",
      tier: "staging",
      commit: deployed,
      pins: [
        { service: "api", digest: A.api },
        { service: "worker", digest: A.worker },
      ],
      period: { for: "10m", every: "30s" },
      started_at: "2026-03-02T10:00:00.000Z",
      ended_at: "2026-03-02T10:10:00.000Z",
      checks_run: 20,
      recorded_by: "promotion-test",
    });
    // The deploy's own smoke run plus 20 period runs, each checking every health path once.
    const perRun = record.checks.length;
    expect(cluster.smokes).toBe(21 * perRun);
    expect(git(root, "log", "-1", "--format=%s")).toMatch(/^verify staging: api sha256:aaaa/);
    expect(sink.lines.join("\n")).toMatch(/✓ verified: api sha256:aaaa/);
  });

  it("a check failing in minute 3 of 10 restores the last verified pins, not the previous ones, and deploys them", async () => {
    const root = await stagingRepo();
    const clock = new Clock();
    const cluster = new FakeCluster(root, clock);
    await pin(root, A);
    await (await deploy(root, clock, cluster)).run; // A verified
    await pin(root, B); // B deployed without a period: previous, never verified
    await (
      await deployTier({
        root,
        tier: "staging",
        model: await loadModel(root),
        run: cluster.run,
        verify: pinsHold(root),
        reporter: new Reporter({ sink: memorySink() }),
        sleep: clock.sleep,
        now: clock.now,
        period: { skip: true },
      })
    ).outcome;
    await pin(root, C);
    const start = clock.ms;
    cluster.failFrom = start + 2 * minute; // minute 3 of the period: 2:00 to 2:59
    cluster.failWith = C.api; // the restored release is healthy
    const applies = cluster.count("apply");
    const { run, sink } = await deploy(root, clock, cluster);
    const error = await failure(run);

    expect(error.message).toMatch(
      /^verification period failed in minute 3 of 10m every 30s: api (liveness|readiness) GET \/\S+ via tiers-staging-api: unavailable; rolled back to the last verified release \(api sha256:aaaa/,
    );
    expect(error.result.outcome).toBe("rolled-back");
    expect(error.result.verification).toMatchObject({ outcome: "failed", minute: 3 });
    // The overlay holds A again (B was merely the previous pins), committed as a rollback.
    expect(await overlayDigests(root, "staging")).toEqual([A.api, A.worker]);
    expect(git(root, "log", "-1", "--format=%s")).toMatch(/^rollback staging: /);
    const [history] = files(root, "releases/history/staging");
    const rollback = await recordAt(root, history!);
    expect(rollback).toMatchObject({
      kind: "rollback",
      tier: "staging",
      pins: [
        { service: "api", from: C.api, to: A.api },
        { service: "worker", from: C.worker, to: A.worker },
      ],
      failed_check: { minute: 3, period: "10m every 30s" },
    });
    expect(rollback.failed_check.check).toMatch(/^api .* via tiers-staging-api: unavailable$/);
    expect(rollback.reason).toMatch(/^automatic: verification period failed in minute 3/);
    expect(rollback.restored_from).toBe(
      (await recordAt(root, files(root, "releases/verifications/staging")[0]!)).commit,
    );
    // Deployed again (migration Job, server dry run, apply), with no period of its own, and nothing undone.
    expect(cluster.running).toContain(A.api);
    const perDeploy = applies / 2; // A's and B's deploys before this one
    expect(cluster.count("apply")).toBe(applies + 2 * perDeploy);
    expect(cluster.count("rollout undo")).toBe(0);
    expect(files(root, "releases/verifications/staging")).toHaveLength(1);
    expect([...sink.lines, ...sink.errors].join("\n")).toMatch(
      /restored the last verified release/,
    );

    // status shows the pins and the last verified release, and what the last period did.
    const status = await tierStatus({
      root,
      tier: "staging",
      env: cleanEnv(),
      now: clock.now,
      sources: {
        registry: { inspect: async () => ({ ok: false, why: "no registry (stand-in)" }) },
      },
    });
    expect(status.pins.map((p) => p.digest)).toEqual([A.api, A.worker]);
    expect(status.verification).toMatchObject({
      ok: true,
      pins: [
        { service: "api", digest: A.api },
        { service: "worker", digest: A.worker },
      ],
    });
    expect(status.verification!.why).toMatch(
      /^verification period failed in minute 3 of 10m every 30s: api .*; rolled back \(releases\/history\/staging\/.*\); last verified api sha256:aaaaaaaaaaaa, worker sha256:bbbbbbbbbbbb at /,
    );
  });

  it("with no verified release on record it says so and falls back to the tier's automatic rollback", async () => {
    const root = await stagingRepo();
    await pin(root, A);
    const head = git(root, "rev-parse", "HEAD");
    const clock = new Clock();
    const cluster = new FakeCluster(root, clock);
    cluster.failFrom = clock.ms + 30_000;
    const error = await failure((await deploy(root, clock, cluster)).run);
    expect(error.message).toMatch(
      /minute 1 of 10m every 30s: .*; no verified release of staging on record \(releases\/verifications\/staging is empty\); rolled back in the cluster by the tier's automatic rollback/,
    );
    expect(error.result.outcome).toBe("rolled-back");
    expect(cluster.count("rollout undo")).toBe(2);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
  });

  it("a malformed verification record is refused, naming the file; git is left alone", async () => {
    const root = await stagingRepo();
    await pin(root, A);
    const clock = new Clock();
    const cluster = new FakeCluster(root, clock);
    await (await deploy(root, clock, cluster)).run;
    const [file] = files(root, "releases/verifications/staging");
    const text = await readFile(join(root, file!), "utf8");
    await writeFile(join(root, file!), text.replace(/checks_run: \d+/, "checks_run: many"));
    git(root, "commit", "-qam", "hand edit");
    await pin(root, B);
    const head = git(root, "rev-parse", "HEAD");
    cluster.failFrom = clock.ms + 5 * minute;
    const error = await failure((await deploy(root, clock, cluster)).run);
    expect(error.message).toContain(`minute 6 of 10m every 30s: api`);
    expect(error.message).toMatch(
      new RegExp(
        `refusing to restore from the verification records: ${file!.replace(/[.]/g, "\\.")}.*checks_run`,
      ),
    );
    expect((error.cause as DeployError).where).toBe(file);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(await overlayDigests(root, "staging")).toEqual([B.api, B.worker]);
    const status = await runTiers(root, ["env", "staging", "status"], { env: cleanEnv() });
    expect(`${status.stdout}\n${status.stderr}`).toContain(
      `verified: ✗ the last verified release cannot be told: ${file}`,
    );
  });
});

describe("verification period on a blue-green tier (fake cluster, no cluster here)", () => {
  it("checks through the live Service after the switch, and with nothing verified switches traffic back", async () => {
    const r = await makeRepo(async (root) => {
      await configure(root, "prod.yaml", ["deploy", "verify"], { for: "5m", every: "1m" });
    });
    repos.push(r);
    const root = r.root;
    const clock = new Clock();
    const cluster = new FakeCluster(root, clock);
    await pin(root, A, "prod");
    // The first deploy has no colour to switch from; skip its period to leave nothing verified.
    await deployTier({
      root,
      tier: "prod",
      model: await loadModel(root),
      run: cluster.run,
      verify: pinsHold(root),
      reporter: new Reporter({ sink: memorySink() }),
      sleep: clock.sleep,
      now: clock.now,
      period: { skip: true },
    });
    cluster.liveColour = "blue";
    await pin(root, B, "prod");
    cluster.via.length = 0;
    cluster.failFrom = clock.ms + 4 * minute;
    cluster.failWith = B.api;
    const error = await failure((await deploy(root, clock, cluster, "prod")).run);
    expect(error.message).toMatch(
      /^verification period failed in minute 5 of 5m every 1m: \w+ liveness GET \/healthz via tiers-prod-\w+: unavailable; no verified release of prod on record .*; rolled back in the cluster by the tier's automatic rollback$/,
    );
    // The deploy's own checks went through the preview Service, the period's through the live one.
    const live = cluster.via.indexOf("tiers-prod-api");
    expect(cluster.via.slice(0, live)).toContain("tiers-prod-api-preview");
    expect(live).toBeGreaterThan(0);
    expect(cluster.via.slice(live)).not.toContain("tiers-prod-api-preview");
    expect(cluster.liveColour).toBe("blue"); // switched back to the kept colour
    expect(error.result.outcome).toBe("rolled-back");
  });
});

describe("promote with a verification period (real git and registry, injected clock; fake cluster, no cluster here)", () => {
  let first: ArtefactRecord;
  let second: ArtefactRecord;
  beforeAll(async () => {
    await requirePrerequisites();
    await ensureBusybox();
    first = publishArtefact();
    second = publishArtefact();
  });
  afterAll(async () => {
    removeTestImages();
    await removePushedImages();
  });

  it("records the period under the promotion's lock; a failing check restores the last verified release once, and promote stops there", async () => {
    const root = await stagingRepo();
    await writeArtefacts(root, first, second);
    const env = cleanEnv();
    await passTest(root, [first, second], env);
    const clock = new Clock();
    const cluster = new FakeCluster(root, clock);
    // The deploy step as the CLI's deployer runs it: under the lock promote holds.
    const deployer = async (tier: string, model: EnvironmentModel) => {
      const result = await deployTier({
        root,
        tier,
        model,
        run: cluster.run,
        verify: pinsHold(root),
        reporter: new Reporter({ sink: memorySink() }),
        sleep: clock.sleep,
        now: clock.now,
        period: { lockHeld: true, env },
      }).catch(restoredByPeriod);
      return { outcome: "deployed" as const, detail: result.outcome };
    };
    await promote({ root, tier: "staging", commit: first.commit, env, deployer, now: clock.now });
    expect(files(root, "releases/verifications/staging")).toHaveLength(1);

    cluster.failFrom = clock.ms + 2 * minute + 30_000;
    cluster.failWith = second.images.api!.digest;
    await expect(
      promote({ root, tier: "staging", commit: second.commit, env, deployer, now: clock.now }),
    ).rejects.toThrow(
      /^deployed staging, then verification period failed in minute 3 of 10m every 30s: api .*; rolled back to the last verified release/,
    );
    expect(await overlayDigests(root, "staging")).toEqual([
      first.images.api!.digest,
      first.images.worker!.digest,
    ]);
    // One promotion and one rollback commit on top of the first release's verification.
    expect(git(root, "log", "-3", "--format=%s").split("\n")).toEqual([
      expect.stringMatching(/^rollback staging: /),
      expect.stringMatching(/^promote staging: /),
      expect.stringMatching(/^verify staging: /),
    ]);
  });
});
