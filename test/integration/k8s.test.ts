/**
 * The Kubernetes overlays on the real kubectl (kustomize built in), offline: every overlay
 * renders, passes Kubernetes schema validation, the tier policies and agreement with its tier
 * config, and a drifted copy is caught. Applying, rollout waits, smoke checks, the blue-green
 * switch and automatic rollback run through `deployTier` with a fake cluster that answers
 * kubectl's calls as kubectl would; those tests stop at the argument vectors and manifests,
 * since no cluster can run here, and say so in their names.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EnvironmentModel,
  imageRepository,
  loadModel,
  runtimeEnvironment,
} from "../../pipelines/src/core/environment/index.ts";
import { memorySink, Reporter } from "../../pipelines/src/core/log.ts";
import {
  checkRendered,
  formatFinding,
  isUnpromoted,
  type KubeObject,
  parseManifests,
  renderedImages,
} from "../../pipelines/src/core/manifests/index.ts";
import { readPins } from "../../pipelines/src/core/promotion/overlay.ts";
import {
  DeployError,
  type DeployResult,
  deployTier,
} from "../../pipelines/src/engines/host/deploy.ts";
import {
  type DeployVerifier,
  overlayPins,
  readOverlay,
} from "../../pipelines/src/engines/host/deploy-verify.ts";
import { runHost } from "../../pipelines/src/engines/host/run.ts";
import { SecretStore } from "../../pipelines/src/engines/host/secrets.ts";
import * as kubectl from "../../pipelines/src/tools/kubectl.ts";
import { tiers } from "../support/cli.ts";
import { FakeCluster, pinOverlays } from "../support/fake-cluster.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const digests = { api: `sha256:${"a1".repeat(32)}`, worker: `sha256:${"b2".repeat(32)}` };
let model: EnvironmentModel;
let work: string;
/** A copy of the repository's k8s/ with real digests pinned (the shipped pins are placeholders). */
let pinnedRoot: string;

