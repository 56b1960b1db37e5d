/**
 * The compose topology, expressed as Dagger containers and services.
 *
 * compose/ is the single source of truth for the dev and test topology (which services, built
 * from where, with which target, environment, ports, dependencies and mounts). The host engine
 * hands those files to docker-compose; this module reads the same merged document (merged and
 * interpolated by core/topology.ts, the same code the host uses) and translates each entry to
 * its Dagger equivalent:
 *   build            -> Directory.dockerBuild with the labels core computes
 *   environment      -> withEnvVariable
 *   depends_on       -> withServiceBinding (the alias is the compose service name, so DNS
 *                       names such as `postgres` resolve the same way)
 *   bind mounts      -> the same path of the repository Directory, mounted read-only
 *   named volumes    -> cache volumes (persist across `dagger call dev` runs, like `down`)
 *   tmpfs            -> withMountedTemp
 *   expose / ports   -> withExposedPort
 *   command          -> withDefaultArgs (replaces the image's CMD, as compose does; the test
 *                       tier's API runner loads migrations and fixtures this way)
 * Nothing is decided here that compose does not already say.
 */
import { posix } from "node:path";
import { type Container, type Directory, dag, type Service } from "@dagger.io/dagger";
import { TiersError } from "../../core/errors.ts";
import { asKeyValues, interpolate, mergeComposeDocuments } from "../../core/topology.ts";
import { parseYaml } from "../../core/yaml.ts";
import { imageRef, supportImages } from "../../tools/images.ts";

type Yaml = Record<string, unknown>;
const isMap = (value: unknown): value is Yaml =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The tier's compose files merged and interpolated exactly as the host reads them (core's
 * merge and interpolation), from files already read out of the repository.
 */
export function mergedCompose(
  files: readonly { path: string; text: string }[],
  env: Readonly<Record<string, string | undefined>>,
): Yaml {
  const documents = files.map(({ path, text }) => {
    // Compose files use YAML merge keys (`<<: *anchor`), which YAML 1.2 leaves off by default.
    const document: unknown = parseYaml(path, text, { merge: true });
    if (!isMap(document)) throw new TiersError("compose file is not a mapping", { where: path });
    return interpolateAll(document, env) as Yaml;
  });
  return mergeComposeDocuments(documents);
}

