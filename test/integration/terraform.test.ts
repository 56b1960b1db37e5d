/**
 * terraform/ on the real terraform CLI, offline. What runs for real: `fmt -check` on every file,
 * `init -backend=false` + `validate` + `plan` + a resource-free `apply` of modules/tier (the
 * provider-free module that declares and validates every per-tier knob) with each tier's
 * variable file. What cannot run here: `init`/`validate`/`plan` of terraform/live and of the
 * AWS modules, because the aws provider cannot be downloaded (no Terraform registry access).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EnvironmentModel,
  loadModel,
  resourceName,
} from "../../pipelines/src/core/environment/index.ts";
import { field, parseManifests } from "../../pipelines/src/core/manifests/index.ts";
import { runHost } from "../../pipelines/src/engines/host/run.ts";
import type { Invocation } from "../../pipelines/src/tools/invocation.ts";
import * as kubectl from "../../pipelines/src/tools/kubectl.ts";
import * as terraform from "../../pipelines/src/tools/terraform.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tiers = ["dev", "staging", "prod"] as const;
let model: EnvironmentModel;
let work: string;
/** modules/tier, applied once per tier into its own state: what terraform parsed from the tfvars. */
const settings: Record<string, Record<string, unknown>> = {};
/** modules/tier's `names` output per tier: every resource name it derives. */
const names: Record<string, Record<string, string>> = {};

// The CLI config file this machine points TF_CLI_CONFIG_FILE at may be missing; terraform only
// warns, but a clean environment keeps its stderr to the point.
const env = { TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" };
const run = (invocation: Invocation) =>
  runHost({ ...invocation, env: { ...env, ...(invocation.env ?? {}) } }, { root, reject: false });

async function tierModuleCopy(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(root, "terraform/modules/tier"), dir, { recursive: true });
  const init = await run(terraform.initOffline(dir));
  expect(init.exitCode, init.stderr).toBe(0);
  return dir;
}

