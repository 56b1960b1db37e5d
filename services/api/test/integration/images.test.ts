/*
 * The services' Dockerfiles on the real Docker engine: every target of both services builds,
 * the production images are small-surface (non-root, no dev dependencies, no CA bundle, no
 * fixtures), the release images serve jobs end to end and stop cleanly on SIGTERM, a
 * contradicting tier stops a container at once, and each test image passes its own suite.
 * Everything created carries the label below and is removed afterwards.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type PostgresServer, startPostgres } from "../support/postgres.ts";

const DOCKER = "/usr/bin/docker"; // Debian's client builds with BuildKit; see docs/services.md
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const LABEL = "tiers.test=services-images";
const RUN = randomBytes(4).toString("hex");
const SERVICES = ["api", "worker"] as const;
const TARGETS = ["production", "development", "test"] as const;

const dockerUsable =
  existsSync(DOCKER) && spawnSync(DOCKER, ["info"], { stdio: "ignore" }).status === 0;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs docker with an argument vector (never a shell string) and collects its output. */
function docker(args: string[], timeoutMs = 600_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(DOCKER, args, {
      cwd: ROOT,
      env: { ...process.env, DOCKER_BUILDKIT: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function baseImage(): string {
  if (process.env.TIERS_BASE_IMAGE) return process.env.TIERS_BASE_IMAGE;
  const local = "local/node:22-bookworm-slim";
  const present = spawnSync(DOCKER, ["image", "inspect", local], { stdio: "ignore" }).status === 0;
  return present ? local : "node:22-bookworm-slim";
}

const caBundle = process.env.TIERS_EXTRA_CA_BUNDLE ?? "/etc/ssl/certs/ca-certificates.crt";
const image = (service: string, target: string) =>
  `tiers-services-test/${service}:${target}-${RUN}`;

describe.skipIf(!dockerUsable)(
  "service images on the real Docker engine (skipped where /usr/bin/docker cannot reach an engine, e.g. inside a test image)",
  () => {
    let postgres: PostgresServer;

    beforeAll(async () => {
      postgres = await startPostgres();
    });

    afterAll(async () => {
      const leftovers = await docker(["ps", "-aq", "--filter", `label=${LABEL}`]);
      const ids = leftovers.stdout.split("\n").filter(Boolean);
      if (ids.length > 0) await docker(["rm", "-f", ...ids]);
      const images = SERVICES.flatMap((s) => TARGETS.map((t) => image(s, t)));
      await docker(["rmi", "-f", ...images]);
      await postgres?.stop();
    });

    it("builds every target of both services from the repository root", async () => {
      for (const service of SERVICES) {
        for (const target of TARGETS) {
          const args = [
            "build",
            "-f",
            `services/${service}/Dockerfile`,
            "--target",
            target,
            "--build-arg",
            `BASE_IMAGE=${baseImage()}`,
            "--label",
            LABEL,
            "-t",
            image(service, target),
          ];
          if (existsSync(caBundle)) args.push("--secret", `id=ca,src=${caBundle}`);
          const built = await docker([...args, "."]);
          expect(built.code, `${service} ${target}:\n${built.stderr.slice(-3000)}`).toBe(0);
        }
      }
    });

    it("has no syntax directive (it would pull a frontend image)", () => {
      for (const service of SERVICES) {
        const text = readFileSync(`${ROOT}services/${service}/Dockerfile`, "utf8");
        expect(text).not.toMatch(/^#\s*syntax\s*=/im);
      }
    });

    it.each(SERVICES)(
      "keeps the %s production image non-root, without dev deps, CA bundle, fixtures or tests",
      async (service) => {
        const ref = image(service, "production");
        const config = JSON.parse((await docker(["image", "inspect", ref])).stdout)[0].Config;
        expect(config.User).toBe("node");
        expect(config.Healthcheck).toBeUndefined();
        expect(config.Env).toContain("NODE_ENV=production");
        const ca = existsSync(caBundle)
          ? createHash("sha256").update(readFileSync(caBundle)).digest("hex")
          : "no-bundle";
        const probe = await docker([
          "run",
          "--rm",
          "--label",
          LABEL,
          "--entrypoint",
          "sh",
          ref,
          "-c",
          [
            "id -u",
            "ls /app/node_modules",
            "ls -d /app/node_modules/vitest /app/node_modules/@types/pg /app/services/*/test /app/services/api/db/fixtures 2>/dev/null || true",
            `find / -xdev -type f -size +20k 2>/dev/null | xargs sha256sum 2>/dev/null | grep -c ${ca} || true`,
          ].join("; echo ---; "),
        ]);
        expect(probe.code).toBe(0);
        const [uid, modules, devOnly, caCopies] = probe.stdout.split("---\n").map((s) => s.trim());
        expect(uid).toBe("1000");
        expect(modules).toMatch(/^pg$/m);
        expect(devOnly).toBe("");
        expect(caCopies).toBe("0");
      },
    );

    it("serves a job end to end from locked-down release images and stops cleanly on SIGTERM", async () => {
      const url = postgres.adminUrl; // host network: the throwaway cluster listens on loopback
      const apiPort = await freePort();
      const workerPort = await freePort();
      // Locked down as the Kubernetes manifests run them: read-only root, no capabilities.
      const common = [
        "--network",
        "host",
        "--label",
        LABEL,
        "-e",
        `DATABASE_URL=${url}`,
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--user",
        "1000:1000",
      ];
      const api = await docker([
        "run",
        "-d",
        ...common,
        "-e",
        "TIERS_TIER=staging",
        // Every flag the tier declares, as the pipeline sets them (environments/base.yaml flags).
        "-e",
        "TIERS_FLAG_PAUSE_ENQUEUE=false",
        "-e",
        "TIERS_FLAG_VERBOSE_ERRORS=false",
        "-e",
        `PORT=${apiPort}`,
        "-e",
        "MIGRATE_ON_START=true",
        image("api", "production"),
      ]);
      expect(api.code, api.stderr).toBe(0);
      const worker = await docker([
        "run",
        "-d",
        ...common,
        "-e",
        "TIERS_TIER=staging",
        // Every flag the tier declares, as the pipeline sets them (environments/base.yaml flags).
        "-e",
        "TIERS_FLAG_PAUSE_ENQUEUE=false",
        "-e",
        "TIERS_FLAG_VERBOSE_ERRORS=false",
        "-e",
        `PORT=${workerPort}`,
        "-e",
        "WORKER_POLL_INTERVAL_MS=50",
        image("worker", "production"),
      ]);
      expect(worker.code, worker.stderr).toBe(0);
      const apiId = api.stdout.trim();
      const workerId = worker.stdout.trim();

      const until = async (url: string) => {
        for (let i = 0; i < 100; i++) {
          const ok = await fetch(url).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`${url} never turned ready:\n${(await docker(["logs", apiId])).stderr}`);
      };
      await until(`http://127.0.0.1:${apiPort}/readyz`);
      await until(`http://127.0.0.1:${workerPort}/readyz`);

      const posted = await fetch(`http://127.0.0.1:${apiPort}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "wordcount", payload: "released image at work" }),
      });
      const { id } = (await posted.json()) as { id: string };
      let job: { status?: string; result?: unknown } = {};
      for (let i = 0; i < 100 && job.status !== "done"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        job = (await (await fetch(`http://127.0.0.1:${apiPort}/jobs/${id}`)).json()) as typeof job;
      }
      expect(job).toMatchObject({ status: "done", result: { words: 4 } });

      const stopped = await docker(["stop", "-t", "20", apiId, workerId]);
      expect(stopped.ms).toBeLessThan(10_000); // graceful, not killed at the deadline
      const exits = await docker(["inspect", "-f", "{{.State.ExitCode}}", apiId, workerId]);
      expect(exits.stdout.trim().split("\n")).toEqual(["0", "0"]);
      const logs = await docker(["logs", apiId]);
      expect(logs.stdout).toMatch(/^🜃 .*"msg":"api stopped"/m);
    });

    it("refuses to start a release image with the test-only fault switch set (NODE_ENV=production)", async () => {
      const slowed = await docker(
        [
          "run",
          "--rm",
          "--label",
          LABEL,
          "-e",
          "TIERS_TIER=staging",
          "-e",
          "TIERS_TEST_FAULT_DELAY_MS=500",
          image("api", "production"),
        ],
        30_000,
      );
      expect(slowed.code).toBe(1);
      expect(slowed.stdout + slowed.stderr).toMatch(
        /TIERS_TEST_FAULT_DELAY_MS is a test-only fault switch and NODE_ENV is production/,
      );
    });

    it("stops a release image started as dev, and a development image started as prod, at once", async () => {
      const prodAsDev = await docker(
        ["run", "--rm", "--label", LABEL, "-e", "TIERS_TIER=dev", image("api", "production")],
        30_000,
      );
      expect(prodAsDev.code).toBe(1);
      expect(prodAsDev.stderr).toMatch(/NODE_ENV=production contradicts tier dev/);
      const devAsProd = await docker(
        ["run", "--rm", "--label", LABEL, "-e", "TIERS_TIER=prod", image("worker", "development")],
        30_000,
      );
      expect(devAsProd.code).toBe(1);
      expect(devAsProd.stderr).toMatch(/hot reload is enabled \(--watch\)/);
    });

    it.each(SERVICES)(
      "passes the %s test image's own suite against DATABASE_URL",
      async (service) => {
        const run = await docker([
          "run",
          "--rm",
          "--network",
          "host",
          "--label",
          LABEL,
          "-e",
          `DATABASE_URL=${postgres.adminUrl}`,
          image(service, "test"),
        ]);
        expect(run.code, run.stdout.slice(-3000)).toBe(0);
        const plain = run.stdout.replace(/\x1b\[[0-9;]*m/g, ""); // vitest colours its summary
        expect(plain).toMatch(/Test Files\s+\d+ passed/);
        expect(plain).not.toMatch(/failed/);
      },
    );
  },
);