function interpolateAll(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
): unknown {
  if (typeof value === "string") return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, env));
  if (isMap(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return value;
}

/** One compose service, reduced to what the translation needs. */
export interface StackService {
  name: string;
  image: string;
  build?: { context: string; dockerfile: string; target?: string; args: Record<string, string> };
  environment: Record<string, string>;
  /** Container ports the service listens on (expose and ports), ascending. */
  ports: number[];
  /** Container ports compose publishes on the host (dev only): what the stack front forwards. */
  published: number[];
  dependsOn: string[];
  /** compose `command:` (list form), replacing the image's CMD; absent: the image's own. */
  command?: string[];
  /** Bind mounts of repository paths (relative to the root) and named/tmpfs mounts. */
  mounts: (
    | { kind: "repo"; from: string; to: string; file: boolean }
    | { kind: "volume"; name: string; to: string }
    | { kind: "tmpfs"; to: string }
  )[];
}

/**
 * compose `command:` as an argument vector. The list form is taken as is; a string is split on
 * whitespace only when it has no quotes or escapes (compose would apply shell-like splitting,
 * which is not reproduced here).
 */
function commandOf(service: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String);
  const text = String(value);
  if (/["'\\]/.test(text)) {
    throw new TiersError(`service ${service} has a command string with quotes or escapes`, {
      where: "compose/",
      hint: 'write the command as a YAML list (command: [sh, -c, "..."]) so every engine reads it alike',
    });
  }
  return text.split(/\s+/).filter(Boolean);
}

function containerPort(entry: unknown): number {
  if (isMap(entry)) return Number(entry.target);
  const text = String(entry).replace(/\/(tcp|udp)$/, "");
  return Number(text.split(":").pop());
}

/**
 * Reads the services of a merged, interpolated compose document. Paths in compose are relative
 * to the compose directory; they are returned relative to the repository root.
 */
export function stackServices(
  merged: Yaml,
  composeDir: string,
  /** Whether a repository path is a file (a bind mount of a file, not a directory). */
  isFile: (path: string) => boolean = (path) => /\.[a-z]+$/.test(path),
): Record<string, StackService> {
  const out: Record<string, StackService> = {};
  const fromCompose = (path: string) => posix.normalize(posix.join(composeDir, path));
  for (const [name, raw] of Object.entries(isMap(merged.services) ? merged.services : {})) {
    if (!isMap(raw)) continue;
    let build: StackService["build"];
    if (raw.build !== undefined) {
      const spec = isMap(raw.build) ? raw.build : { context: raw.build };
      const context = fromCompose(String(spec.context ?? "."));
      build = {
        context,
        dockerfile: posix.join(context, String(spec.dockerfile ?? "Dockerfile")),
        args: asKeyValues(spec.args),
        ...(spec.target ? { target: String(spec.target) } : {}),
      };
    }
    const mounts: StackService["mounts"] = [];
    for (const entry of Array.isArray(raw.volumes) ? raw.volumes : []) {
      const text = isMap(entry) ? `${entry.source}:${entry.target}` : String(entry);
      const [from = "", to = ""] = text.split(":");
      if (from.startsWith(".") || from.startsWith("/")) {
        if (from.startsWith("/")) {
          throw new TiersError(`service ${name} bind-mounts the host path ${from}`, {
            where: `${composeDir}/`,
            hint: "mount paths inside the repository so every engine can provide them",
          });
        }
        const path = fromCompose(from);
        mounts.push({ kind: "repo", from: path, to, file: isFile(path) });
      } else {
        mounts.push({ kind: "volume", name: from, to });
      }
    }
    for (const to of Array.isArray(raw.tmpfs) ? raw.tmpfs : []) {
      mounts.push({ kind: "tmpfs", to: String(to) });
    }
    const ports = [
      ...new Set([
        ...(Array.isArray(raw.expose) ? raw.expose : []).map(containerPort),
        ...(Array.isArray(raw.ports) ? raw.ports : []).map(containerPort),
      ]),
    ].sort((a, b) => a - b);
    const command = commandOf(name, raw.command);
    out[name] = {
      name,
      image: String(raw.image ?? ""),
      ...(build ? { build } : {}),
      environment: asKeyValues(raw.environment),
      ports,
      published: (Array.isArray(raw.ports) ? raw.ports : []).map(containerPort),
      dependsOn: Array.isArray(raw.depends_on)
        ? raw.depends_on.map(String)
        : isMap(raw.depends_on)
          ? Object.keys(raw.depends_on)
          : [],
      ...(command ? { command } : {}),
      mounts,
    };
  }
  return out;
}

/** How to turn a service's `build:` into an image (labels and base image decided by core). */
export type ImageBuilder = (service: StackService) => Container;

export interface StackOptions {
  source: Directory;
  services: Readonly<Record<string, StackService>>;
  buildImage: ImageBuilder;
  /** Prefix for cache volume names so two projects never share a database volume. */
  volumePrefix: string;
}

/** The container of one service: image, mounts, environment and ports (no bindings yet). */
export function serviceContainer(service: StackService, options: StackOptions): Container {
  if (!service.build && !service.image) {
    throw new TiersError(`compose service "${service.name}" has neither build nor image`, {
      where: "compose/",
      hint: "give it an image (a registry reference) or a build section",
    });
  }
  let container = service.build ? options.buildImage(service) : dag.container().from(service.image);
  for (const mount of service.mounts) {
    if (mount.kind === "repo") {
      container = mount.file
        ? container.withMountedFile(mount.to, options.source.file(mount.from))
        : container.withMountedDirectory(mount.to, options.source.directory(mount.from));
    } else if (mount.kind === "volume") {
      container = container.withMountedCache(
        mount.to,
        dag.cacheVolume(`${options.volumePrefix}-${mount.name}`),
      );
    } else {
      container = container.withMountedTemp(mount.to);
    }
  }
  for (const [name, value] of Object.entries(service.environment).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    container = container.withEnvVariable(name, value);
  }
  for (const port of service.ports) container = container.withExposedPort(port);
  if (service.command) container = container.withDefaultArgs(service.command);
  return container;
}

/**
 * Every service as a running Dagger service, dependencies bound by their compose names.
 * `bindable` filters which dependencies are bound (the test tier binds infrastructure only:
 * a test runner is never another runner's dependency).
 */
export function stackServicesAsDagger(
  options: StackOptions,
  bindable: (dependency: StackService) => boolean = () => true,
): Record<string, Service> {
  const done: Record<string, Service> = {};
  const visiting = new Set<string>();
  const visit = (name: string): Service => {
    const existing = done[name];
    if (existing) return existing;
    const service = options.services[name];
    if (!service) {
      throw new TiersError(`compose service "${name}" is a dependency but is not defined`, {
        where: "compose/",
      });
    }
    if (visiting.has(name)) {
      throw new TiersError(`compose services depend on each other in a cycle through ${name}`, {
        where: "compose/",
      });
    }
    visiting.add(name);
    const service_ = withBindings(service, options, bindable, visit).asService({
      useEntrypoint: true,
    });
    visiting.delete(name);
    done[name] = service_;
    return service_;
  };
  for (const name of Object.keys(options.services)) visit(name);
  return done;
}

/** A service's container with its dependencies bound as services. */
export function withBindings(
  service: StackService,
  options: StackOptions,
  bindable: (dependency: StackService) => boolean,
  serviceOf: (name: string) => Service,
): Container {
  let container = serviceContainer(service, options);
  for (const dependency of service.dependsOn) {
    const spec = options.services[dependency];
    if (!spec) {
      throw new TiersError(`compose service "${dependency}" is a dependency but is not defined`, {
        where: "compose/",
        hint: `define it, or drop it from ${service.name}'s depends_on`,
      });
    }
    if (bindable(spec)) {
      container = container.withServiceBinding(dependency, serviceOf(dependency));
    }
  }
  return container;
}

/**
 * A small TCP forwarder that makes several services reachable through one Dagger service, so
 * `dagger call dev up --ports 8080:8080,9229:9229` reaches the whole stack. It runs on the
 * pinned Node image and holds no logic beyond copying bytes.
 */
export function forwarderScript(routes: readonly { port: number; host: string }[]): string {
  return [
    'import net from "node:net";',
    `const routes = ${JSON.stringify(routes)};`,
    "for (const { port, host } of routes) {",
    "  net",
    "    .createServer((client) => {",
    "      const upstream = net.connect(port, host);",
    "      client.pipe(upstream).pipe(client);",
    "      const close = () => { client.destroy(); upstream.destroy(); };",
    '      client.on("error", close);',
    '      upstream.on("error", close);',
    "    })",
    '    .listen(port, "0.0.0.0");',
    "}",
    "",
  ].join("\n");
}

/** One Dagger service that forwards each published port of the stack to its service. */
export function stackFront(
  services: Readonly<Record<string, StackService>>,
  running: Readonly<Record<string, Service>>,
): Service {
  const routes = Object.values(services).flatMap((service) =>
    service.published.map((port) => ({ port, host: service.name })),
  );
  if (routes.length === 0) {
    throw new TiersError("the dev topology publishes no ports, so there is nothing to reach", {
      where: "compose/compose.dev.yaml",
      hint: "publish the service ports in the dev override (127.0.0.1 only)",
    });
  }
  let front = dag
    .container()
    .from(imageRef(supportImages.node))
    .withNewFile("/tiers/forward.mjs", forwarderScript(routes));
  for (const host of new Set(routes.map((route) => route.host))) {
    front = front.withServiceBinding(host, running[host]!);
  }
  for (const { port } of routes) front = front.withExposedPort(port);
  return front.asService({ args: ["node", "/tiers/forward.mjs"] });
}
