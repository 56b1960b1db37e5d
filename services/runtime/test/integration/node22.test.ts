import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadMachineSettings } from "../../../../pipelines/src/engines/host/machine.ts";

// The unit tests run the library under vitest on Node 20; service images run it with Node 22's
// type stripping. This runs the real sources in the machine's Node 22 base image.
const root = resolve(import.meta.dirname, "../../../..");
const docker = process.env.TIERS_DOCKER_BIN ?? "/usr/bin/docker";
const image = (await loadMachineSettings(root)).baseImage;
const available = spawnSync(docker, ["image", "inspect", image], { stdio: "ignore" }).status === 0;

const work = mkdtempSync(join(tmpdir(), "tiers-runtime-node22-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
writeFileSync(
  join(work, "start.mjs"),
  `const { assertTier, createLogger, TierError } = await import("/runtime/src/index.ts");
try {
  const tier = assertTier(process.env);
  createLogger({ service: "probe", tier }).info("started", { node: process.version });
} catch (error) {
  if (!(error instanceof TierError)) throw error;
  process.stderr.write(error.message + "\\n");
  process.exit(78);
}
`,
);

/** Starts the probe in a throwaway container (removed on exit, labelled for cleanup). */
function start(env: Record<string, string>, nodeFlags: string[] = []) {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  return spawnSync(
    docker,
    [
      "run",
      "--rm",
      "--label",
      "tiers.test=runtime-node22",
      "--network",
      "none",
      "--volume",
      `${join(root, "services/runtime")}:/runtime:ro`,
      // Its dependencies (prom-client, the OpenTelemetry SDK), where Node looks up from /runtime.
      "--volume",
      `${join(root, "node_modules")}:/node_modules:ro`,
      "--volume",
      `${join(work, "start.mjs")}:/start.mjs:ro`,
      ...envArgs,
      image,
      "node",
      ...nodeFlags,
      "/start.mjs",
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
}

describe(`@tiers/runtime under Node 22 type stripping (image ${image})`, () => {
  // This file runs only on the host, where scripts/provision.sh (run by .ci/run) builds the
  // image: a missing image is a broken machine, reported, never a silent skip.
  it("finds the machine's Node 22 base image", () => {
    expect(available, `${image} is not on the Docker engine: run scripts/provision.sh`).toBe(true);
  });

  it("a prod pod with its settings starts and logs with the prod marker", () => {
    const result = start({
      TIERS_TIER: "prod",
      NODE_ENV: "production",
      TIERS_RUNTIME: "kubernetes",
      TIERS_MTLS: "true",
      TIERS_MTLS_PROVIDER: "mesh",
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^🜄 \{.*"tier":"prod","service":"probe","msg":"started","node":"v22\./,
    );
  });

  it("prod with the inspector refuses to start, naming the contradiction", () => {
    const result = start(
      { TIERS_TIER: "prod", NODE_ENV: "production", TIERS_MTLS_PROVIDER: "mesh" },
      ["--inspect=127.0.0.1:0"],
    );
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(
      "refusing to start as tier prod:\n  - the Node inspector is enabled (--inspect=127.0.0.1:0), but tier prod has no debug ports",
    );
    expect(result.stdout).toBe("");
  });
});
