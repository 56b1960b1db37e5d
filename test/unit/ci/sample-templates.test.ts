/**
 * The CI templates, checked without a CI vendor: GitHub workflows by a real Actions linter
 * (@action-validator/core, SchemaStore's workflow schema compiled to WebAssembly), the GitLab
 * file parsed and checked for its stages and protected environments; and both checked for
 * drift against the things they must agree with — the promotion chain in environments/*.yaml,
 * the functions and flags of the Dagger module, and the engine version in dagger.json.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { grypeVersion, scannedServices } from "../../../pipelines/src/core/ci/tier-jobs.ts";
import { loadModel } from "../../../pipelines/src/core/environment/index.ts";
import { pipelineAuthor } from "../../../pipelines/src/engines/dagger/toolbox.ts";
import { checkCall } from "../../support/dagger/calls.ts";
import { introspect } from "../../support/dagger/introspect.ts";
import { repositoryRoot as root } from "../../support/dagger/offline.ts";

const require = createRequire(import.meta.url);
const validator = require("@action-validator/core") as {
  validateWorkflow(src: string): { errors: unknown[] };
};

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is navigated by key; the assertions check its shape
type Yaml = Record<string, any>;
const read = (path: string) => readFile(join(root, path), "utf8");
const workflows = [".github/workflows/ci.yml", ".github/workflows/release.yml"];

const module = introspect(join(root, "pipelines/src/index.ts"), "Tiers");

/**
 * `dagger call [module flags] <function> [flags]`, parsed and checked against the module the
 * way the Dagger CLI builds its flags (test/support/dagger/calls.ts cites cmd/dagger): unknown
 * function or flag, a module flag after the function, a missing required flag all fail.
 * Returns the function (as `dagger call` names it) and every flag, module flags included.
 */
function daggerCall(text: string): { fn: string; flags: Record<string, string> } {
  const call = checkCall(text, module);
  const flags = { ...call.constructor, ...call.flags };
  // Registry credentials are for one host: say which, or they go to environments' default.
  if (flags["registry-password"]) {
    expect(
      flags.registry,
      `dagger call ${call.fn} --registry-password without --registry`,
    ).toBeDefined();
  }
  // One line per command, so the per-tier jobs can be regenerated (issue 12).
  expect(text.trim(), "a dagger call is one line").not.toContain("\n");
  return { fn: call.fn, flags };
}

const expectCallable = daggerCall;

async function chain() {
  const model = await loadModel(root);
  const kubernetes = model.order.filter((tier) => model.tiers[tier]!.runtime === "kubernetes");
  return { model, order: model.order, kubernetes };
}