beforeAll(async () => {
  model = await loadModel(root);
  work = await mkdtemp(join(tmpdir(), "tiers-terraform-"));
  for (const tier of tiers) {
    const dir = await tierModuleCopy(`apply-${tier}`);
    const applied = await run({
      tool: "terraform",
      args: [
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        `-var-file=${root}terraform/live/${tier}.tfvars`,
      ],
      cwd: dir,
    });
    expect(applied.exitCode, applied.stderr).toBe(0);
    const out = await run(terraform.output(dir, "settings"));
    settings[tier] = JSON.parse(out.stdout) as Record<string, unknown>;
    const named = await run(terraform.output(dir, "names"));
    names[tier] = JSON.parse(named.stdout) as Record<string, string>;
  }
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("terraform on the real CLI (offline)", () => {
  it("every file is canonically formatted (terraform fmt -check -recursive)", async () => {
    const result = await run(terraform.fmtCheck("terraform"));
    expect(terraform.parseFmtCheck(result.stdout)).toEqual([]);
    expect(result.exitCode).toBe(0);
  });

  it("modules/tier initialises without a backend and validates", async () => {
    const dir = await tierModuleCopy("validate");
    const result = await run(terraform.validate(dir));
    const report = terraform.parseValidateJson(result.stdout, "terraform/modules/tier");
    expect(report.diagnostics).toEqual([]);
    expect(report.valid).toBe(true);
  });

  it("modules/tier's own terraform tests pass (names, guard rails refusing bad values)", async () => {
    const dir = await tierModuleCopy("test");
    const result = await run(terraform.test(dir));
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/run "prod_refuses_an_unprotected_database"\.\.\. pass/);
    expect(result.stdout).toMatch(/Success! \d+ passed, 0 failed/);
  });

  it.each(tiers)("%s.tfvars plans cleanly against modules/tier's validation", async (tier) => {
    const dir = await tierModuleCopy(`plan-${tier}`);
    const result = await run({
      tool: "terraform",
      args: ["plan", "-input=false", "-no-color", `-var-file=${root}terraform/live/${tier}.tfvars`],
      cwd: dir,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`namespace       = "tiers-${tier}"`);
  });

  it("refuses prod values without deletion protection and multi-AZ, naming the variables", async () => {
    const dir = await tierModuleCopy("plan-bad-prod");
    const bad = await unprotectedProdVars();
    const result = await run({
      tool: "terraform",
      args: ["plan", "-input=false", "-no-color", `-var-file=${bad}`],
      cwd: dir,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("prod's database must have deletion protection");
    expect(result.stderr).toContain("prod's database must be multi-AZ");
    expect(result.stderr).toContain("prod keeps backups for at least 14 days");
  });

  it("a root passing prod values through is refused by modules/tier's rules (they live only there)", async () => {
    // terraform/live declares no validation of its own: Terraform applies the module's rules to
    // the values the root hands it. The real live/variables.tf and the real `module "tier"`
    // block of live/main.tf, without the provider-backed modules that cannot init here.
    const dir = join(work, "live-tier");
    await cp(join(root, "terraform/live/variables.tf"), join(dir, "variables.tf"));
    await cp(join(root, "terraform/modules/tier"), join(dir, "modules/tier"), { recursive: true });
    const main = await readFile(join(root, "terraform/live/main.tf"), "utf8");
    const block = /^module "tier" \{[\s\S]*?^\}/m.exec(main)?.[0];
    expect(block, 'live/main.tf has a module "tier" block').toBeDefined();
    await writeFile(join(dir, "main.tf"), block!.replace('"../modules/tier"', '"./modules/tier"'));
    const init = await run(terraform.initOffline(dir));
    expect(init.exitCode, init.stderr).toBe(0);
    const plan = (varFile: string) =>
      run({
        tool: "terraform",
        args: ["plan", "-input=false", "-no-color", `-var-file=${varFile}`],
        cwd: dir,
      });
    const good = await plan(`${root}terraform/live/prod.tfvars`);
    expect(good.exitCode, good.stderr).toBe(0);
    const refused = await plan(await unprotectedProdVars());
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain("prod's database must have deletion protection");
    expect(refused.stderr).toContain("prod's database must be multi-AZ");
    expect(refused.stderr).toContain("prod keeps backups for at least 14 days");
  });
});

/** prod.tfvars with the guard-railed database settings turned off, written to a temp file. */
async function unprotectedProdVars(): Promise<string> {
  const text = (await readFile(join(root, "terraform/live/prod.tfvars"), "utf8"))
    .replace(/(database_deletion_protection\s*=\s*)true/, "$1false")
    .replace(/(database_multi_az\s*=\s*)true/, "$1false")
    .replace(/(database_backup_retention_days\s*=\s*)\d+/, "$1 3");
  const bad = join(work, "bad-prod.tfvars");
  await writeFile(bad, text);
  return bad;
}

/** `variable "name" { type = ... }` blocks of a file: name -> type text. */
function variables(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const blocks = text.split(/^variable "/m).slice(1);
  for (const block of blocks) {
    const name = block.slice(0, block.indexOf('"'));
    const type = /^\s*type\s*=\s*([\s\S]*?)\n\s*description/m
      .exec(block)?.[1]
      ?.replace(/\s+/g, " ")
      .trim();
    out[name] = type ?? "";
  }
  return out;
}

describe("terraform/live and modules/tier stay one interface", () => {
  it("declare the same variables with the same types, each typed and described", async () => {
    const live = await readFile(join(root, "terraform/live/variables.tf"), "utf8");
    const tier = await readFile(join(root, "terraform/modules/tier/variables.tf"), "utf8");
    expect(Object.keys(variables(tier))).toContain("database_deletion_protection");
    expect(Object.values(variables(tier)).every((type) => type.length > 0)).toBe(true);
    expect(variables(live)).toEqual(variables(tier));
    for (const dir of [
      "live",
      "modules/tier",
      "modules/network",
      "modules/cluster",
      "modules/database",
      "modules/registry",
    ]) {
      const text = await readFile(join(root, "terraform", dir, "variables.tf"), "utf8");
      const count = (text.match(/^variable "/gm) ?? []).length;
      expect(
        (text.match(/^\s+type\s+=/gm) ?? []).length,
        `${dir}: every variable typed`,
      ).toBeGreaterThanOrEqual(count);
      expect(
        (text.match(/^\s+description\s+=/gm) ?? []).length,
        `${dir}: every variable described`,
      ).toBe(count);
    }
  });

  it("live/main.tf hands every variable to modules/tier", async () => {
    const live = variables(await readFile(join(root, "terraform/live/variables.tf"), "utf8"));
    const main = await readFile(join(root, "terraform/live/main.tf"), "utf8");
    for (const name of Object.keys(live))
      expect(main).toMatch(new RegExp(`\\b${name}\\s+=\\s+var\\.${name}\\b`));
  });
});

describe("tfvars agree with the tier config where they overlap", () => {
  it.each(tiers)("%s", async (name) => {
    const tier = model.tiers[name]!;
    const s = settings[name]!;
    const postgres = tier.dependencies.postgres!;
    expect(s.project).toBe(tier.project);
    expect(s.tier).toBe(tier.tier);
    expect(s.log_retention_days).toBe(tier.observability.logs.retention_days);
    expect(s.artefact_retention_days).toBe(tier.retention.artefacts_days);
    expect(s.services).toEqual(Object.keys(tier.services));
    expect(s.cluster_enabled).toBe(tier.runtime === "kubernetes");
    expect(s.database_enabled).toBe(postgres.provided_by === "managed");
    if (s.database_enabled) {
      expect(s.database_engine_version).toBe(postgres.version);
      expect(s.database_name).toBe(postgres.database);
      expect(s.database_port).toBe(postgres.port);
      // A tier that keeps data (features.persistence) keeps backups of it.
      expect((s.database_backup_retention_days as number) > 0).toBe(tier.features.persistence);
    }
    // Secrets by path are created from the config's references, names only: the same names.
    expect([...(s.secret_names as string[])].sort()).toEqual(Object.keys(tier.secrets).sort());
    // The state backend the tier config declares is the one modules/state creates.
    const state = tier.infra?.state;
    if (state?.backend === "s3") {
      expect(state.bucket).toBe(names[name]!.state_bucket);
      expect(state.lock_table).toBe(names[name]!.state_lock);
      expect(state.region).toBe(s.region);
    } else {
      expect(state?.backend).toBe("local");
    }
  });

  it.each(tiers)(
    "%s: every terraform name is the one <project>-<tier>-<service> rule of core",
    (name) => {
      const tier = model.tiers[name]!;
      for (const [key, value] of Object.entries(names[name]!)) {
        const service = value.slice(`${tier.project}-${tier.tier}-`.length);
        expect(value, key).toBe(resourceName(tier.project, tier.tier, service));
        expect(service, key).toMatch(/^[a-z][a-z0-9-]*$/);
      }
    },
  );

  it("the design table's evidence store per tier: dev unlocked 7 days, staging GOVERNANCE 365, prod COMPLIANCE 1095", () => {
    const evidence = (t: string) => [
      settings[t]!.evidence_lock_mode,
      settings[t]!.evidence_retention_days,
    ];
    expect(evidence("dev")).toEqual(["NONE", 7]);
    expect(evidence("staging")).toEqual(["GOVERNANCE", 365]);
    expect(evidence("prod")).toEqual(["COMPLIANCE", 1095]);
    expect(settings.prod!.state_protected).toBe(true);
    for (const t of tiers) expect(settings[t]!.budget_monthly_usd as number).toBeGreaterThan(0);
  });

  it.each(["staging", "prod"])(
    "%s: the overlay's database egress block is the tier's network",
    async (name) => {
      const rendered = await runHost(kubectl.kustomize(`k8s/overlays/${name}`), { root });
      const policy = parseManifests(rendered.stdout, name).find(
        (o) => o.kind === "NetworkPolicy" && o.metadata.name.endsWith("allow-postgres-egress"),
      );
      expect(field(policy, "spec.egress")).toEqual([
        expect.objectContaining({ to: [{ ipBlock: { cidr: settings[name]!.vpc_cidr } }] }),
      ]);
    },
  );
});
