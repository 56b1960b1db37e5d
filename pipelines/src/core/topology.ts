/**
 * The dev and test topology, derived from the compose files: which services exist, which are
 * built from this repository (and from which context, Dockerfile and target), which container
 * ports they listen on and how their health is probed. Nothing else in the pipeline repeats a
 * service name, port or image; `checkTopology` compares this with the environment model so a
 * drift between compose/ and environments/ fails a unit test instead of a deploy.
 *
 * Compose's own merge and interpolation rules are reproduced for the subset the project uses
 * (mappings merge, ports/expose add up, volumes merge by target, labels and environment merge
 * by key, other lists are replaced); an integration test compares this against
 * `docker-compose config`.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, normalize, posix } from "node:path";
import { TiersError } from "./errors.ts";
import { parseYaml } from "./yaml.ts";

/**
 * A tier that runs from compose files (a compose or ephemeral tier of the model): any name the
 * chain declares, never a fixed list; core/environment/roles.ts says which tier that is.
 */
export type ComposeTier = string;

/** Where the compose files live, relative to the repository root. */
export const composeDir = "compose";

/** Base file first, then the tier's override: the order compose merges them in. */
export function composeFilesFor(tier: ComposeTier): string[] {
  return [join(composeDir, "compose.yaml"), join(composeDir, `compose.${tier}.yaml`)];
}

/** A port published on the host. */
export interface PublishedPort {
  hostIp: string;
  /** Host port as written (may be empty for an ephemeral port). */
  hostPort: string;
  containerPort: number;
}

/** How a service's health is probed. */
export type HealthProbe =
  | { kind: "http"; port: number; path: string }
  | { kind: "command"; command: string[] };

export interface ServiceTopology {
  name: string;
  /** Image reference after interpolation. */
  image: string;
  /** Present for services built from this repository; paths relative to the repository root. */
  build?: { context: string; dockerfile: string; target?: string };
  /** Every port the container listens on (exposed or published), ascending. */
  containerPorts: number[];
  published: PublishedPort[];
  health?: HealthProbe;
  dependsOn: string[];
  labels: Record<string, string>;
}

export interface Topology {
  tier: ComposeTier;
  files: string[];
  services: Record<string, ServiceTopology>;
}

type Yaml = Record<string, unknown>;

