/**
 * sign, verify and deploy under Dagger, stopped at the engine boundary: each tool invocation
 * is recorded with the exact container query the Dagger runner would run and answered by a
 * scripted fake (no Dagger engine, no cosign, no registry, no cluster here). Rendering is real:
 * `kubectl kustomize` runs on this machine's kubectl, as it needs no cluster.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Container, dag } from "@dagger.io/dagger";
import { afterEach, describe, expect, it } from "vitest";
import { parseArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { TiersError } from "../../../pipelines/src/core/errors.ts";
import { readPins, setPins } from "../../../pipelines/src/core/promotion/overlay.ts";
import { testRunVerdict } from "../../../pipelines/src/core/promotion/test-run.ts";
import {
  DaggerCosignEvidence,
  daggerSigner,
} from "../../../pipelines/src/engines/dagger/evidence.ts";
import type { ModuleSettings } from "../../../pipelines/src/engines/dagger/pipeline.ts";
import type { PromotionOptions } from "../../../pipelines/src/engines/dagger/promotion.ts";
import { evidenceStep, testReport } from "../../../pipelines/src/engines/dagger/promotion.ts";
import { invocationContainer, registryAuthDir } from "../../../pipelines/src/engines/dagger/run.ts";
import { daggerSecrets } from "../../../pipelines/src/engines/dagger/secrets.ts";
import { runHost } from "../../../pipelines/src/engines/host/run.ts";
import { readTestRunReport } from "../../../pipelines/src/surfaces/cli/commands/record-tests.ts";
import { toolImageRef } from "../../../pipelines/src/tools/images.ts";
import type { Invocation, ToolResult } from "../../../pipelines/src/tools/invocation.ts";
import {
  commit,
  constructorArguments,
  fixtureRoot,
  OfflinePipeline,
  type OfflineSettings,
  OfflineTiers,
  offlineTiers,
  ok,
  repo,
} from "../../support/dagger/offline.ts";
import {
  envVariables,
  execs,
  opsNamed,
  secretName,
  visibleText,
} from "../../support/dagger/query.ts";

const registry = "registry.example.test";
const digestOf = (service: string) => `sha256:${(service === "api" ? "a" : "b").repeat(64)}`;
const token = "eyJhbGciOiJSUzI1NiJ9.oidc-token-value.sig";
const password = "registry-Pa55-value";
const identity = {
  subject: "https://github.com/tiers-dev/tiers/.github/workflows/release.yml@refs/heads/main",
  issuer: "https://token.actions.githubusercontent.com",
};

/** A registry that serves each service's image of `commit`, and a cosign that succeeds. */
function registryAndCosign(verify?: (invocation: Invocation) => ToolResult) {
  return (invocation: Invocation): ToolResult => {
    if (invocation.tool === "skopeo") {
      const service = invocation.args.at(-1)!.includes("/api:") ? "api" : "worker";
      return ok(
        JSON.stringify({
          Name: `${registry}/tiers/${service}`,
          Digest: digestOf(service),
          Labels: { "org.opencontainers.image.revision": commit },
        }),
      );
    }
    if (invocation.tool === "cosign" && invocation.args[0] === "sign") return ok();
    if (invocation.tool === "cosign" && invocation.args[0] === "verify" && verify) {
      return verify(invocation);
    }
    return { exitCode: 1, stdout: "", stderr: `unexpected ${invocation.args.join(" ")}` };
  };
}

