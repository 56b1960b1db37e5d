/**
 * `tiers infra plan|apply` on the real terraform, offline, with provider-free fixture roots
 * (test/fixtures/infra/local: terraform_data only, local state) in temp git repositories, and a
 * fixture that needs hashicorp/aws (test/fixtures/infra/offline), which cannot be downloaded
 * here, for the "provider unavailable" path. Summaries are read from the real
 * `terraform show -json` (https://developer.hashicorp.com/terraform/internals/json-format).
 */
import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type EnvironmentModel, loadModel } from "../../pipelines/src/core/environment/index.ts";
import { planFilePath, summaryPath } from "../../pipelines/src/core/infra/plan.ts";
import { memorySink, Reporter } from "../../pipelines/src/core/log.ts";
import { applyInfra, planInfra } from "../../pipelines/src/engines/host/infra.ts";

import { git, infraTestEnv } from "../support/infra.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = join(root, "test/fixtures/infra");
let work: string;
let model: EnvironmentModel;

const env = (extra: NodeJS.ProcessEnv = {}) => infraTestEnv("infra-test", extra);

/** A temp repository whose terraform/ is one fixture root, committed. */
async function repoWith(fixture: "local" | "offline", name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(fixtures, fixture), join(dir, "terraform"), { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.email", "infra-test@example.invalid");
  git(dir, "config", "user.name", "infra test");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "fixture");
  return dir;
}

/** The shipped model with every tier's state local (fixtures have no S3). */
function localModel(): EnvironmentModel {
  const m = structuredClone(model);
  for (const tier of ["dev", "staging", "prod"]) {
    m.tiers[tier]!.infra = { state: { backend: "local", path: `.tiers/infra/${tier}.tfstate` } };
  }
  return m;
}

function run(dir: string, tier: string, extra: NodeJS.ProcessEnv = {}, m = localModel()) {
  const sink = memorySink();
  const options = {
    root: dir,
    tier,
    model: m,
    reporter: new Reporter({ sink }),
    env: env(extra),
    now: () => new Date(),
  };
  return { options, sink, text: () => [...sink.lines, ...sink.errors].join("\n") };
}

async function records(dir: string, tier: string) {
  const files = git(dir, "ls-tree", "-r", "--name-only", "HEAD", `releases/infra/${tier}`)
    .split("\n")
    .filter(Boolean);
  return Promise.all(
    files.map(async (f) => parse(await readFile(join(dir, f), "utf8")) as Record<string, unknown>),
  );
}

async function commitChange(dir: string, file: string, from: string, to: string) {
  const path = join(dir, file);
  await writeFile(path, (await readFile(path, "utf8")).replace(from, to));
  git(dir, "commit", "-qam", `change ${file}`);
}