const isMap = (value: unknown): value is Yaml =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Compose variable interpolation: `$$` is a literal `$`; `${VAR}`, `$VAR`, `${VAR:-default}`
 * (unset or empty), `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (required).
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>) {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (match === "$$") return "$";
      const name = (braced ?? bare)!;
      const value = env[name];
      if (!op) return value ?? "";
      const missing = op.startsWith(":")
        ? value === undefined || value === ""
        : value === undefined;
      if (op.endsWith("-")) return missing ? (arg ?? "") : value!;
      if (missing) {
        throw new TiersError(`required variable ${name} is not set: ${arg ?? ""}`.trim(), {
          hint: `export ${name} (the pipeline sets it for the tiers it runs)`,
        });
      }
      return value!;
    },
  );
}

function interpolateDeep(value: unknown, env: Readonly<Record<string, string | undefined>>) {
  if (typeof value === "string") return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item): unknown => interpolateDeep(item, env));
  if (isMap(value)) {
    const out: Yaml = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolateDeep(item, env);
    return out;
  }
  return value;
}

/** `labels`/`environment` may be a list of `K=V` or a mapping; compose merges them by key. */
export function asKeyValues(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value.map((item) => {
        const text = String(item);
        const at = text.indexOf("=");
        return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
      }),
    );
  }
  if (isMap(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, v == null ? "" : String(v)]),
    );
  }
  return {};
}

const volumeTarget = (entry: unknown): string =>
  isMap(entry) ? String(entry.target) : (String(entry).split(":")[1] ?? String(entry));

function mergeService(base: Yaml, override: Yaml): Yaml {
  const out: Yaml = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const previous = out[key];
    if (key === "labels" || key === "environment") {
      out[key] = { ...asKeyValues(previous), ...asKeyValues(value) };
    } else if (
      (key === "ports" || key === "expose") &&
      Array.isArray(previous) &&
      Array.isArray(value)
    ) {
      out[key] = [...previous, ...value];
    } else if (key === "volumes" && Array.isArray(previous) && Array.isArray(value)) {
      const byTarget = new Map(previous.map((entry) => [volumeTarget(entry), entry]));
      for (const entry of value) byTarget.set(volumeTarget(entry), entry);
      out[key] = [...byTarget.values()];
    } else if (isMap(previous) && isMap(value)) {
      out[key] = mergeService(previous, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Merges compose documents in order, as `docker-compose -f a -f b` does for this subset. */
export function mergeComposeDocuments(documents: readonly Yaml[]): Yaml {
  const merged: Yaml = {};
  for (const document of documents) {
    for (const [section, value] of Object.entries(document)) {
      if (section.startsWith("x-")) continue;
      const previous = merged[section];
      if (!isMap(value)) {
        merged[section] = value;
        continue;
      }
      const target: Yaml = isMap(previous) ? { ...previous } : {};
      for (const [name, entry] of Object.entries(value)) {
        const before = target[name];
        target[name] = isMap(before) && isMap(entry) ? mergeService(before, entry) : entry;
      }
      merged[section] = target;
    }
  }
  return merged;
}

/** `"127.0.0.1:8080:8080"`, `"8080"`, `"127.0.0.1::9229/tcp"` or the long syntax. */
export function parsePortMapping(entry: unknown): PublishedPort {
  if (isMap(entry)) {
    return {
      hostIp: String(entry.host_ip ?? ""),
      hostPort: String(entry.published ?? ""),
      containerPort: Number(entry.target),
    };
  }
  const parts = String(entry)
    .replace(/\/(tcp|udp)$/, "")
    .split(":");
  const containerPort = Number(parts.pop());
  const hostPort = parts.pop() ?? "";
  return { hostIp: parts.join(":"), hostPort, containerPort };
}

/** Reads the probe from a compose healthcheck: an HTTP URL on loopback, or the command. */
export function parseHealthcheck(healthcheck: unknown): HealthProbe | undefined {
  if (!isMap(healthcheck) || healthcheck.disable === true) return undefined;
  const test = healthcheck.test;
  const words = Array.isArray(test) ? test.map(String) : typeof test === "string" ? [test] : [];
  if (words[0] === "NONE") return undefined;
  const command = words[0] === "CMD" || words[0] === "CMD-SHELL" ? words.slice(1) : words;
  const url = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/[^'"\s)]*)/.exec(command.join(" "));
  if (url) return { kind: "http", port: Number(url[1]), path: url[2]! };
  return command.length ? { kind: "command", command } : undefined;
}

/** Builds the topology from already-read compose files (pure: no I/O). */
export function topologyFrom(
  tier: ComposeTier,
  files: readonly { path: string; text: string }[],
  env: Readonly<Record<string, string | undefined>>,
): Topology {
  const documents = files.map(({ path, text }) => {
    let document: unknown;
    try {
      // YAML 1.1 merge keys (`<<: *anchor`), as compose v1 (PyYAML) and v2 both accept.
      document = parseYaml(path, text, { merge: true });
    } catch (error) {
      const located = error instanceof TiersError ? error.where : undefined;
      throw new TiersError(`compose file is not valid YAML: ${(error as Error).message}`, {
        where: located ?? path,
      });
    }
    if (!isMap(document)) throw new TiersError("compose file is not a mapping", { where: path });
    return interpolateDeep(document, env) as Yaml;
  });
  const merged = mergeComposeDocuments(documents);
  // Compose resolves relative paths against the first file's directory.
  const projectDir = dirname(files[0]?.path ?? composeFilesFor(tier)[0]!);
  const services: Record<string, ServiceTopology> = {};
  for (const [name, raw] of Object.entries(isMap(merged.services) ? merged.services : {})) {
    if (!isMap(raw)) continue;
    const published = (Array.isArray(raw.ports) ? raw.ports : []).map(parsePortMapping);
    const exposed = (Array.isArray(raw.expose) ? raw.expose : []).map((p) =>
      Number(String(p).replace(/\/(tcp|udp)$/, "")),
    );
    const containerPorts = [
      ...new Set([...exposed, ...published.map((p) => p.containerPort)]),
    ].sort((a, b) => a - b);
    let build: ServiceTopology["build"];
    if (raw.build !== undefined) {
      const spec = isMap(raw.build) ? raw.build : { context: raw.build };
      const context = posix.normalize(
        normalize(join(projectDir, String(spec.context ?? ".")))
          .split("\\")
          .join("/"),
      );
      build = {
        context,
        dockerfile: posix.join(context, String(spec.dockerfile ?? "Dockerfile")),
        ...(spec.target ? { target: String(spec.target) } : {}),
      };
    }
    const dependsOn = Array.isArray(raw.depends_on)
      ? raw.depends_on.map(String)
      : isMap(raw.depends_on)
        ? Object.keys(raw.depends_on)
        : [];
    const health = parseHealthcheck(raw.healthcheck);
    services[name] = {
      name,
      image: String(raw.image ?? ""),
      ...(build ? { build } : {}),
      containerPorts,
      published,
      ...(health ? { health } : {}),
      dependsOn,
      labels: asKeyValues(raw.labels),
    };
  }
  return { tier, files: files.map((f) => f.path), services };
}

/** Reads the tier's compose files from the repository and derives its topology. */
export async function loadTopology(
  root: string,
  tier: ComposeTier,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Topology> {
  const files = await Promise.all(
    composeFilesFor(tier).map(async (path) => {
      try {
        return { path, text: await readFile(join(root, path), "utf8") };
      } catch {
        throw new TiersError("compose file is missing", {
          where: join(root, path),
          hint: "compose/ holds the dev and test topology; restore it from git",
        });
      }
    }),
  );
  return topologyFrom(tier, files, env);
}

/** Services built from this repository (the ones with a `build:` section), by name. */
export function builtServices(topology: Topology): ServiceTopology[] {
  return Object.values(topology.services)
    .filter((service) => service.build)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The parts of the environment model the topology must agree with (base.yaml). */
export interface DeclaredTopology {
  services: Record<
    string,
    {
      ports?: Record<string, number>;
      health?: { liveness?: string; readiness?: string };
      build?: { context?: string; dockerfile?: string };
    }
  >;
  dependencies?: Record<string, { port?: number } | null | undefined>;
}

/**
 * Every way the compose topology disagrees with the environment model, one sentence each,
 * naming the service and both values. Empty when they agree.
 */
export function checkTopology(topology: Topology, declared: DeclaredTopology): string[] {
  const problems: string[] = [];
  const where = topology.files.join(" + ");
  const built = builtServices(topology).map((s) => s.name);
  const declaredNames = Object.keys(declared.services).sort();
  if (built.join(",") !== declaredNames.join(",")) {
    problems.push(
      `${where}: built services [${built.join(", ")}] differ from environments services [${declaredNames.join(", ")}]`,
    );
  }
  const infra = Object.values(topology.services)
    .filter((s) => !s.build)
    .map((s) => s.name)
    .sort();
  const dependencies = Object.keys(declared.dependencies ?? {}).sort();
  if (infra.join(",") !== dependencies.join(",")) {
    problems.push(
      `${where}: infrastructure services [${infra.join(", ")}] differ from environments dependencies [${dependencies.join(", ")}]`,
    );
  }
  for (const [name, spec] of Object.entries(declared.services)) {
    const service = topology.services[name];
    if (!service) continue;
    const want = [...new Set(Object.values(spec.ports ?? {}))].sort((a, b) => a - b);
    if (want.join(",") !== service.containerPorts.join(",")) {
      problems.push(
        `${name}: compose listens on [${service.containerPorts.join(", ")}], environments declare ports [${want.join(", ")}]`,
      );
    }
    const probe = service.health;
    if (probe?.kind !== "http") {
      problems.push(`${name}: compose has no HTTP healthcheck (others depend on it)`);
    } else {
      if (spec.health?.liveness && probe.path !== spec.health.liveness) {
        problems.push(
          `${name}: compose healthcheck probes ${probe.path}, environments declare liveness ${spec.health.liveness}`,
        );
      }
      if (!want.includes(probe.port)) {
        problems.push(
          `${name}: compose healthcheck probes port ${probe.port}, not a declared port`,
        );
      }
    }
    if (spec.build?.context !== undefined && service.build) {
      const declaredContext = posix.normalize(spec.build.context);
      if (declaredContext !== posix.normalize(service.build.context)) {
        problems.push(
          `${name}: compose builds from context ${service.build.context}, environments declare ${declaredContext}`,
        );
      }
    }
    if (
      spec.build?.dockerfile &&
      service.build &&
      spec.build.dockerfile !== service.build.dockerfile
    ) {
      problems.push(
        `${name}: compose uses ${service.build.dockerfile}, environments declare ${spec.build.dockerfile}`,
      );
    }
  }
  for (const [name, spec] of Object.entries(declared.dependencies ?? {})) {
    const service = topology.services[name];
    if (!service) continue;
    if (spec?.port !== undefined && !service.containerPorts.includes(spec.port)) {
      problems.push(
        `${name}: environments declare port ${spec.port}, compose listens on [${service.containerPorts.join(", ")}]`,
      );
    }
    if (!service.health) problems.push(`${name}: compose has no healthcheck (others depend on it)`);
  }
  return problems;
}

/** Published ports of a topology that are not bound to loopback (dev must have none). */
export function nonLoopbackPorts(topology: Topology): string[] {
  return Object.values(topology.services).flatMap((service) =>
    service.published
      .filter((p) => p.hostIp !== "127.0.0.1")
      .map((p) => `${service.name}: ${p.hostIp || "0.0.0.0"}:${p.hostPort}:${p.containerPort}`),
  );
}
