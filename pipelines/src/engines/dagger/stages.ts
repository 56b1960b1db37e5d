/**
 * The Dagger shape of each stage: functions from already-decided inputs (labels, targets, tool
 * invocations — all computed by core and tool modules) to Dagger objects. Nothing here decides
 * anything; it only says how a decision is expressed as containers, services and secrets.
 * Every function is lazy (builds a query, runs nothing), which is what lets the tests read the
 * exact operations without an engine.
 */
import { type Container, type Directory, dag, type Secret, type Service } from "@dagger.io/dagger";
import { imageRef, supportImages } from "../../tools/images.ts";

/** One image build, fully decided by core: what to build, from where, with which labels. */
export interface ImageBuild {
  /** The filtered repository. */
  source: Directory;
  /** Build context, relative to the repository root (e.g. `services/api`). */
  context: string;
  /** Dockerfile, relative to the repository root (e.g. `services/api/Dockerfile`). */
  dockerfile: string;
  /** Multi-stage target. */
  target: string;
  /** Build arguments (the base image among them). */
  buildArgs: Readonly<Record<string, string>>;
  /** Labels computed by core/artefact.ts `imageLabels`. */
  labels: Readonly<Record<string, string>>;
  /**
   * Extra CA bundle for package installs behind a TLS-intercepting proxy. Given to the build as
   * the BuildKit secret `ca` (mounted at /run/secrets/ca for `RUN --mount=type=secret,id=ca`),
   * never written to a layer. The Secret must be named `ca`.
   */
  caBundle?: Secret;
}

/** Path of `file` relative to `dir`, both relative to the repository root. */
export function relativeTo(dir: string, file: string): string {
  const base = dir.replace(/\/+$/, "");
  if (base === "" || base === ".") return file;
  if (file.startsWith(`${base}/`)) return file.slice(base.length + 1);
  return `${"../".repeat(base.split("/").length)}${file}`;
}

/** Builds the service image with the repository's own Dockerfile and labels it. */
export function buildImage(build: ImageBuild): Container {
  let image = build.source.directory(build.context).dockerBuild({
    dockerfile: relativeTo(build.context, build.dockerfile),
    target: build.target,
    buildArgs: Object.entries(build.buildArgs).map(([name, value]) => ({ name, value })),
    ...(build.caBundle ? { secrets: [build.caBundle] } : {}),
  });
  // Sorted so the query (and the image config) is identical for identical inputs.
  for (const [key, value] of Object.entries(build.labels).sort(([a], [b]) => a.localeCompare(b))) {
    image = image.withLabel(key, value);
  }
  return image;
}

/** What the test database needs: image, database name, and the SQL to load, in order. */
export interface DatabaseSpec {
  /** Image reference; the tier config's `dependencies.postgres.image` or the pinned default. */
  image?: string;
  database: string;
  port: number;
  /** Directories of `*.sql` files applied in order on first start (migrations, then fixtures). */
  sql: readonly { name: string; dir: Directory }[];
}

/** The script the official postgres image runs once on an empty data directory. */
export function initScript(names: readonly string[]): string {
  const dirs = names.map((name) => `/tiers/sql/${name}`).join(" ");
  return [
    "#!/bin/sh",
    "# Applies each SQL directory in order; stops at the first error so a broken fixture fails the run.",
    "set -eu",
    `for dir in ${dirs}; do`,
    '  for file in "$dir"/*.sql; do',
    '    [ -e "$file" ] || continue',
    '    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f "$file"',
    "  done",
    "done",
    "",
  ].join("\n");
}

/**
 * PostgreSQL as a Dagger service. The test database is throwaway and reachable only from the
 * containers it is bound to, so it trusts local connections instead of carrying a password.
 */
export function databaseService(spec: DatabaseSpec): Service {
  let db = dag
    .container()
    .from(spec.image ?? imageRef(supportImages.postgres))
    .withEnvVariable("POSTGRES_DB", spec.database)
    .withEnvVariable("POSTGRES_USER", "postgres")
    .withEnvVariable("POSTGRES_HOST_AUTH_METHOD", "trust");
  for (const { name, dir } of spec.sql) db = db.withMountedDirectory(`/tiers/sql/${name}`, dir);
  return db
    .withNewFile(
      "/docker-entrypoint-initdb.d/10-tiers.sh",
      initScript(spec.sql.map((s) => s.name)),
      {
        permissions: 0o755,
      },
    )
    .withExposedPort(spec.port)
    .asService({ useEntrypoint: true });
}

/** The connection string a bound container uses for a database service bound as `alias`. */
export function databaseUrl(alias: string, spec: Pick<DatabaseSpec, "database" | "port">): string {
  return `postgres://postgres@${alias}:${spec.port}/${spec.database}`;
}

/** A service container with its environment, bindings and exposed ports. */
export interface RunningService {
  image: Container;
  env: Readonly<Record<string, string>>;
  bindings: Readonly<Record<string, Service>>;
  ports: readonly number[];
}

/** Applies environment and bindings, in a stable order. */
export function withRuntime(service: RunningService): Container {
  let container = service.image;
  for (const [alias, bound] of Object.entries(service.bindings)) {
    container = container.withServiceBinding(alias, bound);
  }
  for (const [name, value] of Object.entries(service.env).sort(([a], [b]) => a.localeCompare(b))) {
    container = container.withEnvVariable(name, value);
  }
  for (const port of service.ports) container = container.withExposedPort(port);
  return container;
}

/** Runs the image's test command (its default command) with the database bound. */
export function testRun(service: RunningService, command: readonly string[]): Container {
  return withRuntime(service).withExec([...command]);
}

/** Runs the service with its image's entrypoint as a long-lived Dagger service. */
export function asLongRunning(service: RunningService): Service {
  return withRuntime(service).asService({ useEntrypoint: true });
}