async function render(dir: string, tier: string): Promise<KubeObject[]> {
  const result = await runHost(kubectl.kustomize(`k8s/overlays/${tier}`), {
    root: dir,
    reject: false,
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return parseManifests(result.stdout, `k8s/overlays/${tier}`);
}

async function copyK8s(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(root, "k8s"), join(dir, "k8s"), { recursive: true });
  return dir;
}

async function pinAll(dir: string): Promise<void> {
  await pinOverlays(dir, ["staging", "prod"], (name) =>
    name.endsWith("/api") ? digests.api : digests.worker,
  );
}

beforeAll(async () => {
  model = await loadModel(root);
  work = await mkdtemp(join(tmpdir(), "tiers-k8s-"));
  pinnedRoot = await copyK8s("pinned");
  await pinAll(pinnedRoot);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("overlays on the real kubectl kustomize (offline)", () => {
  it("exist exactly for the tiers whose runtime is kubernetes", async () => {
    const overlays = (await readdir(join(root, "k8s/overlays"))).sort();
    const kubernetesTiers = Object.values(model.tiers)
      .filter((t) => t.runtime === "kubernetes")
      .map((t) => t.tier)
      .sort();
    expect(overlays).toEqual(kubernetesTiers);
  });

  it.each(["staging", "prod"])(
    "%s renders and passes Kubernetes schema validation, the tier policies and its tier config",
    async (tier) => {
      const objects = await render(root, tier);
      expect(objects.length).toBeGreaterThan(10);
      const findings = checkRendered(objects, model.tiers[tier]!, {
        runtimeEnvironment: runtimeEnvironment(model, tier),
      });
      expect(findings.map(formatFinding)).toEqual([]);
    },
  );

  it("the shipped pins are the 'nothing promoted yet' placeholder, and pins name the config's repositories", async () => {
    for (const tier of ["staging", "prod"]) {
      const file = join(root, `k8s/overlays/${tier}/kustomization.yaml`);
      const pins = readPins(await readFile(file, "utf8"), file);
      expect(pins.map((p) => p.newName).sort()).toEqual(
        Object.keys(model.tiers[tier]!.services)
          .map((s) => imageRepository(model, tier, s))
          .sort(),
      );
      for (const image of renderedImages(await render(root, tier)))
        expect(isUnpromoted(image.digest)).toBe(true);
    }
  });

  it("a pinned digest reaches every container of its service, both prod colours included", async () => {
    const images = renderedImages(await render(pinnedRoot, "prod"));
    expect(images.map((i) => `${i.object} ${i.image}`)).toEqual([
      `Deployment/tiers-prod-api-blue 127.0.0.1:5000/tiers/api@${digests.api}`,
      `Deployment/tiers-prod-api-green 127.0.0.1:5000/tiers/api@${digests.api}`,
      `Deployment/tiers-prod-worker 127.0.0.1:5000/tiers/worker@${digests.worker}`,
      // The migration Job runs the same release image as the api (issue 14).
      `Job/tiers-prod-api-migrate 127.0.0.1:5000/tiers/api@${digests.api}`,
    ]);
  });

  it("a hand edit that drifts from the tier config is caught", async () => {
    const dir = await copyK8s("drifted");
    const staging = join(dir, "k8s/overlays/staging/kustomization.yaml");
    await writeFile(staging, (await readFile(staging, "utf8")).replace("count: 2", "count: 3"));
    const prod = join(dir, "k8s/overlays/prod/kustomization.yaml");
    await writeFile(
      prod,
      (await readFile(prod, "utf8")).replace(
        "{ op: replace, path: /spec/maxReplicas, value: 10 }",
        "{ op: replace, path: /spec/maxReplicas, value: 12 }",
      ),
    );
    const stagingFindings = checkRendered(await render(dir, "staging"), model.tiers.staging!);
    expect(stagingFindings.map(formatFinding)).toEqual([
      "Deployment/tiers-staging-api spec.replicas: is 3, services.api.replicas says 2 [drift/replicas]",
    ]);
    const prodFindings = checkRendered(await render(dir, "prod"), model.tiers.prod!);
    expect(prodFindings.map((f) => `${f.rule} ${f.object}`)).toEqual([
      "drift/autoscaling HorizontalPodAutoscaler/tiers-prod-api-blue",
      "drift/autoscaling HorizontalPodAutoscaler/tiers-prod-api-green",
    ]);
  });

  it("a mutable tag in an overlay fails the tier policy", async () => {
    const dir = await copyK8s("tagged");
    const file = join(dir, "k8s/overlays/staging/kustomization.yaml");
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/ {4}digest: sha256:0+\n/, "    newTag: latest\n"));
    const findings = checkRendered(await render(dir, "staging"), model.tiers.staging!);
    expect(findings.map((f) => `${f.rule} ${f.object}`)).toEqual([
      "policy/image-digest Deployment/tiers-staging-api",
      "policy/image-digest Job/tiers-staging-api-migrate",
    ]);
  });
});

/**
 * Pins as a promotion leaves them (passage recorded, not rejected, signed): these tests are about
 * the cluster steps after verification. Verification itself runs on real git, registry and
 * cosign in test/integration/promotion/deploy-verify.test.ts.
 */
const pinsHold: DeployVerifier = async (tier, m) =>
  overlayPins(m, tier, await readOverlay(pinnedRoot, tier)).map((pin) => ({
    ...pin,
    passage: { ok: true, why: "recorded (stand-in)" },
    rejection: { state: "absent", file: "releases/rejections/" },
    signature: { ok: true, why: "verifies (stand-in)" },
  }));

async function deploy(cluster: FakeCluster, tier: string, edit?: (m: EnvironmentModel) => void) {
  const sink = memorySink();
  const used = structuredClone(model);
  edit?.(used);
  const promise = deployTier({
    root: pinnedRoot,
    tier,
    model: used,
    run: cluster.run,
    verify: pinsHold,
    reporter: new Reporter({ sink }),
    sleep: async (ms) => {
      cluster.sleeps.push(ms);
    },
  });
  return { promise, sink };
}

async function failure(promise: Promise<DeployResult>): Promise<DeployError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeployError);
  return error as DeployError;
}

