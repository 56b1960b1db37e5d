/**
 * What scripts/provision.sh promises, checked on the real machine after it ran (.ci/run runs
 * it first): the registry answers, the locally built images behave like the public ones the
 * project relies on, `tiers doctor` sees a usable engine, and a second run changes nothing.
 * Every container here carries the label tiers.test=provision-<run> and is removed afterwards.
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadMachineSettings,
  type MachineSettings,
} from "../../pipelines/src/engines/host/machine.ts";
import { docker, dockerBin } from "../support/docker.ts";
import { repoRoot, runTiers } from "../support/repo.ts";

const run = randomBytes(4).toString("hex");
const label = `tiers.test=provision-${run}`;
const containerName = (what: string) => `tiers-provision-${what}-${run}`;
let settings: MachineSettings;
const scratch: string[] = [];

beforeAll(async () => {
  try {
    docker("version", "--format", "{{.Server.Version}}");
  } catch {
    throw new Error(
      `the Docker engine does not answer ${dockerBin}: run \`sudo scripts/provision.sh\` first`,
    );
  }
  settings = await loadMachineSettings(repoRoot);
  if (settings.source.baseImage === "default") {
    throw new Error(
      ".tiers/machine.env names no local images: run `sudo scripts/provision.sh` first",
    );
  }
});

afterAll(async () => {
  const leftovers = docker("ps", "--all", "--quiet", "--filter", `label=${label}`);
  if (leftovers) docker("rm", "--force", "--volumes", ...leftovers.split("\n"));
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/** `docker run --rm` with this run's label; returns stdout. */
function runIn(image: string, what: string, args: string[], options: string[] = []): string {
  return docker(
    "run",
    "--rm",
    "--label",
    label,
    "--name",
    containerName(what),
    ...options,
    image,
    ...args,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("scripts/provision.sh (on this machine)", () => {
  it("serves a registry without authentication at the configured address", async () => {
    const response = await fetch(`http://${settings.registry}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  it("builds a Node 22 base image with npm and the node user (uid 1000)", () => {
    expect(settings.baseImage).toBe("local/node:22-bookworm-slim");
    expect(runIn(settings.baseImage, "node", ["node", "--version"])).toMatch(/^v22\.\d+\.\d+$/);
    expect(runIn(settings.baseImage, "npm", ["npm", "--version"])).toMatch(/^10\.\d+\.\d+$/);
    expect(runIn(settings.baseImage, "user", ["id", "-u"], ["--user", "node"])).toBe("1000");
    // The official image's entry point contract: a leading flag goes to node.
    expect(runIn(settings.baseImage, "entry", ["-e", "console.log(6 * 7)"])).toBe("42");
  });

  it("builds a busybox image for quick container checks", () => {
    expect(runIn(settings.busyboxImage, "busybox", ["sh", "-c", "echo ok"])).toBe("ok");
  });

  it("labels every image it built with its recipe hash, so unchanged ones are skipped", () => {
    for (const image of [settings.baseImage, settings.postgresImage, settings.busyboxImage]) {
      const recipe = docker(
        "image",
        "inspect",
        "--format",
        '{{index .Config.Labels "tiers.recipe"}}',
        image,
      );
      expect(recipe, image).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  describe("the PostgreSQL image (official image interface)", () => {
    const name = containerName("postgres");
    let address: string;

    beforeAll(async () => {
      const initdb = await mkdtemp(join(tmpdir(), "tiers-provision-initdb-"));
      scratch.push(initdb);
      await writeFile(
        join(initdb, "01-fixture.sql"),
        "CREATE TABLE fixture (id int); INSERT INTO fixture VALUES (42);\n",
      );
      // A sourced .sh script sees the entry point's variables, like with the official image.
      await writeFile(join(initdb, "02-note.sh"), 'echo "init script ran for $POSTGRES_DB"\n');
      // The server runs as the postgres user (uid 999), which must read the bind mount.
      await chmod(initdb, 0o755);
      docker(
        "run",
        "--detach",
        "--label",
        label,
        "--name",
        name,
        "--env",
        "POSTGRES_PASSWORD=provision-test",
        "--env",
        "POSTGRES_USER=app",
        "--env",
        "POSTGRES_DB=appdb",
        "--volume",
        `${initdb}:/docker-entrypoint-initdb.d:ro`,
        settings.postgresImage,
      );
      address = addressOf(name);
    });

    /** Polls pg_isready over TCP (the init phase listens on the socket only) for up to 60 s. */
    async function waitReady(): Promise<void> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          docker(
            "exec",
            name,
            "pg_isready",
            "--host",
            address,
            "--username",
            "app",
            "--dbname",
            "appdb",
          );
          return;
        } catch (error) {
          if (Date.now() > deadline) {
            throw new Error(`pg_isready never succeeded; logs:\n${docker("logs", name)}`, {
              cause: error,
            });
          }
          await sleep(250);
        }
      }
    }

    /** Runs SQL over TCP on the container's own address, so password authentication applies. */
    function sql(password: string, query: string): Promise<{ stdout: string; stderr: string }> {
      return promisify(execFile)(
        dockerBin,
        [
          "exec",
          "--env",
          `PGPASSWORD=${password}`,
          name,
          "psql",
          "--host",
          address,
          "--username",
          "app",
          "--dbname",
          "appdb",
          "--tuples-only",
          "--no-align",
          "--command",
          query,
        ],
        { encoding: "utf8" },
      );
    }

    it("reaches pg_isready after running the init scripts", async () => {
      await waitReady();
      const logs = execFileLogs(name);
      expect(logs).toContain("running /docker-entrypoint-initdb.d/01-fixture.sql");
      expect(logs).toContain("init script ran for appdb");
    });

    it("accepts the password from POSTGRES_PASSWORD over TCP and rejects a wrong one", async () => {
      await waitReady();
      expect((await sql("provision-test", "SELECT id FROM fixture")).stdout.trim()).toBe("42");
      await expect(sql("wrong-password", "SELECT 1")).rejects.toThrow(
        /password authentication failed/,
      );
    });

    it("listens on all addresses, keeps data in a volume and runs as the postgres user", async () => {
      await waitReady();
      expect((await sql("provision-test", "SHOW listen_addresses")).stdout.trim()).toBe("*");
      const mounts = docker(
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}",
        name,
      );
      expect(mounts).toContain("volume:/var/lib/postgresql/data");
      const status = docker("exec", name, "cat", "/proc/1/status");
      expect(status).toMatch(/^Uid:\s+999\s/m);
    });

    it("skips initialisation when the data volume already holds a database", async () => {
      await waitReady();
      docker("restart", name);
      // The default bridge may hand out another address on restart.
      address = addressOf(name);
      await waitReady();
      expect(execFileLogs(name)).toContain("skipping initialization");
      expect((await sql("provision-test", "SELECT count(*) FROM fixture")).stdout.trim()).toBe("1");
    });
  });

  it("lets `tiers doctor --json` report the Docker engine and BuildKit client usable", async () => {
    const result = await runTiers(repoRoot, ["doctor", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ready: boolean;
      checks: { id: string; usable: boolean; status: string }[];
    };
    expect(report.ready).toBe(true);
    const byId = new Map(report.checks.map((check) => [check.id, check]));
    expect(byId.get("docker-engine")?.usable).toBe(true);
    expect(byId.get("docker-client")?.usable).toBe(true);
    expect(byId.get("registry")?.status).toBe("ok");
    expect(byId.get("image:base")?.status).toBe("ok");
  });

  it("changes nothing and takes seconds when run again", async () => {
    const started = Date.now();
    const result = await promisify(execFile)("bash", [join(repoRoot, "scripts", "provision.sh")], {
      encoding: "utf8",
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    if (process.getuid?.() !== 0) {
      // Not root: provisioning refuses before touching anything, and says how to run it.
      expect(result.stderr).toContain("must run as root");
      return;
    }
    expect(result.stderr, result.stdout).not.toMatch(/error/);
    const steps = result.stdout.split("\n").filter((line) => line.startsWith("provision: image "));
    expect(steps).toHaveLength(4);
    for (const line of steps) expect(line).toMatch(/\.\.\. already there \(\d+\.\ds\)$/);
    expect(result.stdout).toMatch(/^provision: registry \.\.\. already serving/m);
    // The pinned cosign is there, so its go install is skipped (scripts/provision/go-tools.sh).
    expect(result.stdout).toMatch(
      /^provision: go tool cosign v\d+\.\d+\.\d+ \.\.\. already there \(\/usr\/local\/bin\/cosign\) \(\d+\.\ds\)$/m,
    );
    expect(result.stdout).toMatch(/^provision: done \(\d+\.\ds total\)$/m);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

/** A container's address on its (only) network. */
function addressOf(name: string): string {
  return docker(
    "inspect",
    "--format",
    "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    name,
  );
}

/** A container's log, stdout and stderr together (docker logs splits them like the container did). */
function execFileLogs(name: string): string {
  const result = spawnSync(dockerBin, ["logs", name], { encoding: "utf8" });
  return `${result.stdout}${result.stderr}`;
}