describe("sign (argument vectors and query only: no Dagger engine, no cosign here)", () => {
  it("reads each digest from the registry, then signs it keyless, annotated with the tier", async () => {
    const tiers = offlineTiers({
      registry,
      registryUsername: "ci",
      registryPassword: dag.setSecret("registry-password", password),
    });
    tiers.tool = registryAndCosign();
    const out = await tiers.sign(
      "staging",
      repo,
      commit,
      undefined,
      undefined,
      dag.setSecret("oidc-token", token),
    );
    const invocations = tiers.calls.map((c) => c.invocation);
    expect(invocations.map((i) => [i.tool, i.args[0]])).toEqual([
      ["skopeo", "inspect"],
      ["skopeo", "inspect"],
      ["cosign", "sign"],
      ["cosign", "sign"],
    ]);
    expect(invocations[0]?.args).toEqual([
      "inspect",
      "--tls-verify=true",
      "--command-timeout=10s", // bounded wait (issue 10): skopeo(1) --command-timeout
      `docker://${registry}/tiers/api:${commit}`,
    ]);
    const signing = tiers.calls[2]!;
    expect(signing.invocation.args).toEqual([
      "sign",
      "--yes",
      "--tlog-upload=true",
      "-a",
      "tiers.tier=staging",
      "--timeout=60s",
      `${registry}/tiers/api@${digestOf("api")}`,
    ]);
    // In the cosign image, the token as a secret variable, the registry login as a secret file.
    const container = signing.container;
    expect(opsNamed(container, "from")[0]?.args.address).toBe(toolImageRef("cosign"));
    expect(execs(container)).toEqual([["cosign", ...signing.invocation.args]]);
    const [tokenVar] = opsNamed(container, "withSecretVariable");
    expect(tokenVar?.args.name).toBe("SIGSTORE_ID_TOKEN");
    expect(secretName(tokenVar?.args.secret)).toBe("oidc-token");
    const [auth] = opsNamed(container, "withMountedSecret");
    expect(auth?.args.path).toBe(`${registryAuthDir}/config.json`);
    expect(secretName(auth?.args.source)).toBe("registry-auth");
    expect(envVariables(container).DOCKER_CONFIG).toBe(registryAuthDir);
    expect(envVariables(container).TIERS_RUN_ID).toBeTruthy();
    for (const call of tiers.calls) {
      expect(visibleText(call.container)).not.toContain(token);
      expect(visibleText(call.container)).not.toContain(password);
    }
    expect(out).toContain(`identity:${identity.subject}`);
  });

  it("signs a passage by the policy of the tier that checks it, as the host engine does", async () => {
    // test's own policy is `none`, staging's is keyless: the test passage is signed keyless.
    const tiers = offlineTiers({ registry });
    tiers.tool = registryAndCosign();
    await tiers.sign(
      "test",
      repo,
      commit,
      undefined,
      undefined,
      dag.setSecret("oidc-token", token),
    );
    const signed = tiers.calls.filter((c) => c.invocation.args[0] === "sign");
    expect(signed).toHaveLength(2);
    expect(signed[0]?.invocation.args).toContain("tiers.tier=test");
    expect(signed[0]?.invocation.secretEnv).toEqual({ SIGSTORE_ID_TOKEN: "oidc-token" });
    // dev's passage is checked by test, whose policy is `none`: nothing to sign with.
    const dev = offlineTiers({ registry });
    dev.tool = registryAndCosign();
    await expect(dev.sign("dev", repo, commit)).rejects.toThrow(
      /no signing policy governs dev passages/,
    );
    expect(dev.calls.some((c) => c.invocation.tool === "cosign")).toBe(false);
  });

  it("refuses keyless signing without an OIDC token, before cosign runs", async () => {
    const tiers = offlineTiers({ registry });
    tiers.tool = registryAndCosign();
    const error = await tiers.sign("staging", repo, commit).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TiersError);
    expect((error as TiersError).message).toMatch(/needs an OIDC identity token/);
    expect((error as TiersError).hint).toContain("--oidc-token");
    expect(tiers.calls.some((c) => c.invocation.tool === "cosign")).toBe(false);
  });

  it("refuses a digest whose registry image carries another revision", async () => {
    const tiers = offlineTiers({ registry });
    tiers.tool = () =>
      ok(
        JSON.stringify({
          Digest: digestOf("api"),
          Labels: { "org.opencontainers.image.revision": "f".repeat(40) },
        }),
      );
    await expect(
      tiers.sign("staging", repo, commit, undefined, undefined, dag.setSecret("oidc-token", token)),
    ).rejects.toThrow(/carries revision f{40}, expected/);
  });

  it("signs with a key as an env:// key and its password as secret variables (key mode)", () => {
    const secrets = daggerSecrets({
      "cosign-key": dag.setSecret("cosign-key", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
      "cosign-password": dag.setSecret("cosign-password", "key-Pa55"),
    });
    const evidence = new DaggerCosignEvidence({ project: "tiers", run: async () => ok(), secrets });
    const policy = { required: true, mode: "key", key: "file:/run/secrets/cosign.key" };
    const invocation = evidence.signInvocation(
      { tier: "prod", repository: `${registry}/tiers/api`, digest: digestOf("api") },
      policy,
    );
    expect(invocation.args.slice(0, 3)).toEqual(["sign", "--key", "env://COSIGN_PRIVATE_KEY"]);
    const container = invocationContainer(invocation, { secrets });
    const bound = Object.fromEntries(
      opsNamed(container, "withSecretVariable").map((op) => [
        op.args.name,
        secretName(op.args.secret),
      ]),
    );
    expect(bound).toEqual({ COSIGN_PRIVATE_KEY: "cosign-key", COSIGN_PASSWORD: "cosign-password" });
    expect(visibleText(container)).not.toContain("key-Pa55");
    expect(() => daggerSigner(policy, daggerSecrets({}))).toThrow(/--cosign-key/);
  });

  it("verifies a key-mode signature with the public key handed over as a secret", async () => {
    const policy = { required: true, mode: "key", key: "file:/run/secrets/cosign.key" };
    const subject = { tier: "prod", repository: `${registry}/tiers/api`, digest: digestOf("api") };
    const seen: Invocation[] = [];
    const withKey = new DaggerCosignEvidence({
      project: "tiers",
      run: async (invocation) => {
        seen.push(invocation);
        return {
          exitCode: 1,
          stdout: "",
          stderr: "Error: no matching signatures: invalid signature",
        };
      },
      secrets: daggerSecrets({ "cosign-public-key": dag.setSecret("cosign-public-key", "PUB") }),
    });
    const check = await withKey.verifySignature(subject, policy);
    expect(seen[0]?.args.slice(0, 3)).toEqual(["verify", "--key", "env://COSIGN_PUBLIC_KEY"]);
    expect(seen[0]?.secretEnv).toEqual({ COSIGN_PUBLIC_KEY: "cosign-public-key" });
    expect(check).toMatchObject({ ok: false, failure: "wrong-signer" });
    // Without it, the gate fails closed and says which flag to pass; cosign never runs.
    const without = new DaggerCosignEvidence({
      project: "tiers",
      run: async () => ok(),
      secrets: daggerSecrets({}),
    });
    const refused = await without.verifySignature(subject, policy);
    expect(refused).toMatchObject({ ok: false, failure: "invalid" });
    expect(refused.why).toContain("needs the public key: pass --cosign-public-key");
  });
});