describe("deploy to staging, rolling (argument vectors only: no cluster here)", () => {
  it("applies server-side with the kubeconfig as a secret file, waits for each rollout, smoke-checks each health path", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    const { promise } = await deploy(cluster, "staging");
    const result = await promise;
    expect(result.outcome).toBe("deployed");
    expect(cluster.lines()).toEqual([
      "delete job tiers-staging-api-migrate",
      "apply 6 objects", // namespace, config, secrets and the admission policy, before the Job
      "get job tiers-staging-api-migrate",
      "apply --dry-run=server 19 objects",
      "apply 19 objects",
      "rollout status deployment/tiers-staging-api",
      "rollout status deployment/tiers-staging-worker",
      "GET tiers-staging-api:http/proxy/healthz",
      "GET tiers-staging-api:http/proxy/readyz",
      "GET tiers-staging-worker:health/proxy/healthz",
      "GET tiers-staging-worker:health/proxy/readyz",
    ]);
    const apply = cluster.calls[4]!; // after the migration step's three calls
    expect(apply.args.slice(0, 2)).toEqual(["--kubeconfig", kubectl.kubeconfigPath]);
    expect(apply.secretFiles).toEqual([{ path: kubectl.kubeconfigPath, secret: "kubeconfig" }]);
    expect(apply.args).toEqual(expect.arrayContaining(["apply", "--server-side", "-f", "-"]));
    // What is applied is the rendered, pinned overlay.
    expect(apply.stdin).toContain(`127.0.0.1:5000/tiers/api@${digests.api}`);
    expect(cluster.calls[5]!.args).toContain("--timeout=330s");
  });

  it("a rollout that misses its deadline is rolled back by itself", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.failRollout.add("tiers-staging-worker");
    const { promise } = await deploy(cluster, "staging");
    const error = await failure(promise);
    expect(error.message).toMatch(
      /rollout of deployment\/tiers-staging-worker failed \(rollout-failed\); rolled back/,
    );
    expect(error.result.outcome).toBe("rolled-back");
    expect(cluster.lines().slice(-2)).toEqual([
      "rollout undo deployment/tiers-staging-api",
      "rollout undo deployment/tiers-staging-worker",
    ]);
    expect(cluster.lines()).not.toContain("GET tiers-staging-api:http/proxy/healthz");
  });

  it("a failing smoke check is retried failure_threshold times, then rolled back", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.failSmoke = (path) => path.endsWith("tiers-staging-api:http/proxy/readyz");
    const { promise } = await deploy(cluster, "staging");
    const error = await failure(promise);
    const hc = model.tiers.staging!.deploy.health_check;
    expect(
      cluster.lines().filter((l) => l === "GET tiers-staging-api:http/proxy/readyz"),
    ).toHaveLength(hc.failure_threshold);
    expect(cluster.sleeps).toEqual(
      Array(hc.failure_threshold - 1).fill(hc.interval_seconds * 1000),
    );
    expect(error.result.outcome).toBe("rolled-back");
    expect(error.message).toMatch(
      /smoke check failed: api readiness GET \/readyz via tiers-staging-api: unavailable/,
    );
    expect(cluster.lines().filter((l) => l.startsWith("rollout undo"))).toHaveLength(2);
  });

  it("with automatic rollback off, a failure stops and reports without undoing", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.failRollout.add("tiers-staging-api");
    const { promise } = await deploy(cluster, "staging", (m) => {
      m.tiers.staging!.deploy.rollback.automatic = false;
    });
    const error = await failure(promise);
    expect(error.result.outcome).toBe("failed");
    expect(cluster.lines().some((l) => l.startsWith("rollout undo"))).toBe(false);
  });

  it("a manifest the API server rejects in the server-side dry run changes nothing", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.rejectDryRun =
      'The Deployment "tiers-staging-api" is invalid: spec.template.spec.containers[0].image: Invalid value';
    const { promise } = await deploy(cluster, "staging");
    const error = await failure(promise);
    expect(error.message).toMatch(/\(invalid\); nothing was applied/);
    expect(cluster.lines()).toEqual([
      "delete job tiers-staging-api-migrate",
      "apply 6 objects",
      "get job tiers-staging-api-migrate",
      "apply --dry-run=server 19 objects",
    ]);
  });

  it("the first deploy into a new namespace proceeds past the dry run that cannot see it", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.rejectDryRun = 'Error from server (NotFound): namespaces "tiers-staging" not found';
    const { promise } = await deploy(cluster, "staging");
    const result = await promise;
    expect(result.outcome).toBe("deployed");
    expect(result.steps[0]).toMatchObject({
      name: "migrations job/tiers-staging-api-migrate",
      outcome: "ok",
    });
    expect(result.steps[1]).toMatchObject({ name: "server dry run", outcome: "skipped" });
  });

  it("a failing migration stops the deploy with the Job's logs before any Deployment changes", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.failMigration = true;
    cluster.migrationRunningReads = 1; // running on the first read, Failed on the next
    const { promise } = await deploy(cluster, "staging");
    const error = await failure(promise);
    expect(error.message).toMatch(
      /database migrations failed: job\/tiers-staging-api-migrate failed \(BackoffLimitExceeded: .*\)/,
    );
    expect(error.message).toContain('migrate: column "payload" does not exist');
    expect(error.message).toContain("no Deployment was changed");
    expect(error.result.outcome).toBe("failed");
    // Only the migration step's own calls: no dry run, apply of the workloads, rollout or undo.
    expect(cluster.lines()).toEqual([
      "delete job tiers-staging-api-migrate",
      "apply 6 objects",
      "get job tiers-staging-api-migrate",
      "get job tiers-staging-api-migrate",
      "logs job/tiers-staging-api-migrate",
    ]);
    // It noticed the Failed condition on the next read, not at the wait's limit.
    expect(cluster.sleeps).toEqual([2000]);
    expect(parseManifests(cluster.calls[1]!.stdin ?? "", "stdin").map((o) => o.kind)).not.toContain(
      "Deployment",
    );
  });

  it("refuses the placeholder pins before contacting any cluster", async () => {
    const cluster = new FakeCluster(root);
    const { promise } = await deploy(cluster, "staging");
    await expect(promise).rejects.toThrow(/nothing has been promoted to staging yet/);
    expect(cluster.calls).toEqual([]);
  });
});