beforeAll(async () => {
  model = await loadModel(root);
  work = await mkdtemp(join(tmpdir(), "tiers-infra-"));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("tiers infra on the real terraform (provider-free fixtures, local state)", () => {
  it("plan saves the plan and a per-resource summary from show -json, prints it with the marker and budget, and commits a record", async () => {
    const dir = await repoWith("local", "plan");
    const head = git(dir, "rev-parse", "HEAD");
    const { options, text } = run(dir, "dev");
    const result = await planInfra(options);
    expect(result.outcome).toBe("planned");
    if (result.outcome !== "planned") return;
    expect(result.summary.commit).toBe(head);
    expect(result.summary.counts).toEqual({ add: 3, change: 0, destroy: 0, replace: 0 });
    expect(result.summary.resources.map((r) => `${r.effect} ${r.address}`)).toEqual([
      "add terraform_data.app",
      'add terraform_data.secrets["database_url"]',
      "add module.state.terraform_data.bucket",
    ]);
    expect(result.summary.budget).toEqual({ monthly_usd: 100, alert_thresholds: [50, 80, 100] });
    await stat(join(dir, planFilePath("dev")));
    const saved = JSON.parse(await readFile(join(dir, summaryPath("dev")), "utf8"));
    expect(saved.plan_digest).toBe(result.summary.plan_digest);
    expect(text()).toMatch(/3 to add, 0 to change, 0 to destroy/);
    expect(text()).toContain("budget: 100 USD/month, alerts at 50%, 80%, 100%");
    expect(text()).toContain(model.tiers.dev!.marker);
    const [record] = await records(dir, "dev");
    expect(record).toMatchObject({
      kind: "infra-plan",
      outcome: "planned",
      commit: head,
      by: "infra-test",
    });
    // The record is the only change: the plan's inputs are still the planned commit's.
    expect(git(dir, "diff", "--name-only", head, "HEAD")).toMatch(/^releases\/infra\/dev\//);
  });

  it("apply runs the saved plan (no approvals in dev), writes the tier's own state, records it and spends the plan", async () => {
    const dir = await repoWith("local", "apply");
    await planInfra(run(dir, "dev").options);
    const { options, text } = run(dir, "dev");
    const result = await applyInfra(options);
    expect(result.gates.map((g) => `${g.gate} ${g.ok}`)).toEqual([
      "approvals true",
      "protected-resources true",
    ]);
    const state = JSON.parse(await readFile(join(dir, ".tiers/infra/dev.tfstate"), "utf8"));
    expect(state.resources.map((r: { type: string }) => r.type)).toContain("terraform_data");
    expect((await records(dir, "dev")).map((r) => r.outcome).sort()).toEqual([
      "applied",
      "planned",
    ]);
    await expect(stat(join(dir, planFilePath("dev")))).rejects.toThrow();
    expect(text()).toContain("applied sha256:");
    // Nothing left to apply: the next apply asks for a plan.
    await expect(applyInfra(run(dir, "dev").options)).rejects.toThrow(/no saved plan for dev/);
  });

  it("apply refuses a plan made from an earlier commit", async () => {
    const dir = await repoWith("local", "stale");
    await planInfra(run(dir, "dev").options);
    await commitChange(dir, "terraform/live/dev.tfvars", '"r1"', '"r2"');
    await expect(applyInfra(run(dir, "dev").options)).rejects.toThrow(
      /made from [0-9a-f]{12}, not the current commit .*changed since: terraform\/live\/dev.tfvars/,
    );
    await expect(stat(join(dir, ".tiers/infra/dev.tfstate"))).rejects.toThrow();
  });

  it("apply waits for the tier's approvals gate (staging: the CI environment), recording the refusal", async () => {
    const dir = await repoWith("local", "approvals");
    await planInfra(run(dir, "staging").options);
    await expect(applyInfra(run(dir, "staging").options)).rejects.toThrow(
      /apply refused: approvals: needs 1 approval\(s\) from the CI environment "staging"/,
    );
    expect((await records(dir, "staging")).map((r) => r.outcome).sort()).toEqual([
      "planned",
      "refused",
    ]);
    await expect(stat(join(dir, ".tiers/infra/staging.tfstate"))).rejects.toThrow();
    const inCi = { GITHUB_ACTIONS: "true", GITHUB_ENVIRONMENT: "staging" };
    const result = await applyInfra(run(dir, "staging", inCi).options);
    expect(result.gates[0]).toMatchObject({ gate: "approvals", ok: true });
  });

  it("apply refuses a plan that replaces the state module's resources, and changes nothing", async () => {
    const dir = await repoWith("local", "protected");
    await planInfra(run(dir, "dev").options);
    await applyInfra(run(dir, "dev").options);
    const before = await readFile(join(dir, ".tiers/infra/dev.tfstate"), "utf8");
    await commitChange(dir, "terraform/live/dev.tfvars", '"r1"', '"r1"\nstate_generation = "2"');
    const planned = await planInfra(run(dir, "dev").options);
    if (planned.outcome !== "planned") throw new Error("expected a plan");
    expect(planned.summary.resources).toEqual([
      {
        address: "module.state.terraform_data.bucket",
        effect: "replace",
        protected: "it holds the tier's Terraform state (module.state)",
      },
    ]);
    await expect(applyInfra(run(dir, "dev").options)).rejects.toThrow(
      /apply refused: protected-resources: destroys or replaces module.state.terraform_data.bucket \(replace/,
    );
    expect(await readFile(join(dir, ".tiers/infra/dev.tfstate"), "utf8")).toBe(before);
  });

  it("plan refuses tfvars whose secret names differ from the tier config's secrets", async () => {
    const dir = await repoWith("local", "drift");
    await commitChange(
      dir,
      "terraform/live/dev.tfvars",
      '["database_url"]',
      '["database_url", "api_token"]',
    );
    await expect(planInfra(run(dir, "dev").options)).rejects.toThrow(
      /tfvars secret_names \[api_token, database_url\] differ from the tier config's secrets \[database_url\]/,
    );
    await expect(stat(join(dir, planFilePath("dev")))).rejects.toThrow();
  });

  it("plan refuses uncommitted changes to its inputs", async () => {
    const dir = await repoWith("local", "dirty");
    await writeFile(join(dir, "terraform/live/dev.tfvars"), 'tier = "dev"\n');
    await expect(planInfra(run(dir, "dev").options)).rejects.toThrow(/uncommitted changes/);
  });
});

describe("tiers infra plan where the provider cannot be downloaded (no Terraform registry here)", () => {
  it("names the provider, still checks the tier's values with modules/tier, prints the budget, saves no plan", async () => {
    const dir = await repoWith("offline", "offline");
    const { options, text } = run(dir, "prod");
    const result = await planInfra(options);
    expect(result.outcome).toBe("checked-offline");
    if (result.outcome !== "checked-offline") return;
    expect(result.providers).toEqual(["hashicorp/aws"]);
    expect(result.checked).toEqual([
      "terraform fmt -check of terraform/",
      "modules/tier validation (guard rails) of prod.tfvars",
      "secret_names = the secrets of environments/prod.yaml",
    ]);
    expect(result.budget).toEqual({ monthly_usd: 3000, alert_thresholds: [] });
    expect(text()).toMatch(/could not download provider hashicorp\/aws .*NOT planned/);
    await expect(stat(join(dir, planFilePath("prod")))).rejects.toThrow();
    expect((await records(dir, "prod"))[0]).toMatchObject({
      outcome: "checked-offline",
      plan_digest: null,
    });
  });

  it("the offline check still refuses values modules/tier's guard rails reject", async () => {
    const dir = await repoWith("offline", "offline-bad");
    await commitChange(dir, "terraform/live/prod.tfvars", "= 3000", "= 0");
    await expect(planInfra(run(dir, "prod").options)).rejects.toThrow(
      /budget_monthly_usd must be greater than 0/,
    );
  });
});
