/**
 * Docker helpers for integration tests: what exists with a label, removal by label, free
 * ports, and a check that the engine, registry and base images a test needs are present.
 */
import { execFileSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";

/** Debian's client: the one that builds with BuildKit (see docs/pipeline.md). */
export const dockerBin = process.env.TIERS_DOCKER_BIN ?? "/usr/bin/docker";

export function docker(...args: string[]): string {
  return execFileSync(dockerBin, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

/** Names of containers, networks and volumes carrying every given label. */
export function resourcesWithLabels(labels: Record<string, string>) {
  const filters = Object.entries(labels).flatMap(([k, v]) => [
    "--filter",
    v ? `label=${k}=${v}` : `label=${k}`,
  ]);
  return {
    containers: lines(docker("ps", "--all", ...filters, "--format", "{{.Names}}")),
    networks: lines(docker("network", "ls", ...filters, "--format", "{{.Name}}")),
    volumes: lines(docker("volume", "ls", ...filters, "--format", "{{.Name}}")),
  };
}

/** Every volume name on the engine (to prove a run created no unlabelled anonymous volume). */
export function allVolumes(): Set<string> {
  return new Set(lines(docker("volume", "ls", "--format", "{{.Name}}")));
}

/** Containers, networks and volumes of a compose project (compose's own label). */
export function composeProjectResources(project: string) {
  return resourcesWithLabels({ "com.docker.compose.project": project });
}

/** Best-effort removal of everything a compose project left (test cleanup). */
export function removeComposeProject(project: string): void {
  const found = composeProjectResources(project);
  if (found.containers.length) docker("rm", "--force", "--volumes", ...found.containers);
  if (found.networks.length) docker("network", "rm", ...found.networks);
  if (found.volumes.length) docker("volume", "rm", "--force", ...found.volumes);
}

/** A TCP port nobody listens on right now (for "registry down" and dev host ports). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * What these tests need from the machine (scripts/provision.sh provides it): the engine, the
 * base images and the registry. Returns the missing pieces, empty when ready.
 */
export async function missingPrerequisites(registry = "127.0.0.1:5000"): Promise<string[]> {
  const missing: string[] = [];
  try {
    docker("version", "--format", "{{.Server.Version}}");
  } catch {
    return ["a running Docker engine"];
  }
  for (const image of ["local/node:22-bookworm-slim", "local/postgres:15-bookworm"]) {
    try {
      docker("image", "inspect", "--format", "{{.Id}}", image);
    } catch {
      missing.push(`image ${image}`);
    }
  }
  const up = await fetch(`http://${registry}/v2/`).then(
    (r) => r.ok,
    () => false,
  );
  if (!up) missing.push(`the registry on ${registry}`);
  return missing;
}

/** Fails a suite with the fix when prerequisites are missing (never skips silently). */
export async function requirePrerequisites(): Promise<void> {
  const missing = await missingPrerequisites();
  if (missing.length) {
    throw new Error(
      `missing ${missing.join(", ")}: run \`bash scripts/provision.sh\` (as root) first`,
    );
  }
}