describe("deploy to prod, blue-green (argument vectors only: no cluster here)", () => {
  it("first deploy: applies both colours, nothing to switch", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    const { promise } = await deploy(cluster, "prod");
    const result = await promise;
    expect(result.outcome).toBe("deployed");
    expect(cluster.lines().slice(0, 9)).toEqual([
      "delete job tiers-prod-api-migrate",
      "apply 6 objects",
      "get job tiers-prod-api-migrate",
      "get service tiers-prod-api",
      "apply --dry-run=server 26 objects",
      "apply 26 objects",
      "rollout status deployment/tiers-prod-api-blue",
      "rollout status deployment/tiers-prod-api-green",
      "rollout status deployment/tiers-prod-worker",
    ]);
    expect(cluster.lines().some((l) => l.startsWith("patch"))).toBe(false);
    expect(result.steps.find((s) => s.name === "switch tiers-prod-api")).toMatchObject({
      outcome: "skipped",
    });
  });

  it("a failing migration stops before the live colour is read: no apply, rollout or switch", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.liveColour = "blue";
    cluster.failMigration = true;
    const { promise } = await deploy(cluster, "prod");
    const error = await failure(promise);
    expect(error.message).toContain('migrate: column "payload" does not exist');
    expect(cluster.lines()).toEqual([
      "delete job tiers-prod-api-migrate",
      "apply 6 objects",
      "get job tiers-prod-api-migrate",
      "logs job/tiers-prod-api-migrate",
    ]);
    expect(cluster.liveColour).toBe("blue");
    expect(error.result.liveColours).toEqual({});
  });

  it("a failed first deploy has nothing to roll back to, and says so", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.failRollout.add("tiers-prod-api-green");
    for (const d of ["tiers-prod-api-blue", "tiers-prod-api-green", "tiers-prod-worker"])
      cluster.noHistory.add(d);
    const { promise, sink } = await deploy(cluster, "prod");
    const error = await failure(promise);
    expect(error.result.outcome).toBe("failed");
    expect(error.message).toMatch(/automatic rollback incomplete/);
    expect(
      error.result.steps.filter((s) => s.name.startsWith("rollout undo")).map((s) => s.detail),
    ).toEqual(["no-rollout-history", "no-rollout-history", "no-rollout-history"]);
    expect(sink.errors.join("\n")).toContain("has no earlier revision to roll back to");
  });

  it("updates the idle colour, smoke-checks it through preview, switches the selector, keeps the old colour", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.liveColour = "blue";
    const { promise } = await deploy(cluster, "prod");
    const result = await promise;
    expect(result.outcome).toBe("deployed");
    expect(result.liveColours).toEqual({ api: "green" });
    expect(cluster.lines()).toEqual([
      "delete job tiers-prod-api-migrate",
      "apply 6 objects",
      "get job tiers-prod-api-migrate",
      "get service tiers-prod-api",
      "apply --dry-run=server 23 objects",
      "apply 23 objects",
      "rollout status deployment/tiers-prod-api-green",
      "rollout status deployment/tiers-prod-worker",
      "GET tiers-prod-api-preview:http/proxy/healthz",
      "GET tiers-prod-api-preview:http/proxy/readyz",
      "GET tiers-prod-worker:health/proxy/healthz",
      "GET tiers-prod-worker:health/proxy/readyz",
      'patch tiers-prod-api {"spec":{"selector":{"color":"green"}}}',
      "GET tiers-prod-api:http/proxy/healthz",
      "GET tiers-prod-api:http/proxy/readyz",
    ]);
    // The live colour's workload is not in the apply, and applying does not move traffic.
    const applied = parseManifests(cluster.calls[5]!.stdin ?? "", "stdin");
    const names = applied.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).not.toContain("Deployment/tiers-prod-api-blue");
    expect(names).not.toContain("HorizontalPodAutoscaler/tiers-prod-api-blue");
    const selector = (name: string) =>
      (
        applied.find((o) => o.kind === "Service" && o.metadata.name === name)!.spec as {
          selector: Record<string, string>;
        }
      ).selector.color;
    expect(selector("tiers-prod-api")).toBe("blue");
    expect(selector("tiers-prod-api-preview")).toBe("green");
    expect(cluster.liveColour).toBe("green");
  });

  it("the next deploy goes the other way", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.liveColour = "green";
    const { promise } = await deploy(cluster, "prod");
    expect((await promise).liveColours).toEqual({ api: "blue" });
    expect(cluster.lines()).toContain("rollout status deployment/tiers-prod-api-blue");
    expect(cluster.lines()).not.toContain("rollout status deployment/tiers-prod-api-green");
  });

  it("a failing preview smoke check never moves traffic and restores the idle colour", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.liveColour = "blue";
    cluster.failSmoke = (path) => path.includes("tiers-prod-api-preview");
    const { promise } = await deploy(cluster, "prod");
    const error = await failure(promise);
    expect(error.message).toMatch(/live traffic never moved/);
    expect(cluster.lines().some((l) => l.startsWith("patch"))).toBe(false);
    expect(cluster.lines().filter((l) => l.startsWith("rollout undo"))).toEqual([
      "rollout undo deployment/tiers-prod-api-green",
      "rollout undo deployment/tiers-prod-worker",
    ]);
    expect(cluster.liveColour).toBe("blue");
  });

  it("a failing smoke check after the switch switches back to the kept colour", async () => {
    const cluster = new FakeCluster(pinnedRoot);
    cluster.liveColour = "blue";
    let switched = false;
    cluster.failSmoke = (path) => {
      if (path.includes("tiers-prod-api:http")) switched = true;
      return switched && path.includes("tiers-prod-api:http/proxy/readyz");
    };
    const { promise } = await deploy(cluster, "prod");
    const error = await failure(promise);
    expect(error.result.outcome).toBe("rolled-back");
    expect(error.message).toMatch(/traffic switched back/);
    const patches = cluster.lines().filter((l) => l.startsWith("patch"));
    expect(patches).toEqual([
      'patch tiers-prod-api {"spec":{"selector":{"color":"green"}}}',
      'patch tiers-prod-api {"spec":{"selector":{"color":"blue"}}}',
    ]);
    expect(cluster.liveColour).toBe("blue");
  });
});

