import { dag } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { TiersError } from "../../../../pipelines/src/core/errors.ts";
import { invocationContainer, repoMount } from "../../../../pipelines/src/engines/dagger/run.ts";
import { daggerSecrets } from "../../../../pipelines/src/engines/dagger/secrets.ts";
import { toolImageRef } from "../../../../pipelines/src/tools/images.ts";
import type { Invocation } from "../../../../pipelines/src/tools/invocation.ts";
import {
  chainOf,
  envVariables,
  execs,
  opsNamed,
  secretName,
  visibleText,
} from "../../../support/dagger/query.ts";

const password = "s3cr3t-Pa55word-value";
const keyPem = "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\nabcDEF123\n-----END";

const signing: Invocation = {
  tool: "cosign",
  args: ["sign", "--yes", "--key", "/run/secrets/cosign.key", "127.0.0.1:5000/tiers/api@sha256:1"],
  env: { COSIGN_YES: "true" },
  secretEnv: { COSIGN_PASSWORD: "cosign-password" },
  secretFiles: [{ path: "/run/secrets/cosign.key", secret: "cosign-key" }],
};

function secrets() {
  return daggerSecrets({
    "cosign-password": dag.setSecret("cosign-password", password),
    "cosign-key": dag.setSecret("cosign-key", keyPem),
    unused: undefined,
  });
}

describe("Dagger invocation runner (builds the query: no Dagger engine here)", () => {
  it("runs the tool's pinned image with the invocation's argument vector untouched", () => {
    const container = invocationContainer(signing, { secrets: secrets() });
    const [from] = opsNamed(container, "from");
    expect(from?.args.address).toBe(toolImageRef("cosign"));
    expect(execs(container)).toEqual([["cosign", ...signing.args]]);
    expect(envVariables(container)).toEqual({ COSIGN_YES: "true" });
  });

  it("binds secret env as withSecretVariable and secret files as withMountedSecret, by name", () => {
    const container = invocationContainer(signing, { secrets: secrets() });
    const [variable] = opsNamed(container, "withSecretVariable");
    expect(variable?.args.name).toBe("COSIGN_PASSWORD");
    expect(secretName(variable?.args.secret)).toBe("cosign-password");
    const [mounted] = opsNamed(container, "withMountedSecret");
    expect(mounted?.args.path).toBe("/run/secrets/cosign.key");
    expect(secretName(mounted?.args.source)).toBe("cosign-key");
  });

  it("never puts a secret value in exec args, env, labels or files", () => {
    const text = visibleText(invocationContainer(signing, { secrets: secrets() }));
    expect(text).not.toContain(password);
    expect(text).not.toContain("abcDEF123");
    // The same check must be able to fail: a secret passed as a plain env var is caught.
    const leaky = invocationContainer(
      { ...signing, env: { COSIGN_PASSWORD: password } },
      { secrets: secrets() },
    );
    expect(visibleText(leaky)).toContain(password);
  });

  it("refuses to run when a named secret was not given, naming the flag to pass", () => {
    let error: unknown;
    try {
      invocationContainer(signing, {
        secrets: daggerSecrets({ "cosign-key": secrets()["cosign-key"] }),
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TiersError);
    expect((error as TiersError).message).toContain('"cosign-password"');
    expect((error as TiersError).hint).toContain("--cosign-password");
  });

  it("mounts the repository at /repo and resolves a relative cwd under it", () => {
    const source = dag.directory();
    const container = invocationContainer(
      { tool: "kubectl", args: ["kustomize", "k8s/overlays/staging"], cwd: "k8s" },
      { source },
    );
    const [mount] = opsNamed(container, "withMountedDirectory");
    expect(mount?.args.path).toBe(repoMount);
    expect(opsNamed(container, "withWorkdir")[0]?.args.path).toBe(`${repoMount}/k8s`);
  });

  it("sets a run id before the exec of a side-effect step so the exec cache cannot answer it", () => {
    const container = invocationContainer(signing, { secrets: secrets(), runId: "run-42" });
    const ops = chainOf(container).map((op) => op.operation);
    const runIdAt = opsNamed(container, "withEnvVariable").findIndex(
      (op) => op.args.name === "TIERS_RUN_ID",
    );
    expect(runIdAt).toBeGreaterThanOrEqual(0);
    expect(ops.lastIndexOf("withEnvVariable")).toBeLessThan(ops.indexOf("withExec"));
    expect(envVariables(container).TIERS_RUN_ID).toBe("run-42");
  });

  it("feeds stdin through withExec, not through argv", () => {
    const container = invocationContainer({
      tool: "kubectl",
      args: ["apply", "-f", "-"],
      stdin: "kind: List\n",
    });
    const [exec] = opsNamed(container, "withExec");
    expect(exec?.args.stdin).toBe("kind: List\n");
    expect(exec?.args.args).toEqual(["kubectl", "apply", "-f", "-"]);
  });
});
