/*
 * The one PostgreSQL fixture for the services' integration tests (the API's and the
 * worker's tests both import it).
 *
 * - When DATABASE_URL is set (the test tier's containers set it), tests use that server.
 * - Otherwise a throwaway cluster is started from the host's PostgreSQL binaries in a
 *   temporary directory on a free loopback port, and removed afterwards, also when the
 *   test process exits early.
 *
 * Either way each test file gets its own freshly created database, so files never see each
 * other's rows and the server's own database is left untouched.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** A PostgreSQL server the tests may create databases on. */
export interface PostgresServer {
  /** Connection string of a role allowed to CREATE DATABASE. */
  adminUrl: string;
  /** True when this process started the server (so it may stop and restart it). */
  managed: boolean;
  /** Stops the server but keeps its data, to test how services behave while it is down. */
  pause(): Promise<void>;
  /** Starts a paused server again on the same port. */
  resume(): Promise<void>;
  /** Stops the server and deletes its data (a no-op for an external server). */
  stop(): Promise<void>;
}

/** A database created for one test file. */
export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, disconnecting whoever is still connected. */
  drop(): Promise<void>;
}

/** Why no throwaway PostgreSQL could be started, with what to do about it. */
export class PostgresFixtureError extends Error {
  override name = "PostgresFixtureError";
}

/** Finds initdb/postgres: TIERS_PG_BIN, then /usr/local/bin, then the newest Debian install. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates: string[] = [];
  if (env.TIERS_PG_BIN) candidates.push(env.TIERS_PG_BIN);
  candidates.push("/usr/local/bin");
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(join(debian, version, "bin"));
  }
  return (
    candidates.find(
      (dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres")),
    ) ?? null
  );
}

/** PostgreSQL refuses to run as root; as root, run it as this unprivileged account. */
function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n");
  for (const user of ["postgres", "nobody"]) {
    const fields = passwd.find((line) => line.startsWith(`${user}:`))?.split(":");
    if (fields?.[2] && fields[3]) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new PostgresFixtureError(
    "running as root and neither a postgres nor a nobody account exists to run PostgreSQL as; create one or set DATABASE_URL",
  );
}

const CLUSTER_PREFIX = "tiers-pg-";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes throwaway clusters whose test process is gone (a run killed with SIGKILL cannot
 * clean up after itself): stops their postmaster and deletes their directory.
 */
export function sweepStaleClusters(dir: string = tmpdir()): string[] {
  const swept: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(CLUSTER_PREFIX)) continue;
    const base = join(dir, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(base, "owner.pid"), "utf8"));
    } catch {
      continue; // not one of ours, or still being created
    }
    if (!Number.isInteger(owner) || alive(owner)) continue;
    try {
      const postmaster = Number(
        readFileSync(join(base, "data", "postmaster.pid"), "utf8").split("\n")[0],
      );
      if (Number.isInteger(postmaster) && postmaster > 0) process.kill(postmaster, "SIGKILL");
    } catch {
      // no server was running
    }
    rmSync(base, { recursive: true, force: true });
    swept.push(base);
  }
  return swept;
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port assigned"));
      });
    });
  });
}

async function waitUntilAccepting(url: string, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new PostgresFixtureError(`postgres exited with ${child.exitCode}:\n${log()}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) {
        throw new PostgresFixtureError(`postgres did not accept connections in 30 s:\n${log()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Returns the server the tests should use: DATABASE_URL's when set, else a throwaway
 * cluster. Call `stop()` in afterAll; an early exit of the test process also removes it.
 */
export async function startPostgres(env: NodeJS.ProcessEnv = process.env): Promise<PostgresServer> {
  const external = env.DATABASE_URL?.trim();
  if (external) {
    const unsupported = async () => {
      throw new PostgresFixtureError("cannot pause a server given by DATABASE_URL");
    };
    return {
      adminUrl: external,
      managed: false,
      pause: unsupported,
      resume: unsupported,
      stop: async () => {},
    };
  }

  const bin = findPostgresBin(env);
  if (!bin) {
    throw new PostgresFixtureError(
      "no PostgreSQL server binaries (initdb, postgres) found in TIERS_PG_BIN, /usr/local/bin or /usr/lib/postgresql/*/bin; install postgresql (apt-get install postgresql) or set DATABASE_URL to a server the tests may create databases on",
    );
  }
  const ids = unprivilegedIds();
  sweepStaleClusters();
  // <base>/owner.pid names the test process; <base>/data is the cluster (initdb wants it empty).
  const base = mkdtempSync(join(tmpdir(), CLUSTER_PREFIX));
  writeFileSync(join(base, "owner.pid"), String(process.pid));
  if (ids) chownSync(base, ids.uid, ids.gid);
  const dataDir = join(base, "data");
  let child: ChildProcess | undefined;
  const cleanupOnExit = () => {
    child?.kill("SIGKILL");
    rmSync(base, { recursive: true, force: true });
  };
  process.once("exit", cleanupOnExit);

  try {
    execFileSync(
      join(bin, "initdb"),
      [
        "-D",
        dataDir,
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ],
      { stdio: "pipe", ...ids },
    );
  } catch (error) {
    cleanupOnExit();
    process.off("exit", cleanupOnExit);
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new PostgresFixtureError(`initdb failed in ${dataDir}:\n${stderr}`);
  }

  const port = await freePort();
  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  let output = "";
  const launch = async () => {
    output = "";
    // Durability is pointless for a throwaway cluster; turning it off makes tests faster.
    child = spawn(
      join(bin, "postgres"),
      [
        "-D",
        dataDir,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
      ],
      { stdio: ["ignore", "pipe", "pipe"], ...ids },
    );
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    await waitUntilAccepting(adminUrl, child, () => output);
  };
  const halt = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGINT"); // "fast" shutdown: disconnect clients, exit cleanly
    await exited;
  };

  try {
    await launch();
  } catch (error) {
    cleanupOnExit();
    process.off("exit", cleanupOnExit);
    throw error;
  }
  return {
    adminUrl,
    managed: true,
    pause: halt,
    resume: launch,
    stop: async () => {
      await halt();
      rmSync(base, { recursive: true, force: true });
      process.off("exit", cleanupOnExit);
    },
  };
}

/** Replaces the database name in a connection string. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates an empty database with a unique name on `server`. */
export async function createTestDatabase(server: PostgresServer): Promise<TestDatabase> {
  const name = `tiers_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(server.adminUrl, name),
    drop: async () => {
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