describe("deploy on the real kubectl with no API server (argument vectors only: no cluster here)", () => {
  it("materialises the kubeconfig as a private temp file, fails before anything is applied with a typed error, leaks nothing", async () => {
    const token = "tok-3f9c1d2e7a5b4c6d";
    const kubeconfig = join(work, "kubeconfig.yaml");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:9' } }]",
        `users: [{ name: u, user: { token: '${token}' } }]`,
        "contexts: [{ name: x, context: { cluster: c, user: u } }]",
        "current-context: x",
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const secretDirs = async () =>
      (await readdir(tmpdir())).filter((n) => n.startsWith("tiers-secret-")).length;
    const before = await secretDirs();
    const sink = memorySink();
    const error = await failure(
      deployTier({
        root: pinnedRoot,
        tier: "staging",
        model,
        secrets: new SecretStore().define("kubeconfig", { file: kubeconfig }),
        reporter: new Reporter({ sink }),
        verify: pinsHold,
      }),
    );
    expect(error.message).toMatch(
      // The migration step is the first cluster call now; it fails before anything is applied.
      /database migrations failed: could not remove the previous Job .*no Deployment was changed/,
    );
    const cause = error.cause as { kind?: string; command?: string };
    expect(cause.kind).toBe("unreachable");
    expect(cause.command).toContain(`--kubeconfig ${kubectl.kubeconfigPath}`);
    const everything = [error.message, cause.command, ...sink.lines, ...sink.errors].join("\n");
    expect(everything).not.toContain(token);
    expect(await secretDirs()).toBe(before);
  });
});