describe("sample: GitHub Actions workflows", () => {
  it("pass the Actions workflow linter, and the linter does catch a broken file", async () => {
    for (const file of workflows) {
      const text = await read(file);
      expect(validator.validateWorkflow(text).errors, file).toEqual([]);
      const broken = text.replace("runs-on:", "runs-onn:");
      expect(validator.validateWorkflow(broken).errors.length, file).toBeGreaterThan(0);
    }
  });

  // actionlint (pinned in scripts/provision/go-tools.sh, installed by scripts/provision.sh) checks
  // what a schema cannot: expressions, contexts, needs/outputs, runner labels. Missing = fail.
  it("pass actionlint, the real workflow linter, which does catch a broken expression", async () => {
    const lint = (args: string[]) =>
      spawnSync("actionlint", ["-no-color", ...args], {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
      });
    const version = lint(["-version"]);
    expect(version.error?.message ?? "", "actionlint is missing: run scripts/provision.sh").toBe(
      "",
    );
    expect(version.status, version.stderr).toBe(0);
    const files = workflows.map((file) => join(root, file));
    const result = lint(files);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), "tiers-actionlint-"));
    try {
      const broken = join(dir, "broken.yml");
      const text = await read(workflows[0]!);
      await writeFile(broken, text.replace(/\$\{\{ /, "${{ github.no_such_context_field( "));
      expect(lint([broken]).status).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("call only `dagger call` (plus checkout, the OIDC token request and grype's scan action), with pinned actions", async () => {
    let daggerSteps = 0;
    for (const file of workflows) {
      const doc = parse(await read(file)) as Yaml;
      for (const [name, job] of Object.entries<Yaml>(doc.jobs)) {
        for (const step of job.steps as Yaml[]) {
          expect(step.run, `${file} ${name}: a shell step`).toBeUndefined();
          expect(step.uses, `${file} ${name}`).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
          const action = String(step.uses).split("@")[0];
          if (action === "dagger/dagger-for-github") {
            // The workflow-level DAGGER_VERSION (checked against dagger.json below).
            expect(step.with.version).toBe(["$", "{{ env.DAGGER_VERSION }}"].join(""));
            expect(step.with.verb ?? "call").toBe("call");
            expectCallable(step.with.call);
            daggerSteps++;
          } else if (action === "actions/github-script") {
            expect(step.with.script).toContain('core.getIDToken("sigstore")');
            expect(step.with.script).toContain("core.setSecret(token)");
          } else if (action === "anchore/scan-action") {
            // grype's JSON report for record-scan; the gate judges it, so the scan never fails
            // the job, and both vendors run one grype version.
            expect(step.with["output-format"]).toBe("json");
            expect(step.with["fail-build"]).toBe(false);
            expect(step.with["grype-version"]).toBe(grypeVersion);
            expect(String(step.with.image)).toMatch(/^registry:/);
          } else {
            expect(action).toBe("actions/checkout");
          }
        }
      }
    }
    // Fails when no workflow step is a dagger call, instead of checking nothing.
    expect(daggerSteps, "dagger call steps across the workflows").toBeGreaterThan(0);
  });

  it("tests every push and pull request", async () => {
    const doc = parse(await read(".github/workflows/ci.yml")) as Yaml;
    expect(Object.keys(doc.on).sort()).toEqual(["pull_request", "push"]);
    const calls = (doc.jobs.test.steps as Yaml[]).flatMap((s) =>
      s.with?.call ? [daggerCall(s.with.call).fn] : [],
    );
    expect(calls).toEqual(["validate", "test"]);
  });

  it("publishes and signs on main, then promotes into the tier after the chain start", async () => {
    const { model, order } = await chain();
    const doc = parse(await read(".github/workflows/release.yml")) as Yaml;
    expect(doc.on.push.branches).toEqual(["main"]);
    const job = doc.jobs.publish as Yaml;
    expect(job.if).toBe("github.event_name == 'push'");
    const calls = (job.steps as Yaml[]).flatMap((s) =>
      s.with?.call ? [daggerCall(s.with.call)] : [],
    );
    // Promoting into test records the passage and signs it (keyless); verify proves it. The
    // test verdict is recorded by record-tests, never by the cached `test` function.
    // After publish, each built service's image is scanned and the report recorded (issue 15).
    const built = scannedServices(model);
    expect(built.length).toBeGreaterThan(0);
    expect(calls.map((c) => c.fn)).toEqual([
      "record-tests",
      "publish",
      ...built.map(() => "record-scan"),
      "promote",
      "verify",
    ]);
    expect(calls.filter((c) => c.fn === "record-scan").map((c) => c.flags.service)).toEqual(built);
    const promote = calls.at(-2)!;
    expect(promote.flags.env).toBe(order[1]);
    expect(calls.at(-1)?.flags.env).toBe(order[1]);
    // Each record-scan reads the report the scan step before it wrote.
    const steps = job.steps as Yaml[];
    for (const [i, step] of steps.entries()) {
      if (!String(step.uses).startsWith("anchore/scan-action@")) continue;
      const record = daggerCall(steps[i + 1]!.with.call);
      expect(record.fn).toBe("record-scan");
      // (checkCall reads `${{ x }}` with its spaces dropped.)
      expect(record.flags.report).toBe(String(step.with["output-file"]).replace(/\s+/g, ""));
    }
    // The same commit all the way: the one this run was triggered for.
    for (const call of calls) expect(call.flags.commit).toMatch(/github\.sha/);
    expect(promote.flags["oidc-token"]).toBe("env:SIGSTORE_ID_TOKEN");
    expect(job.permissions["id-token"]).toBe("write");
  });

  it("promotes through GitHub environments that are exactly the Kubernetes tiers, in chain order", async () => {
    const { model, kubernetes } = await chain();
    const doc = parse(await read(".github/workflows/release.yml")) as Yaml;
    expect(doc.on.workflow_dispatch.inputs.tier.options).toEqual(kubernetes);
    const promotions = Object.entries<Yaml>(doc.jobs)
      .filter(([name, job]) => job.environment && name.startsWith("promote-"))
      .map(([, job]) => job);
    expect(promotions.map((job) => job.environment)).toEqual(kubernetes);
    let signed = 0;
    for (const job of promotions) {
      const tier = job.environment as string;
      expect(job.if).toContain(`inputs.tier == '${tier}'`);
      const calls = (job.steps as Yaml[]).flatMap((s) =>
        s.with?.call ? [daggerCall(s.with.call)] : [],
      );
      expect(calls.map((c) => c.fn)).toEqual(["plan", "promote"]);
      for (const call of calls) expect(call.flags.env).toBe(tier);
      expect(calls[1]?.flags["ci-environment"]).toBe(tier);
      // The approvals the tier asks of its CI environment are that environment's reviewers.
      expect(model.tiers[tier]!.approvals.source).toBe("ci-environment");
      if (calls[1]?.flags["oidc-token"]) {
        expect(job.permissions["id-token"]).toBe("write");
        signed++;
      }
    }
    // Fails when no promotion job passes an OIDC token, instead of checking nothing.
    expect(signed, "promotion jobs that sign keyless").toBeGreaterThan(0);
  });

  it("signs keyless as the identity the tiers' signing policies expect", async () => {
    const { model } = await chain();
    const doc = parse(await read(".github/workflows/release.yml")) as Yaml;
    const keyless = Object.values(model.tiers).filter(
      (tier) =>
        tier.signing.mode === "keyless" &&
        tier.signing.identity?.issuer === "https://token.actions.githubusercontent.com",
    );
    expect(keyless.length).toBeGreaterThan(0);
    for (const tier of keyless) {
      // …/<owner>/<repo>/.github/workflows/release.yml@refs/heads/main
      expect(tier.signing.identity!.subject).toMatch(
        /\/\.github\/workflows\/release\.yml@refs\/heads\/main$/,
      );
    }
    expect(doc.on.push.branches).toEqual(["main"]);
  });

  it("plans and applies each CI tier's infrastructure ahead of its promotion, only where the tier declares it", async () => {
    const { model } = await chain();
    const doc = parse(await read(".github/workflows/release.yml")) as Yaml;
    const withInfra = model.order.slice(2).filter((t) => model.tiers[t]!.infra);
    expect(withInfra.length, "on-demand tiers with infrastructure").toBeGreaterThan(0);
    const infraJobs = Object.keys(doc.jobs).filter((n) => n.startsWith("infra-"));
    expect(infraJobs).toEqual(withInfra.map((t) => `infra-${t}`));
    for (const tier of withInfra) {
      const job = doc.jobs[`infra-${tier}`] as Yaml;
      expect(job.environment).toBe(tier);
      expect(job.if).toContain(`inputs.tier == '${tier}'`);
      const calls = (job.steps as Yaml[]).flatMap((s) =>
        s.with?.call ? [checkCall(s.with.call, module)] : [],
      );
      expect(calls.map((c) => c.fn)).toEqual(["infra-plan", "infra-apply"]);
      // The plan infra-plan returns is exported where infra-apply reads it back.
      expect(calls[0]!.chained).toEqual(["export", "--path", `.tiers/infra/${tier}`]);
      expect(calls[1]!.flags.plan).toBe(`.tiers/infra/${tier}`);
      expect(calls[1]!.flags["ci-environment"]).toBe(tier);
      expect([doc.jobs[`promote-${tier}`].needs].flat()).toContain(`infra-${tier}`);
    }
  });

  it("install the Dagger CLI at the engine version dagger.json pins and the SDK matches", async () => {
    const engine = (JSON.parse(await read("dagger.json")) as { engineVersion: string })
      .engineVersion;
    const sdk = (
      JSON.parse(await read("node_modules/@dagger.io/dagger/package.json")) as { version: string }
    ).version;
    expect(engine).toBe(`v${sdk}`);
    for (const file of workflows) {
      expect((parse(await read(file)) as Yaml).env.DAGGER_VERSION).toBe(sdk);
    }
    expect((parse(await read(".gitlab-ci.yml")) as Yaml).variables.DAGGER_VERSION).toBe(sdk);
  });
});

describe("sample: GitLab CI", () => {
  const load = async () => parse(await read(".gitlab-ci.yml"), { merge: true }) as Yaml;
  /** GitLab's `extends`: templates deep-merged in order, then the job's own keys. */
  const resolve = (doc: Yaml, job: Yaml): Yaml => {
    const merge = (a: Yaml, b: Yaml): Yaml => {
      const out: Yaml = { ...a };
      for (const [k, v] of Object.entries(b)) {
        const both = v && typeof v === "object" && !Array.isArray(v) && out[k];
        out[k] = both && typeof out[k] === "object" ? merge(out[k], v) : v;
      }
      return out;
    };
    const parents = job.extends === undefined ? [] : [job.extends].flat();
    let out: Yaml = {};
    for (const parent of parents) out = merge(out, resolve(doc, doc[parent] as Yaml));
    const { extends: _extends, ...own } = job;
    return merge(out, own);
  };
  const jobsOf = (doc: Yaml) =>
    Object.entries<Yaml>(doc)
      .filter(
        ([name, value]) =>
          !name.startsWith(".") &&
          !["stages", "variables", "default", "workflow"].includes(name) &&
          value?.script,
      )
      .map(([name, job]) => [name, resolve(doc, job)] as const);

  it("has the same stages, with one stage per Kubernetes tier in chain order", async () => {
    const { kubernetes } = await chain();
    const doc = await load();
    expect(doc.stages).toEqual(["validate", "test", "publish", "promote-test", ...kubernetes]);
  });

  it("runs every script line as `dagger call` with known functions and flags", async () => {
    const doc = await load();
    let lines = 0;
    for (const [name, job] of jobsOf(doc)) {
      const script = job.script as string[];
      for (const [i, line] of script.entries()) {
        lines++;
        // The one other line: grype's image scanning a published image, whose report the
        // next line records (the pinned version is the GitHub scan action's).
        const grype = line.match(
          /^docker run --rm .* anchore\/grype:(\S+) "registry:\S+" -o json > (\S+)$/,
        );
        if (grype) {
          expect(grype[1]).toBe(grypeVersion);
          expect(line, "registry credentials stay out of the command line").not.toMatch(/-e \w+=/);
          const record = daggerCall(script[i + 1]!);
          expect(record.fn).toBe("record-scan");
          expect(record.flags.report).toBe(grype[2]);
          continue;
        }
        expect(line, name).toMatch(/^dagger call /);
        expectCallable(line);
      }
    }
    // Fails when no job has a script line, instead of checking nothing.
    expect(lines, "script lines across the GitLab jobs").toBeGreaterThan(0);
  });

  it("publishes with the git settings its evidence commit is pushed with", async () => {
    const doc = await load();
    const [line] = (doc.publish as Yaml).script as string[];
    const call = daggerCall(line!);
    expect(call.fn).toBe("publish");
    expect(call.flags["git-token"]).toBe("env:TIERS_GIT_TOKEN");
    expect(call.flags["git-remote"]).toBeDefined();
  });

  it("gives the Dagger engine a privileged docker:dind service", async () => {
    const doc = await load();
    const base = doc[".dagger"] as Yaml;
    expect(base.services.map((s: Yaml) => s.name)).toEqual([
      expect.stringMatching(/^docker:[\w.-]+-dind$/),
    ]);
    expect(doc.variables.DOCKER_HOST).toBe("tcp://docker:2376");
  });

  it("promotes into staging and prod only from protected environments, by hand, one at a time", async () => {
    const { kubernetes } = await chain();
    const doc = await load();
    const promotions = jobsOf(doc).filter(
      ([name, job]) => job.environment && name.startsWith("promote-"),
    );
    expect(promotions.map(([, job]) => job.environment.name)).toEqual(kubernetes);
    let signed = 0;
    for (const [name, job] of promotions) {
      const tier = job.environment.name as string;
      expect(job.stage, name).toBe(tier);
      expect(
        job.rules.every((r: Yaml) => r.when === "manual"),
        name,
      ).toBe(true);
      expect(job.resource_group, name).toBe(tier);
      const calls = (job.script as string[]).map(daggerCall);
      for (const call of calls) expect(call.flags.env, name).toBe(tier);
      if (calls.some((c) => c.flags["oidc-token"])) {
        expect(job.id_tokens?.SIGSTORE_ID_TOKEN?.aud, name).toBe("sigstore");
        signed++;
      }
    }
    // Fails when no promotion job passes an OIDC token, instead of checking nothing.
    expect(signed, "promotion jobs that sign keyless").toBeGreaterThan(0);
  });
});

describe("sample: GitLab CI infrastructure jobs", () => {
  it("plan and apply each CI tier's infrastructure ahead of its promotion, only where declared", async () => {
    const { model } = await chain();
    const doc = parse(await read(".gitlab-ci.yml"), { merge: true }) as Yaml;
    const withInfra = model.order.slice(2).filter((t) => model.tiers[t]!.infra);
    const infraJobs = Object.keys(doc).filter((n) => n.startsWith("infra-"));
    expect(infraJobs).toEqual(withInfra.map((t) => `infra-${t}`));
    for (const tier of withInfra) {
      const job = doc[`infra-${tier}`] as Yaml;
      expect(job.stage).toBe(tier);
      expect(job.environment.name).toBe(tier);
      expect(job.resource_group).toBe(tier);
      const calls = (job.script as string[]).map((l) => checkCall(l, module));
      expect(calls.map((c) => c.fn)).toEqual(["infra-plan", "infra-apply"]);
      expect(calls[0]!.chained).toEqual(["export", "--path", `.tiers/infra/${tier}`]);
      expect(calls[1]!.flags.plan).toBe(`.tiers/infra/${tier}`);
      expect(doc[`promote-${tier}`].needs).toContain(`infra-${tier}`);
    }
  });
});

describe("sample: records the pipeline pushes", () => {
  it("do not start another GitLab pipeline (the toolbox commits as `tiers pipeline`)", async () => {
    const doc = parse(await read(".gitlab-ci.yml")) as Yaml;
    const [skip] = doc.workflow.rules as Yaml[];
    expect(skip?.when).toBe("never");
    const pattern = /^\$CI_COMMIT_AUTHOR =~ \/(.*)\/$/.exec(String(skip?.if))?.[1];
    const { name, email } = pipelineAuthor;
    expect(new RegExp(pattern!).test(`${name} <${email}>`)).toBe(true);
    expect(new RegExp(pattern!).test("Jane Doe <jane@example.test>")).toBe(false);
  });
});