describe("verify (argument vectors and query only: no Dagger engine, no cosign here)", () => {
  it("checks each digest against the tier's identity and annotation", async () => {
    const tiers = offlineTiers({ registry });
    tiers.tool = registryAndCosign((invocation) => {
      const ref = invocation.args.at(-1)!;
      const digest = ref.slice(ref.indexOf("@") + 1);
      return ok(
        JSON.stringify([
          {
            critical: {
              identity: { "docker-reference": ref.slice(0, ref.indexOf("@")) },
              image: { "docker-manifest-digest": digest },
              type: "cosign container image signature",
            },
            optional: { "tiers.tier": "prod", Subject: identity.subject, Issuer: identity.issuer },
          },
        ]),
      );
    });
    const out = await tiers.verify("prod", repo, commit);
    const verify = tiers.calls.find((c) => c.invocation.args[0] === "verify")!;
    expect(verify.invocation.args).toEqual([
      "verify",
      "--certificate-identity",
      identity.subject,
      "--certificate-oidc-issuer",
      identity.issuer,
      "-a",
      "tiers.tier=prod",
      "--output",
      "json",
      "--timeout=60s",
      `${registry}/tiers/api@${digestOf("api")}`,
    ]);
    expect(out).toMatch(/✓ api: signature by identity:.* annotated prod verifies/);
  });

  it("fails, naming the service, when a digest is unsigned", async () => {
    const tiers = offlineTiers({ registry });
    tiers.tool = registryAndCosign(() => ({
      exitCode: 1,
      stdout: "",
      stderr: "Error: no signatures found",
    }));
    const failure = tiers.verify("prod", repo, commit);
    await expect(failure).rejects.toThrow(TiersError);
    await expect(failure).rejects.toThrow(/api: .*is unsigned/);
  });
});