describe("tiers deploy --dry-run on the real kubectl (no cluster needed)", () => {
  it("prints the plan and the manifests it would apply, and says nothing is promoted yet", async () => {
    const run = await tiers("--root", root, "deploy", "--env", "prod", "--dry-run", "--manifests");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("🜄 plan: first deploy: service/tiers-prod-api serves blue");
    expect(run.stdout).toContain("kind: Deployment");
    expect(run.stdout).toContain("dry run: overlay renders and passes every check");
    expect(run.stderr).toContain("nothing promoted to prod yet");
  });

  it("fails with the findings when the overlay drifts", async () => {
    const dir = await copyK8s("cli-drift");
    await cp(join(root, "environments"), join(dir, "environments"), { recursive: true });
    const file = join(dir, "environments/staging.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("replicas: 2", "replicas: 4"));
    const run = await tiers("--root", dir, "deploy", "--env", "staging", "--dry-run");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "Deployment/tiers-staging-api spec.replicas: is 2, services.api.replicas says 4 [drift/replicas]",
    );
  });

  it("refuses a tier that does not run on Kubernetes, and a missing --env", async () => {
    const dev = await tiers("--root", root, "deploy", "--env", "dev", "--dry-run");
    expect(dev.code).toBe(1);
    expect(dev.stderr).toContain("runs on compose, not Kubernetes");
    expect((await tiers("--root", root, "deploy")).code).toBe(2);
  });
});
