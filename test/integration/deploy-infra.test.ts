/**
 * `tiers deploy` of a tier whose infra.apply is with-deploy: migration Job → the saved infra
 * plan → rollout → smoke, in that order (the design's deploy order). terraform is the real one,
 * on the provider-free fixture root test/fixtures/infra/local (terraform_data only, local state)
 * in a temp git repository, so the plan, its digest, the commit check, the approvals gate and
 * the releases/infra/ record are engines/host/infra.ts's own. The cluster is the fake one of
 * test/support/fake-cluster.ts (argument vectors only: no cluster can run here).
 */
import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EnvironmentModel, loadModel } from "../../pipelines/src/core/environment/index.ts";
import { memorySink, Reporter } from "../../pipelines/src/core/log.ts";
import { DeployError, deployTier } from "../../pipelines/src/engines/host/deploy.ts";
import {
  type DeployVerifier,
  overlayPins,
  readOverlay,
} from "../../pipelines/src/engines/host/deploy-verify.ts";
import {
  type InfraRunner,
  infraEnv,
  infraHostRunner,
  planInfra,
} from "../../pipelines/src/engines/host/infra.ts";
import type { Invocation } from "../../pipelines/src/tools/invocation.ts";
import { FakeCluster, pinOverlays } from "../support/fake-cluster.ts";

import { git, infraTestEnv } from "../support/infra.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tier = "staging"; // the sample's rolling Kubernetes tier whose approvals are the CI environment's
let model: EnvironmentModel;
let work: string;

const env = (extra: NodeJS.ProcessEnv = {}) => infraTestEnv("deploy-infra-test", extra);
const inCi = () => env({ GITHUB_ACTIONS: "true", GITHUB_ENVIRONMENT: tier });

/** The shipped model with the tier's state local and its infrastructure applied by the deploy. */
function withDeploy(): EnvironmentModel {
  const m = structuredClone(model);
  m.tiers[tier]!.infra = {
    state: { backend: "local", path: `.tiers/infra/${tier}.tfstate` },
    apply: "with-deploy",
  };
  return m;
}

/** A temp repository: the sample's k8s/ with digests pinned, and the fixture terraform/. */
async function repo(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(root, "k8s"), join(dir, "k8s"), { recursive: true });
  await pinOverlays(
    dir,
    [tier],
    (image) => `sha256:${(image.endsWith("/api") ? "a1" : "b2").repeat(32)}`,
  );
  await cp(join(root, "test/fixtures/infra/local"), join(dir, "terraform"), { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.email", "deploy-infra-test@example.invalid");
  git(dir, "config", "user.name", "deploy infra test");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "fixture");
  return dir;
}

/** Pins as a promotion leaves them: these tests are about the steps after verification. */
const pinsHold =
  (dir: string): DeployVerifier =>
  async (t, m) =>
    overlayPins(m, t, await readOverlay(dir, t)).map((pin) => ({
      ...pin,
      passage: { ok: true, why: "recorded (stand-in)" },
      rejection: { state: "absent", file: "releases/rejections/" },
      signature: { ok: true, why: "verifies (stand-in)" },
    }));

/**
 * Deploys `tier` from `dir` with one timeline of every cluster and terraform call, in the order
 * they ran. `terraform` wraps the real terraform (a test may make one call fail).
 */
async function deploy(
  dir: string,
  options: {
    env?: NodeJS.ProcessEnv;
    m?: EnvironmentModel;
    dryRun?: boolean;
    /** Stands in for an engine that cannot reach a saved plan (the Dagger deploy passes this). */
    unavailable?: string;
    terraform?: (i: Invocation, real: InfraRunner) => ReturnType<InfraRunner>;
  } = {},
) {
  const cluster = new FakeCluster(dir);
  const timeline: string[] = [];
  const sink = memorySink();
  const e = options.env ?? inCi();
  const real = infraHostRunner(dir, infraEnv(e));
  const promise = deployTier({
    root: dir,
    tier,
    model: options.m ?? withDeploy(),
    reporter: new Reporter({ sink }),
    verify: pinsHold(dir),
    sleep: async () => {},
    dryRun: Boolean(options.dryRun),
    run: async (invocation) => {
      const result = await cluster.run(invocation);
      if (invocation.args[0] !== "kustomize") timeline.push(`kubectl ${cluster.lines().at(-1)}`);
      return result;
    },
    infra: options.unavailable
      ? { unavailable: options.unavailable }
      : {
          env: e,
          run: async (invocation) => {
            timeline.push(`terraform ${invocation.args[0]}`);
            return options.terraform ? options.terraform(invocation, real) : real(invocation);
          },
        },
  });
  const outcome = await promise.then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { ...outcome, cluster, timeline, text: () => [...sink.lines, ...sink.errors].join("\n") };
}

