import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TiersError } from "../../../../pipelines/src/core/errors.ts";
import {
  loadMachineSettings,
  machineEnvPath,
  parseMachineEnv,
  resolveMachineSettings,
} from "../../../../pipelines/src/engines/host/machine.ts";

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

/** A throwaway repository root, with a machine file when `text` is given. */
async function repoWith(text?: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "tiers-machine-"));
  roots.push(root);
  if (text !== undefined) {
    await mkdir(join(root, ".tiers"), { recursive: true });
    await writeFile(join(root, machineEnvPath), text);
  }
  return root;
}

// What scripts/provision.sh writes on a project machine.
const provisioned = `# Written by scripts/provision.sh for this machine; do not commit.
TIERS_BASE_IMAGE=local/node:22-bookworm-slim
TIERS_POSTGRES_IMAGE=local/postgres:15-bookworm
TIERS_BUSYBOX_IMAGE=local/busybox:latest
TIERS_DEBIAN_IMAGE=local/debian:bookworm
TIERS_EXTRA_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
TIERS_REGISTRY=127.0.0.1:5000
`;

describe("loadMachineSettings", () => {
  it("uses the public images a laptop would pull when there is no machine file", async () => {
    const settings = await loadMachineSettings(await repoWith(), {});
    expect(settings).toMatchObject({
      baseImage: "node:22-bookworm-slim",
      postgresImage: "postgres:15-bookworm",
      busyboxImage: "busybox:1.36",
      registry: "127.0.0.1:5000",
      extraCaBundle: undefined,
      file: undefined,
    });
    expect(Object.values(settings.source)).toEqual(Array(6).fill("default"));
  });

  it("reads the provisioned machine's local images, registry and CA bundle", async () => {
    const root = await repoWith(provisioned);
    const settings = await loadMachineSettings(root, {});
    expect(settings.baseImage).toBe("local/node:22-bookworm-slim");
    expect(settings.postgresImage).toBe("local/postgres:15-bookworm");
    expect(settings.busyboxImage).toBe("local/busybox:latest");
    expect(settings.debianImage).toBe("local/debian:bookworm");
    expect(settings.extraCaBundle).toBe("/etc/ssl/certs/ca-certificates.crt");
    expect(settings.file).toBe(join(root, ".tiers", "machine.env"));
    expect(settings.source.baseImage).toBe("file");
  });

  it("lets the process environment win over the file", async () => {
    const root = await repoWith(provisioned);
    const settings = await loadMachineSettings(root, {
      TIERS_BASE_IMAGE: "registry.example.com/node:22",
      TIERS_REGISTRY: "registry.example.com",
    });
    expect(settings.baseImage).toBe("registry.example.com/node:22");
    expect(settings.registry).toBe("registry.example.com");
    expect(settings.source).toMatchObject({
      baseImage: "env",
      registry: "env",
      postgresImage: "file",
    });
    expect(settings.postgresImage).toBe("local/postgres:15-bookworm");
  });

  it("names the file, line and column of a malformed line instead of skipping it", async () => {
    const root = await repoWith("TIERS_REGISTRY=127.0.0.1:5000\n  TIERS_BASE_IMAGE local/node\n");
    const error = await loadMachineSettings(root, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TiersError);
    expect((error as TiersError).where).toBe(`${join(root, ".tiers", "machine.env")}:2:3`);
    expect((error as TiersError).describe()).toContain("expected KEY=VALUE");
    expect((error as TiersError).hint).toContain("scripts/provision.sh");
  });

  it("reports an unreadable machine file as an error naming it", async () => {
    if (process.getuid?.() === 0) {
      // Root reads any file regardless of mode, so make the path a directory instead.
      const root = await repoWith();
      await mkdir(join(root, machineEnvPath), { recursive: true });
      await expect(loadMachineSettings(root, {})).rejects.toThrow(
        /cannot read the machine settings/,
      );
      return;
    }
    const root = await repoWith(provisioned);
    await chmod(join(root, machineEnvPath), 0o000);
    await expect(loadMachineSettings(root, {})).rejects.toThrow(/cannot read the machine settings/);
  });
});

describe("parseMachineEnv", () => {
  it("accepts comments, blank lines, `export` and quoted values", () => {
    const values = parseMachineEnv(
      "# comment\n\nexport TIERS_REGISTRY=\"10.0.0.5:5000\"\nTIERS_BASE_IMAGE='a/b:c'\r\nOTHER_KEY = kept \n",
      "m.env",
    );
    expect(values).toEqual({
      TIERS_REGISTRY: "10.0.0.5:5000",
      TIERS_BASE_IMAGE: "a/b:c",
      OTHER_KEY: "kept",
    });
  });
});

describe("resolveMachineSettings", () => {
  it("treats an empty image variable as unset, so no build gets an empty image name", () => {
    const settings = resolveMachineSettings(
      { TIERS_BASE_IMAGE: "local/node:22-bookworm-slim" },
      { TIERS_BASE_IMAGE: "" },
    );
    expect(settings.baseImage).toBe("local/node:22-bookworm-slim");
    expect(settings.source.baseImage).toBe("file");
  });

  it("lets an empty TIERS_EXTRA_CA_BUNDLE in the environment switch off the file's bundle", () => {
    const settings = resolveMachineSettings(
      { TIERS_EXTRA_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt" },
      { TIERS_EXTRA_CA_BUNDLE: "" },
    );
    expect(settings.extraCaBundle).toBeUndefined();
    expect(settings.source.extraCaBundle).toBe("env");
  });

  it("keeps keys it does not interpret, for other tools to read", () => {
    const settings = resolveMachineSettings({ TIERS_SOMETHING_ELSE: "x" }, {});
    expect(settings.fileValues.TIERS_SOMETHING_ELSE).toBe("x");
  });
});