describe("deploy (argument vectors only: no cluster, no Dagger engine here)", () => {
  const kubeconfig =
    "apiVersion: v1\nclusters:\n- cluster: {server: https://k8s.example.test}\n  name: c\ntoken: kube-Token-value\n";
  let temp: string | undefined;
  afterEach(async () => {
    if (temp) await rm(temp, { recursive: true, force: true });
    temp = undefined;
  });

  /** Real rendering on this machine's kubectl; the cluster itself is unreachable. */
  const renderOrUnreachable = (root: string) => async (invocation: Invocation) =>
    invocation.args[0] === "kustomize"
      ? runHost(invocation, { root, reject: false })
      : // The migration step first deletes the previous Job (--ignore-not-found): let it pass,
        // so the deploy reaches its first apply (the migration Job's, before any workload).
        invocation.args.includes("delete")
        ? { exitCode: 0, stdout: "", stderr: "" }
        : {
            exitCode: 1,
            stdout: "",
            stderr:
              "Unable to connect to the server: dial tcp: lookup k8s.example.test: no such host",
          };

  it("renders the overlay in the kubectl image and plans without a cluster (--dry-run)", async () => {
    const tiers = offlineTiers();
    tiers.tool = renderOrUnreachable(fixtureRoot);
    const out = await tiers.deploy("staging", undefined, undefined, true);
    expect(tiers.calls).toHaveLength(1);
    const [render] = tiers.calls;
    expect(execs(render?.container)).toEqual([["kubectl", "kustomize", "k8s/overlays/staging"]]);
    expect(opsNamed(render?.container, "from")[0]?.args.address).toBe(toolImageRef("kubectl"));
    expect(opsNamed(render?.container, "withMountedSecret")).toEqual([]);
    expect(out).toContain("plan: apply");
  });

  /** A checkout whose staging overlay pins `digestOf("api")`; with its passage into staging when `passed`. */
  async function pinnedCheckout(passed: boolean): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "tiers-dagger-deploy-"));
    for (const sub of ["environments", "k8s", "compose"]) {
      await cp(join(fixtureRoot, sub), join(dir, sub), { recursive: true });
    }
    const overlay = join(dir, "k8s/overlays/staging/kustomization.yaml");
    const text = await readFile(overlay, "utf8");
    const pins = readPins(text, overlay);
    await writeFile(
      overlay,
      setPins(
        text,
        pins.map((pin) => ({ index: pin.index, digest: digestOf("api") })),
        overlay,
      ),
    );
    if (passed) {
      const hex = digestOf("api").replace(":", "-");
      await mkdir(join(dir, "releases/passages/staging"), { recursive: true });
      await writeFile(
        join(dir, `releases/passages/staging/${hex}.yaml`),
        [
          "kind: passage",
          "tier: staging",
          `digest: ${digestOf("api")}`,
          "service: api",
          `repository: ${pins[0]!.newName}`,
          "commit: null",
          "recorded_by: ci",
          'recorded_at: "2026-11-22T00:00:00Z"',
          "gates: []",
          "evidence: { verifier: cosign, signer: null, signature: null }",
          "",
        ].join("\n"),
      );
    }
    return dir;
  }

  /** The registry serves the pinned digest; cosign finds the test passage signed by staging's identity. */
  const verifiedThen =
    (next: (invocation: Invocation) => Promise<ToolResult>) => async (invocation: Invocation) => {
      if (invocation.tool === "skopeo")
        return ok(JSON.stringify({ Digest: digestOf("api"), Labels: {} }));
      if (invocation.tool === "cosign") {
        const ref = invocation.args.at(-1)!;
        return ok(
          JSON.stringify([
            {
              critical: {
                identity: { "docker-reference": ref.slice(0, ref.indexOf("@")) },
                image: { "docker-manifest-digest": ref.slice(ref.indexOf("@") + 1) },
                type: "cosign container image signature",
              },
              optional: {
                "tiers.tier": "test",
                Subject: identity.subject,
                Issuer: identity.issuer,
              },
            },
          ]),
        );
      }
      return next(invocation);
    };

  it("verifies every pin before anything is applied: no passage into the tier refuses, dry run included", async () => {
    temp = await pinnedCheckout(false);
    const tiers = offlineTiers();
    tiers.root = temp;
    tiers.tool = verifiedThen(renderOrUnreachable(temp));
    const refused = tiers.deploy("staging", undefined, undefined, true);
    await expect(refused).rejects.toThrow(/deploy of staging refused: 2 pin\(s\) do not hold/);
    await expect(refused).rejects.toThrow(
      /no passage record releases\/passages\/staging\/sha256-a+\.yaml/,
    );
    expect(
      tiers.calls.filter((c) => c.invocation.tool === "kubectl").map((c) => c.invocation.args[0]),
    ).toEqual(["kustomize"]);
  });

  it("checks each pin's registry digest with skopeo and its signature with cosign, in their images", async () => {
    temp = await pinnedCheckout(true);
    const tiers = offlineTiers();
    tiers.root = temp;
    tiers.tool = verifiedThen(renderOrUnreachable(temp));
    const out = await tiers.deploy("staging", undefined, undefined, true);
    expect(out).toMatch(
      /2 pin\(s\) hold: passage into staging recorded, not rejected, signature verifies/,
    );
    const verify = tiers.calls.find((c) => c.invocation.tool === "cosign")!;
    // The promotion gate's signature, re-checked: test's passage, by staging's keyless identity.
    expect(verify.invocation.args).toEqual(
      expect.arrayContaining(["--certificate-identity", identity.subject, "-a", "tiers.tier=test"]),
    );
    expect(opsNamed(verify.container, "from")[0]?.args.address).toBe(toolImageRef("cosign"));
    const skopeo = tiers.calls.find((c) => c.invocation.tool === "skopeo")!;
    expect(opsNamed(skopeo.container, "from")[0]?.args.address).toBe(toolImageRef("skopeo"));
  });

  it("applies server-side with the kubeconfig as a mounted secret and the manifests on stdin", async () => {
    // A checkout where staging has a promoted pin, so the deploy gets as far as the cluster.
    temp = await pinnedCheckout(true);
    const tiers = offlineTiers();
    tiers.root = temp;
    tiers.tool = verifiedThen(renderOrUnreachable(temp));
    await expect(tiers.deploy("staging", dag.setSecret("kubeconfig", kubeconfig))).rejects.toThrow(
      TiersError,
    );
    const apply = tiers.calls.find((c) => c.invocation.args.includes("apply"));
    expect(apply, "the deploy reached kubectl apply").toBeDefined();
    // The deploy engine's first apply (a server-side dry run, then the real one).
    expect(apply?.invocation.args.slice(0, 7)).toEqual([
      "--kubeconfig",
      "/run/secrets/tiers-kubeconfig",
      "apply",
      "--server-side",
      "--field-manager=tiers",
      "-f",
      "-",
    ]);
    const container = apply!.container;
    expect(execs(container)).toEqual([["kubectl", ...apply!.invocation.args]]);
    const [mounted] = opsNamed(container, "withMountedSecret");
    expect(mounted?.args.path).toBe("/run/secrets/tiers-kubeconfig");
    expect(secretName(mounted?.args.source)).toBe("kubeconfig");
    const [exec] = opsNamed(container, "withExec");
    expect(String(exec?.args.stdin)).toContain(`@${digestOf("api")}`);
    for (const call of tiers.calls)
      expect(visibleText(call.container)).not.toContain("kube-Token-value");
  });
});