async function plan(dir: string): Promise<void> {
  const sink = memorySink();
  await planInfra({
    root: dir,
    tier,
    model: withDeploy(),
    reporter: new Reporter({ sink }),
    env: env(),
  });
}

async function infraRecords(dir: string): Promise<string[]> {
  const files = git(dir, "ls-tree", "-r", "--name-only", "HEAD", `releases/infra/${tier}`)
    .split("\n")
    .filter(Boolean);
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), "utf8")));
  return texts.map((t) => /^outcome: (\S+)/m.exec(t)?.[1] ?? "?").sort();
}

/** The workload calls of a deploy: everything after the migration step. */
const rollout = [
  "kubectl apply --dry-run=server 19 objects",
  "kubectl apply 19 objects",
  `kubectl rollout status deployment/tiers-${tier}-api`,
  `kubectl rollout status deployment/tiers-${tier}-worker`,
];
const migration = [
  `kubectl delete job tiers-${tier}-api-migrate`,
  "kubectl apply 6 objects",
  `kubectl get job tiers-${tier}-api-migrate`,
];

beforeAll(async () => {
  model = await loadModel(root);
  work = await mkdtemp(join(tmpdir(), "tiers-deploy-infra-"));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("deploy with infra.apply: with-deploy (real terraform, fake cluster: argument vectors only)", () => {
  it("runs the migration Job, then applies the saved plan, then rolls out and smoke-checks", async () => {
    const dir = await repo("order");
    await plan(dir);
    const { result, error, timeline } = await deploy(dir);
    expect(error).toBeUndefined();
    expect(result!.outcome).toBe("deployed");
    expect(timeline.slice(0, 9)).toEqual([
      ...migration,
      "terraform init",
      "terraform apply",
      ...rollout,
    ]);
    expect(timeline.slice(9).every((l) => l.startsWith("kubectl GET "))).toBe(true);
    expect(result!.steps.map((s) => `${s.name} ${s.outcome}`).slice(0, 2)).toEqual([
      `migrations job/tiers-${tier}-api-migrate ok`,
      "infra apply ok",
    ]);
    // The same apply as `tiers infra apply`: the tier's state written, the run recorded, the plan spent.
    const state = JSON.parse(await readFile(join(dir, `.tiers/infra/${tier}.tfstate`), "utf8"));
    expect(state.resources.map((r: { type: string }) => r.type)).toContain("terraform_data");
    expect(await infraRecords(dir)).toEqual(["applied", "planned"]);
    await expect(stat(join(dir, `.tiers/infra/${tier}.tfplan`))).rejects.toThrow();
  });

  it("without a saved plan it leaves the infrastructure as it is and deploys", async () => {
    const dir = await repo("no-plan");
    const { result, timeline, text } = await deploy(dir);
    expect(result!.outcome).toBe("deployed");
    expect(timeline.some((l) => l.startsWith("terraform"))).toBe(false);
    expect(result!.steps[1]).toEqual({
      name: "infra apply",
      outcome: "skipped",
      detail: "no saved plan",
    });
    expect(text()).toContain("infra: no saved plan");
  });

  it("a refused apply (approvals gate: not in the tier's CI environment) stops before any Deployment changes", async () => {
    const dir = await repo("refused");
    await plan(dir);
    const { error, timeline, cluster } = await deploy(dir, { env: env() });
    expect(error).toBeInstanceOf(DeployError);
    const message = (error as DeployError).message;
    expect(message).toMatch(
      /infrastructure apply failed, so nothing of the application rolled out: apply refused: approvals:/,
    );
    expect(message).toContain(
      `Already done by this deploy: migrations job/tiers-${tier}-api-migrate`,
    );
    expect(message).toContain("terraform applied nothing");
    expect(timeline).toEqual(migration); // not even terraform init: the gate comes first
    expect(
      cluster.lines().some((l) => l.startsWith("apply --dry-run") || l.startsWith("rollout")),
    ).toBe(false);
    expect((error as DeployError).result.steps.at(-1)).toMatchObject({
      name: "infra apply",
      outcome: "failed",
    });
    expect(await infraRecords(dir)).toEqual(["planned", "refused"]);
  });

  it("a terraform apply that fails part-way stops the deploy and says what may have been applied", async () => {
    const dir = await repo("apply-fails");
    await plan(dir);
    const { error, timeline } = await deploy(dir, {
      terraform: async (invocation, real) =>
        invocation.args[0] === "apply"
          ? {
              exitCode: 1,
              stdout: "",
              stderr: "Error: creating terraform_data.app: quota exceeded",
            }
          : real(invocation),
    });
    const message = (error as DeployError).message;
    expect(message).toMatch(/terraform apply failed \(exit 1\)/);
    expect(message).toContain(
      `terraform apply exited 1 part-way: what it reached is in the tier's Terraform state, and the attempt is recorded under releases/infra/${tier}/`,
    );
    expect(timeline).toEqual([...migration, "terraform init", "terraform apply"]);
    expect(await infraRecords(dir)).toEqual(["failed", "planned"]);
  });

  it("a plan saved from an earlier commit is refused, not applied, and nothing rolls out", async () => {
    const dir = await repo("stale");
    await plan(dir);
    const file = join(dir, "terraform/live/staging.tfvars");
    await writeFile(file, (await readFile(file, "utf8")).replace('"r1"', '"r2"'));
    git(dir, "commit", "-qam", "change the tier's values");
    const { error, timeline } = await deploy(dir);
    expect((error as DeployError).message).toMatch(
      /the saved plan was made from [0-9a-f]{12}, not the current commit/,
    );
    expect(timeline).toEqual(migration);
  });

  it("a tier on infra.apply: separate (the default) never runs terraform in the deploy", async () => {
    const dir = await repo("separate");
    const m = withDeploy();
    m.tiers[tier]!.infra = { state: { backend: "local", path: `.tiers/infra/${tier}.tfstate` } };
    await planInfra({
      root: dir,
      tier,
      model: m,
      reporter: new Reporter({ sink: memorySink() }),
      env: env(),
    });
    const { result, timeline } = await deploy(dir, { m });
    expect(result!.outcome).toBe("deployed");
    expect(timeline.some((l) => l.startsWith("terraform"))).toBe(false);
    expect(result!.steps.some((s) => s.name === "infra apply")).toBe(false);
    await stat(join(dir, `.tiers/infra/${tier}.tfplan`)); // still there for the infra job
  });

  it("--dry-run says which saved plan the deploy would apply, and runs nothing", async () => {
    const dir = await repo("dry-run");
    await plan(dir);
    const { result, timeline, text } = await deploy(dir, { dryRun: true });
    expect(result!.outcome).toBe("dry-run");
    expect(timeline).toEqual([]);
    expect(text()).toMatch(
      /plan: infra: applies the saved plan sha256:[0-9a-f]{12} after the migrations/,
    );
    expect(text()).toMatch(/plan: infra: .*3 to add, 0 to change, 0 to destroy/);
  });

  it("an engine without the saved plan (the Dagger deploy, stood in here) refuses instead of deploying without it", async () => {
    const dir = await repo("unavailable");
    await plan(dir);
    const { error, timeline } = await deploy(dir, {
      unavailable: "the Dagger deploy receives no saved plan",
    });
    expect((error as DeployError).message).toMatch(
      /this engine cannot apply infrastructure: the Dagger deploy receives no saved plan.*terraform did not run/,
    );
    expect(timeline).toEqual(migration);
  });

  it("a saved plan summary that is not JSON fails closed: the dry run says it would refuse, the deploy stops before the rollout", async () => {
    const dir = await repo("malformed");
    await plan(dir);
    await writeFile(join(dir, `.tiers/infra/${tier}.plan.json`), "{ not json");
    const dry = await deploy(dir, { dryRun: true });
    expect(dry.text()).toContain(
      `plan: infra: refuses, the saved plan summary .tiers/infra/${tier}.plan.json is malformed`,
    );
    const { error, timeline } = await deploy(dir);
    expect((error as DeployError).message).toMatch(
      /the saved plan summary is malformed.*terraform applied nothing/,
    );
    expect(timeline).toEqual(migration);
  });
});
