/**
 * 🜂 `tiers env dev up|status|down` on the real Docker engine, under a unique compose project
 * name and free host ports so it never collides with a developer's own dev stack: up waits
 * until every service is healthy and prints URLs; data volumes survive `down` and go with
 * `down --volumes`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTopology } from "../../pipelines/src/core/topology.ts";
import {
  composeProjectResources,
  freePort,
  removeComposeProject,
  requirePrerequisites,
} from "../support/docker.ts";
import { runTiers, snapshotRepo, type TempRepo } from "../support/repo.ts";
import { runTiersInTerminal } from "../support/terminal.ts";

let repo: TempRepo;
const project = `tiers-devtest-${process.pid}`;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await requirePrerequisites();
  repo = await snapshotRepo();
  env = {
    TIERS_DEV_PROJECT: project,
    TIERS_API_HTTP_PORT: String(await freePort()),
    TIERS_API_DEBUG_PORT: String(await freePort()),
    TIERS_WORKER_HEALTH_PORT: String(await freePort()),
    TIERS_WORKER_DEBUG_PORT: String(await freePort()),
    TIERS_POSTGRES_PORT: String(await freePort()),
  };
});

afterAll(async () => {
  removeComposeProject(project);
  await repo?.remove();
});

describe("tiers env dev (real Docker engine)", () => {
  it("rejects an unknown tier or action with a usage error (exit 2) listing the valid ones", async () => {
    const tier = await runTiers(repo.root, ["env", "qa", "up"], { env });
    expect(tier.code).toBe(2);
    expect(tier.stderr).toMatch(/unknown tier "qa"[\s\S]*dev, test/);
    const action = await runTiers(repo.root, ["env", "dev", "deploy"], { env });
    expect(action.code).toBe(2);
    expect(action.stderr).toMatch(
      /unknown action "deploy" for tier dev[\s\S]*up, down, logs, shell, status/,
    );
  });

  it("up names the service that never became healthy and shows its last log lines", async () => {
    // A PostgreSQL image that is no PostgreSQL: its pg_isready healthcheck can never pass.
    const broken = `${project}-broken`;
    try {
      const up = await runTiers(repo.root, ["env", "dev", "up", "--timeout", "30"], {
        env: { ...env, TIERS_DEV_PROJECT: broken, TIERS_POSTGRES_IMAGE: "local/busybox:latest" },
      });
      expect(up.code).toBe(1);
      expect(up.stderr).toMatch(/\/postgres: service postgres (is unhealthy|exited)/);
      expect(up.stderr).toMatch(/last log lines:/);
    } finally {
      removeComposeProject(broken);
    }
  });

  it("derives the same topology as `docker-compose config`", async () => {
    const config = execFileSync(
      "docker-compose",
      [
        "-p",
        project,
        "-f",
        "compose/compose.yaml",
        "-f",
        "compose/compose.dev.yaml",
        "config",
        "--services",
      ],
      { cwd: repo.root, encoding: "utf8", env: { ...process.env, ...env } },
    );
    const topology = await loadTopology(repo.root, "dev", { ...process.env, ...env });
    expect(config.trim().split("\n").sort()).toEqual(Object.keys(topology.services).sort());
  });

  it("up: every service healthy, URLs on 127.0.0.1, the API answers", async () => {
    const up = await runTiers(repo.root, ["env", "dev", "up"], { env });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toContain(`http://127.0.0.1:${env.TIERS_API_HTTP_PORT}/`);
    expect(up.stdout).toContain(`127.0.0.1:${env.TIERS_API_DEBUG_PORT}`);
    const health = await fetch(`http://127.0.0.1:${env.TIERS_API_HTTP_PORT}/healthz`);
    expect(health.status).toBe(200);
    // A real scrape of the running container after that traffic: the series the tiers'
    // PrometheusRule alerts read (core/observability/kubernetes.ts metricNames), from prom-client.
    const scrape = await fetch(`http://127.0.0.1:${env.TIERS_API_HTTP_PORT}/metrics`);
    expect(scrape.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const series = await scrape.text();
    expect(series).toMatch(
      /tiers_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]/,
    );
    expect(series).toMatch(
      /tiers_http_request_duration_seconds_bucket\{le="0\.3",method="GET",route="\/healthz",status="200"\} [1-9]/,
    );
    expect(series).toContain('service="api",tier="dev"');
    const status = await runTiers(repo.root, ["env", "dev", "status", "--json"], { env });
    expect(status.code, status.stderr).toBe(0);
    const rows = JSON.parse(status.stdout) as { service: string; health: string }[];
    expect(rows.map((r) => [r.service, r.health]).sort()).toEqual([
      ["api", "healthy"],
      ["postgres", "healthy"],
      ["worker", "healthy"],
    ]);
  });

  it("health probe (compose.yaml x-http-probe): a 2xx answer passes, anything else fails", () => {
    const api = execFileSync(
      "docker",
      [
        "ps",
        "-q",
        "--filter",
        `label=com.docker.compose.project=${project}`,
        "--filter",
        "label=com.docker.compose.service=api",
      ],
      { encoding: "utf8" },
    ).trim();
    // The probe the engine runs, as compose handed it over (`$$` unescaped to `$`).
    const test = JSON.parse(
      execFileSync("docker", ["inspect", "--format", "{{json .Config.Healthcheck.Test}}", api], {
        encoding: "utf8",
      }),
    ) as string[];
    expect(test.slice(0, 3)).toEqual(["CMD", "bash", "-c"]);
    expect(test[3]).toMatch(/^u=\$\{1#http:\/\/\}/);
    const probe = (url: string) =>
      spawnSync("docker", ["exec", api, "bash", "-c", test[3]!, "http-probe", url]).status;
    expect(probe("http://127.0.0.1:8080/healthz")).toBe(0);
    // A 404 and a port nothing listens on.
    expect(probe("http://127.0.0.1:8080/no-such-route")).toBe(1);
    expect(probe("http://127.0.0.1:8089/healthz")).toBe(1);
  });

  it("real scrapes after traffic: api request counts and latency, worker queue depth and lease expiries", async () => {
    // Traffic through the running stack: a job posted to the api, claimed by the worker's
    // container, shown done by the api. Then each container's /metrics (prom-client text) is
    // scraped from the host, as the tier's Prometheus would (core/observability/kubernetes.ts
    // metricNames are the series its alerts read).
    const api = `http://127.0.0.1:${env.TIERS_API_HTTP_PORT}`;
    const posted = await fetch(`${api}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "wordcount", payload: "scraped by the dev tier test" }),
    });
    expect(posted.status).toBe(202);
    const { id } = (await posted.json()) as { id: string };
    const deadline = Date.now() + 60_000;
    let status = "";
    while (status !== "done" && Date.now() < deadline) {
      status = ((await (await fetch(`${api}/jobs/${id}`)).json()) as { status: string }).status;
      if (status !== "done") await new Promise((r) => setTimeout(r, 250));
    }
    expect(status, `job ${id} never finished within 60 s`).toBe("done");

    const apiSeries = await (await fetch(`${api}/metrics`)).text();
    expect(apiSeries).toMatch(
      /^tiers_http_requests_total\{method="POST",route="\/jobs",status="202"\} [1-9]/m,
    );
    expect(apiSeries).toMatch(
      /^tiers_http_requests_total\{method="GET",route="\/jobs\/:id",status="200"\} [1-9]/m,
    );
    expect(apiSeries).toMatch(
      /^tiers_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/jobs",status="202"\} [1-9]/m,
    );
    expect(apiSeries).toMatch(
      /^tiers_http_request_duration_seconds_count\{method="POST",route="\/jobs",status="202"\} [1-9]/m,
    );

    const worker = await fetch(`http://127.0.0.1:${env.TIERS_WORKER_HEALTH_PORT}/metrics`);
    expect(worker.status).toBe(200);
    expect(worker.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const workerSeries = await worker.text();
    // The queue is drained (the gauge is read from PostgreSQL at scrape time) and no lease
    // expired: one worker, a job far shorter than its lease.
    expect(workerSeries).toMatch(/^# TYPE tiers_worker_queue_depth gauge$/m);
    expect(workerSeries).toMatch(/^tiers_worker_queue_depth 0$/m);
    expect(workerSeries).toMatch(/^# TYPE tiers_worker_lease_expiries_total counter$/m);
    expect(workerSeries).toMatch(/^tiers_worker_lease_expiries_total 0$/m);
    expect(workerSeries).toMatch(/^tiers_jobs_processed_total\{outcome="done"\} [1-9]/m);
    expect(workerSeries).toContain('service="worker",tier="dev"');
  });

  it("mounts the source for hot reload: a host edit is visible inside the container", async () => {
    const probe = join("services", "api", "src", `hot-reload-probe-${process.pid}.txt`);
    await writeFile(join(repo.root, probe), "edited on the host\n");
    try {
      const shell = await runTiers(
        repo.root,
        ["env", "dev", "shell", "api", "--", "cat", `/app/${probe}`],
        { env },
      );
      expect(shell.code, shell.stderr).toBe(0);
      expect(shell.stdout).toContain("edited on the host");
    } finally {
      await rm(join(repo.root, probe), { force: true });
    }
  });

  it("shell without a command opens an interactive shell on a terminal: what is typed runs, exit ends it", async () => {
    // What a user types: no `-- command`, stdin and stdout a terminal (docker-compose exec -t).
    const session = await runTiersInTerminal(repo.root, ["env", "dev", "shell", "api"], {
      env,
      input: "echo tiers-$((6*7)); exit",
    });
    expect(session.typed, session.output).toBe(true);
    // The shell computed it: the typed line itself only says tiers-$((6*7)).
    expect(session.output.split(/\r?\n|\r/), session.output).toContain("tiers-42");
    expect(session.code, session.output).toBe(0);
    // The shell's exit status is the command's exit code.
    const failing = await runTiersInTerminal(repo.root, ["env", "dev", "shell", "api"], {
      env,
      input: "exit 3",
    });
    expect(failing.typed, failing.output).toBe(true);
    expect(failing.code, failing.output).toBe(3);
  });

  it("shell for a service that does not exist is a usage error (exit 2) naming the known services", async () => {
    const topology = await loadTopology(repo.root, "dev", { ...process.env, ...env });
    const known = Object.keys(topology.services);
    expect(known.length).toBeGreaterThan(0);
    for (const run of [
      await runTiers(repo.root, ["env", "dev", "shell", "nosuch"], { env }),
      await runTiersInTerminal(repo.root, ["env", "dev", "shell", "nosuch"], { env }),
    ]) {
      const said = "stderr" in run ? run.stderr : run.output;
      expect(run.code, said).toBe(2);
      expect(said).toMatch(/compose\/compose\.yaml.*: no service "nosuch" in the dev stack/);
      expect(said).toMatch(new RegExp(`hint: services: ${known.join(", ")}`));
    }
  });

  it("down keeps the data volume (data survives the next up); down --volumes removes it", async () => {
    const psql = (sql: string) =>
      runTiers(
        repo.root,
        [
          "env",
          "dev",
          "shell",
          "postgres",
          "--",
          "psql",
          "-U",
          "tiers",
          "-d",
          "tiers",
          "-tAc",
          sql,
        ],
        { env },
      );
    const created = await psql(
      "CREATE TABLE survives_down (note text); INSERT INTO survives_down VALUES ('kept')",
    );
    expect(created.code, created.stderr).toBe(0);
    const down = await runTiers(repo.root, ["env", "dev", "down"], { env });
    expect(down.code, down.stderr).toBe(0);
    let left = composeProjectResources(project);
    expect(left.containers).toEqual([]);
    expect(left.networks).toEqual([]);
    expect(left.volumes).toEqual([`${project}_pgdata`]);
    const up = await runTiers(repo.root, ["env", "dev", "up"], { env });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const read = await psql("SELECT note FROM survives_down");
    expect(read.stdout.trim()).toBe("kept");
    const wipe = await runTiers(repo.root, ["env", "dev", "down", "--volumes"], { env });
    expect(wipe.code, wipe.stderr).toBe(0);
    left = composeProjectResources(project);
    expect(left).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