describe("plan, promote and rollback (builds the query: no Dagger engine, registry or git remote here)", () => {
  const remote = "https://git.example.test/tiers.git";
  const gitToken = "ghs_git-Token-value";

  type Box = { args: readonly string[]; container: Container; cli: Container; push?: Container };

  /** Records the toolbox each function builds instead of running it on an engine. */
  class RecordingPipeline extends OfflinePipeline {
    constructor(
      settings: ModuleSettings,
      state: Recording,
      readonly boxes: Box[],
    ) {
      super(settings, state);
    }
    override async promotion(args: readonly string[], options: PromotionOptions) {
      const step = await super.promotion(args, options);
      // `container` is the last step: the push when there is one, else the CLI run.
      this.boxes.push({ args, container: step.push ?? step.cli, ...step });
      return step;
    }
    override async conclude(): Promise<string> {
      return "done\n";
    }
  }
  class Recording extends OfflineTiers {
    boxes: Box[] = [];
    protected override offlinePipeline(settings: ModuleSettings): OfflinePipeline {
      return new RecordingPipeline(settings, this, this.boxes);
    }
  }
  const recording = (settings: OfflineSettings = {}) => {
    const tiers = new Recording(...constructorArguments({ gitRemote: remote, ...settings }));
    tiers.tool = registryAndCosign();
    return tiers;
  };

  it("promotes with the same CLI on a fresh clone, then pushes what it committed", async () => {
    const tiers = recording({
      registry,
      registryUsername: "ci",
      registryPassword: dag.setSecret("registry-password", password),
      branch: "main",
      gitToken: dag.setSecret("git-token", gitToken),
    });
    await tiers.promote(
      "staging",
      undefined,
      undefined,
      undefined,
      true,
      dag.setSecret("kubeconfig", "token: kube-Token-value"),
      "octocat",
      "staging",
      dag.setSecret("oidc-token", token),
    );
    const [box] = tiers.boxes;
    const commands = execs(box?.container);
    expect(commands.slice(-4)).toEqual([
      ["git", "clone", "--branch", "main", remote, "/repo"],
      ["npm", "ci", "--omit=dev", "--workspace=pipelines", "--no-audit", "--no-fund"],
      ["node", "pipelines/bin/tiers.js", "--no-color", "promote", "--env", "staging", "--yes"],
      ["git", "push", "origin", "HEAD:refs/heads/main"],
    ]);
    const secrets = Object.fromEntries(
      opsNamed(box?.container, "withSecretVariable").map((op) => [
        op.args.name,
        secretName(op.args.secret),
      ]),
    );
    expect(secrets).toEqual({ GIT_CONFIG_VALUE_2: "git-auth", SIGSTORE_ID_TOKEN: "oidc-token" });
    const mounted = Object.fromEntries(
      opsNamed(box?.container, "withMountedSecret").map((op) => [
        op.args.path,
        secretName(op.args.source),
      ]),
    );
    expect(mounted).toEqual({
      [`${registryAuthDir}/config.json`]: "registry-auth",
      "/run/secrets/tiers-kubeconfig": "kubeconfig",
    });
    const env = envVariables(box?.container);
    expect(env).toMatchObject({
      TIERS_ACTOR: "octocat",
      GITHUB_ACTIONS: "true",
      GITHUB_ENVIRONMENT: "staging",
      TIERS_KUBECONFIG: "/run/secrets/tiers-kubeconfig",
      GIT_CONFIG_KEY_2: "http.extraHeader",
    });
    const text = visibleText(box?.container);
    for (const value of [gitToken, token, password, "kube-Token-value"])
      expect(text).not.toContain(value);
  });

  it("assembles the toolbox from the pinned cosign and kubectl images", async () => {
    const tiers = recording();
    await tiers.plan("prod", undefined, undefined, undefined, "json");
    const [box] = tiers.boxes;
    const copied = opsNamed(box?.container, "withFile").map((op) => ({
      path: op.args.path,
      from: (
        op.args.source as { chain: { operation: string; args: Record<string, unknown> }[] }
      ).chain.find((o) => o.operation === "from")?.args.address,
    }));
    expect(copied).toEqual([
      { path: "/usr/local/bin/cosign", from: toolImageRef("cosign") },
      { path: "/usr/local/bin/kubectl", from: toolImageRef("kubectl") },
    ]);
    // A plan changes nothing: no push.
    expect(box?.push).toBeUndefined();
    expect(execs(box?.container).at(-1)).toEqual([
      "node",
      "pipelines/bin/tiers.js",
      "--no-color",
      "plan",
      "--env",
      "prod",
      "--json",
    ]);
  });

  it("rebuilds the artefact record of --commit from what the registry serves", async () => {
    const tiers = recording({ registry });
    await tiers.promote("test", commit);
    const [box] = tiers.boxes;
    expect(box?.args).toEqual([
      "promote",
      "--env",
      "test",
      "--yes",
      "--no-deploy",
      "--commit",
      commit,
    ]);
    const record = opsNamed(box?.container, "withNewFile").find(
      (op) => op.args.path === `/repo/.tiers/artefacts/${commit}.json`,
    );
    const parsed = parseArtefactRecord(String(record?.args.contents), "record");
    expect(parsed.images.api?.ref).toBe(`${registry}/tiers/api@${digestOf("api")}`);
    expect(parsed.images.worker?.digest).toBe(digestOf("worker"));
  });

  it("fails with the CLI's own output and pushes nothing when the CLI refuses (engine answers faked)", async () => {
    let pushed = 0;
    const step = (exitCode: number) => ({
      cli: {
        exitCode: async () => exitCode,
        stdout: async () =>
          "plan: promote into prod\n  ✗ previous-passage [api]: no staging passage\n",
        stderr: async () => "tiers: 1 gate failed\n",
      } as unknown as Container,
      push: { sync: async () => pushed++ } as unknown as Container,
    });
    const tiers = offlineTiers().pipeline();
    const refused = tiers.conclude(step(1), "promote");
    await expect(refused).rejects.toThrow(TiersError);
    await expect(refused).rejects.toThrow(
      /exit 1\)\nplan: promote into prod\n.*no staging passage/s,
    );
    expect(pushed).toBe(0);
    await expect(tiers.conclude(step(0), "promote")).resolves.toContain("plan: promote into prod");
    expect(pushed).toBe(1);
  });

  it("records a scanner report passed as a File with `tiers record-scan` on a fresh clone, then pushes it", async () => {
    const tiers = recording({ gitToken: dag.setSecret("git-token", gitToken) });
    const report = dag.directory().withNewFile("api.grype.json", "{}").file("api.grype.json");
    const digest = digestOf("api");
    await tiers.recordScan(
      report,
      digest,
      undefined,
      undefined,
      "grype",
      `${registry}/tiers/api`,
      dag.setSecret("cosign-key", "cosign-Key-value"),
      dag.setSecret("cosign-password", "cosign-Pa55-value"),
      "octocat",
    );
    const [box] = tiers.boxes;
    const path = `.tiers/reports/scan-sha256-${"a".repeat(64)}.grype.json`;
    expect(box?.args).toEqual([
      "record-scan",
      "--digest",
      digest,
      "--report",
      path,
      "--format",
      "grype",
      "--repository",
      `${registry}/tiers/api`,
    ]);
    // The report is the caller's File itself, placed in the clone's untracked .tiers/.
    const placed = opsNamed(box?.container, "withFile").find(
      (op) => op.args.path === `/repo/${path}`,
    );
    expect(placed).toBeDefined();
    expect(execs(box?.container).at(-1)).toEqual(["git", "push", "origin", "HEAD:refs/heads/main"]);
    const secrets = Object.fromEntries(
      opsNamed(box?.container, "withSecretVariable").map((op) => [
        op.args.name,
        secretName(op.args.secret),
      ]),
    );
    expect(secrets).toMatchObject({
      COSIGN_PRIVATE_KEY: "cosign-key",
      COSIGN_PASSWORD: "cosign-password",
    });
    expect(envVariables(box?.container)).toMatchObject({
      TIERS_ACTOR: "octocat",
      TIERS_COSIGN_KEY: "env://COSIGN_PRIVATE_KEY",
    });
    expect(visibleText(box?.container)).not.toContain("cosign-Key-value");
  });

  it("refuses a record-scan of a malformed digest or an unknown format before any step is built", async () => {
    const tiers = recording();
    const report = dag.directory().withNewFile("r.json", "{}").file("r.json");
    await expect(tiers.recordScan(report, "sha256:abc")).rejects.toThrow(/--digest must be sha256/);
    await expect(
      tiers.recordScan(report, digestOf("api"), undefined, undefined, "trivy"),
    ).rejects.toThrow(/--format must be one of grype/);
    await expect(tiers.recordScan(report, undefined, commit)).rejects.toThrow(
      /needs --digest, or --commit with --service/,
    );
    await expect(tiers.recordScan(report, digestOf("api"), commit, "api")).rejects.toThrow(
      /not both/,
    );
    expect(tiers.boxes).toEqual([]);
  });

  it("records a scan of a commit's service image: the clone gets the record the registry serves, record-scan finds the digest in it", async () => {
    const tiers = recording({ registry, gitToken: dag.setSecret("git-token", gitToken) });
    const report = dag.directory().withNewFile("r.json", "{}").file("r.json");
    await tiers.recordScan(report, undefined, commit, "api", "grype");
    const [box] = tiers.boxes;
    const path = `.tiers/reports/scan-${commit}-api.grype.json`;
    expect(box?.args).toEqual([
      "record-scan",
      "--commit",
      commit,
      "--service",
      "api",
      "--report",
      path,
      "--format",
      "grype",
    ]);
    const record = opsNamed(box?.container, "withNewFile").find(
      (op) => op.args.path === `/repo/.tiers/artefacts/${commit}.json`,
    );
    const parsed = parseArtefactRecord(String(record?.args.contents), "record");
    expect(parsed.images.api?.digest).toBe(digestOf("api"));
    expect(
      opsNamed(box?.container, "withFile").some((op) => op.args.path === `/repo/${path}`),
    ).toBe(true);
  });

  it("records a publish's evidence with `tiers record-evidence`, the record it returned placed in the clone (no engine: the step only)", () => {
    const text = '{"commit":"x"}\n';
    const step = evidenceStep(
      { commit, text },
      { startedOn: "2026-01-01T00:00:00.000Z", finishedOn: "2026-01-01T00:01:00.000Z" },
    );
    expect(step.args).toEqual([
      "record-evidence",
      "--commit",
      commit,
      "--engine",
      "dagger",
      "--started-on",
      "2026-01-01T00:00:00.000Z",
      "--finished-on",
      "2026-01-01T00:01:00.000Z",
    ]);
    expect(step.files).toEqual({ [`.tiers/artefacts/${commit}.json`]: text });
  });

  it("rolls back with the same CLI and pushes the rollback commit", async () => {
    const tiers = recording();
    await tiers.rollback("prod", digestOf("api"), "smoke regression", false, undefined, "octocat");
    expect(tiers.boxes[0]?.args).toEqual([
      "rollback",
      "--env",
      "prod",
      "--to",
      digestOf("api"),
      "--reason",
      "smoke regression",
      "--no-deploy",
    ]);
    expect(execs(tiers.boxes[0]?.container).at(-1)).toEqual([
      "git",
      "push",
      "origin",
      "HEAD:refs/heads/main",
    ]);
  });
});

