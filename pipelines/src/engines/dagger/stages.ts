/**
 * The Dagger shape of each stage: functions from already-decided inputs (labels, targets, tool
 * invocations — all computed by core and tool modules) to Dagger objects. Nothing here decides
 * anything; it only says how a decision is expressed as containers, services and secrets.
 * Every function is lazy (builds a query, runs nothing), which is what lets the tests read the
 * exact operations without an engine.
 */
import { type Container, type Directory, dag, type Secret } from "@dagger.io/dagger";

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
  const context =
    build.context === "." || build.context === ""
      ? build.source
      : build.source.directory(build.context);
  let image = context.dockerBuild({
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

/**
 * The CA bundle as the build secret named `ca`. Dockerfiles mount build secrets by name
 * (`RUN --mount=type=secret,id=ca`), and a secret given on the command line carries a name of
 * Dagger's choosing, so its value is re-registered under the fixed name. The value travels
 * only to the engine, never into a layer or a log.
 */
export async function caSecret(bundle: Secret | undefined): Promise<Secret | undefined> {
  return bundle ? dag.setSecret("ca", await bundle.plaintext()) : undefined;
}