describe("the tiers CLI the toolbox runs (drift between the module and the CLI)", () => {
  it("has every command and flag the Dagger functions pass to it", async () => {
    const { buildProgram } = await import("../../../pipelines/src/surfaces/cli/main.ts");
    const program = await buildProgram();
    const used: Record<string, string[]> = {
      plan: ["--env", "--commit", "--digest", "--service", "--json"],
      promote: ["--env", "--yes", "--no-deploy", "--commit", "--digest", "--service"],
      rollback: ["--env", "--to", "--reason", "--no-deploy"],
      "record-tests": ["--report"],
      "record-evidence": ["--commit", "--engine", "--started-on", "--finished-on"],
      "record-scan": ["--digest", "--commit", "--service", "--report", "--format", "--repository"],
    };
    expect(program.options.map((o) => o.long)).toContain("--no-color");
    for (const [name, flags] of Object.entries(used)) {
      const command = program.commands.find((c) => c.name() === name);
      expect(command, `tiers ${name}`).toBeDefined();
      const known = command!.options.map((o) => o.long);
      for (const flag of flags) expect(known, `tiers ${name} ${flag}`).toContain(flag);
    }
  });

  it("records a passing Dagger test run in the report shape `tiers record-tests` reads", async () => {
    const report = testReport(commit, ["api", "worker"]);
    expect(report.path).toBe(`.tiers/reports/test-dagger-${commit.slice(0, 12)}.json`);
    // Written where the toolbox puts it, then read back by record-tests' own parser: a shape
    // the parser refused would fail here, not in CI.
    const dir = await mkdtemp(join(tmpdir(), "tiers-dagger-report-"));
    try {
      const file = join(dir, "report.json");
      await writeFile(file, report.text);
      const parsed = await readTestRunReport(file);
      expect(parsed).toEqual({
        id: `dagger-${commit.slice(0, 12)}`,
        commit,
        outcome: "passed",
        services: [
          { service: "api", outcome: "passed" },
          { service: "worker", outcome: "passed" },
        ],
      });
      expect(testRunVerdict(parsed)).toEqual({
        commit,
        passed: true,
        summary: `api passed, worker passed (run dagger-${commit.slice(0, 12)})`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
