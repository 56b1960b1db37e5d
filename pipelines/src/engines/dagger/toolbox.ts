/**
 * Promotion under Dagger: the `tiers` CLI itself, run in one container on a fresh clone.
 *
 * A promotion is one transaction over one git checkout — read records and pins, ask the
 * registry and cosign, write the pin and the records, commit, deploy — so its steps cannot be
 * spread over separate tool containers the way build or sign are. Instead the module runs the
 * host engine (the same code `tiers promote` runs on a laptop) in a toolbox assembled from the
 * pinned images: the Node image, cosign and kubectl copied from their pinned images, git and
 * skopeo from the Node image's Debian archive. Credentials are bound as Dagger secrets under the
 * environment names the host engine reads, and the commits it makes are pushed back with a
 * token that only ever exists as a secret variable.
 */
import { type Container, dag, type File, ReturnType, type Secret } from "@dagger.io/dagger";
import { imageRef, supportImages, toolImageRef } from "../../tools/images.ts";
import { registryAuthDir } from "./run.ts";

/** Where the clone lives inside the toolbox. */
export const checkoutDir = "/repo";
const kubeconfigPath = "/run/secrets/tiers-kubeconfig";

/** Who the pipeline's own commits (pins, records) are by; CI skips pipelines for them. */
export const pipelineAuthor = {
  name: "tiers pipeline",
  email: "tiers-pipeline@users.noreply.invalid",
} as const;

/** Binaries inside the pinned tool images (distroless: no shell to find them with). */
const binaries = {
  cosign: "/ko-app/cosign",
  kubectl: "/bin/kubectl",
} as const;

export interface ToolboxOptions {
  /** Node image (the environment model's base image, or the pinned default). */
  nodeImage?: string;
  /** Git remote to clone and push (https URL). */
  remote: string;
  /** Branch promotions are committed on. */
  branch: string;
  /** `Authorization: …` header for the git remote, as a secret (see `gitAuthHeader`). */
  gitAuth?: Secret;
  /** Registry login as a Docker config file (engines/dagger/run.ts `registryAuth`). */
  registryAuth?: Secret;
  /** Secret environment variables for the CLI, by variable name (SIGSTORE_ID_TOKEN, ...). */
  secretEnv?: Readonly<Record<string, Secret>>;
  /** kubeconfig for the deploy step, mounted as a file and named by TIERS_KUBECONFIG. */
  kubeconfig?: Secret;
  /** Plain environment for the CLI (TIERS_ACTOR, GITHUB_ENVIRONMENT, ...). */
  env?: Readonly<Record<string, string>>;
  /** Files to place in the clone before the CLI runs (e.g. the artefact record). */
  files?: Readonly<Record<string, string>>;
  /** Dagger files to place in the clone, by path (e.g. a scanner's report the caller passed). */
  uploads?: Readonly<Record<string, File>>;
  /** A value unique to this call, so no step is answered from the exec cache. */
  runId: string;
}

/** The container with git, skopeo, cosign, kubectl and Node, before any checkout. */
export function toolboxImage(nodeImage?: string): Container {
  return dag
    .container()
    .from(nodeImage ?? imageRef(supportImages.node))
    .withEnvVariable("DEBIAN_FRONTEND", "noninteractive")
    .withExec(["apt-get", "update"])
    .withExec([
      "apt-get",
      "install",
      "-y",
      "--no-install-recommends",
      "git",
      "skopeo",
      "ca-certificates",
    ])
    .withFile(
      "/usr/local/bin/cosign",
      dag.container().from(toolImageRef("cosign")).file(binaries.cosign),
    )
    .withFile(
      "/usr/local/bin/kubectl",
      dag.container().from(toolImageRef("kubectl")).file(binaries.kubectl),
    );
}

/**
 * A fresh clone of the branch with the pipeline's production dependencies installed and every
 * credential bound, ready to run `tiers` in.
 */
export function toolbox(options: ToolboxOptions): Container {
  let box = toolboxImage(options.nodeImage)
    // Git reads extra config from GIT_CONFIG_* variables: the auth header stays a secret.
    .withEnvVariable("GIT_CONFIG_COUNT", "3")
    .withEnvVariable("GIT_CONFIG_KEY_0", "user.name")
    .withEnvVariable("GIT_CONFIG_VALUE_0", pipelineAuthor.name)
    .withEnvVariable("GIT_CONFIG_KEY_1", "user.email")
    .withEnvVariable("GIT_CONFIG_VALUE_1", pipelineAuthor.email)
    .withEnvVariable("GIT_CONFIG_KEY_2", "http.extraHeader");
  if (options.gitAuth) box = box.withSecretVariable("GIT_CONFIG_VALUE_2", options.gitAuth);
  else box = box.withEnvVariable("GIT_CONFIG_VALUE_2", "X-Tiers-Anonymous: 1");
  box = box
    .withEnvVariable("TIERS_RUN_ID", options.runId)
    .withExec(["git", "clone", "--branch", options.branch, options.remote, checkoutDir])
    .withWorkdir(checkoutDir)
    .withMountedCache("/root/.npm", dag.cacheVolume("tiers-npm"))
    .withExec(["npm", "ci", "--omit=dev", "--workspace=pipelines", "--no-audit", "--no-fund"]);
  for (const [path, contents] of Object.entries(options.files ?? {})) {
    box = box.withNewFile(`${checkoutDir}/${path}`, contents);
  }
  for (const [path, file] of Object.entries(options.uploads ?? {})) {
    box = box.withFile(`${checkoutDir}/${path}`, file);
  }
  if (options.registryAuth) {
    box = box
      .withMountedSecret(`${registryAuthDir}/config.json`, options.registryAuth)
      .withEnvVariable("DOCKER_CONFIG", registryAuthDir)
      .withEnvVariable("REGISTRY_AUTH_FILE", `${registryAuthDir}/config.json`);
  }
  if (options.kubeconfig) {
    box = box
      .withMountedSecret(kubeconfigPath, options.kubeconfig)
      .withEnvVariable("TIERS_KUBECONFIG", kubeconfigPath);
  }
  for (const [name, value] of Object.entries(options.env ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    box = box.withEnvVariable(name, value);
  }
  for (const [name, secret] of Object.entries(options.secretEnv ?? {})) {
    box = box.withSecretVariable(name, secret);
  }
  return box;
}

/**
 * Runs `tiers <args>` in the toolbox. Any exit code is accepted here so the caller can read the
 * CLI's own output (a blocked plan explains every gate on stdout) before deciding to fail.
 */
export function runCli(box: Container, args: readonly string[]): Container {
  return box.withExec(["node", "pipelines/bin/tiers.js", "--no-color", ...args], {
    expect: ReturnType.Any,
  });
}

/** Pushes what the CLI committed (nothing, when it changed nothing). */
export function pushBranch(box: Container, branch: string): Container {
  return box.withExec(["git", "push", "origin", `HEAD:refs/heads/${branch}`]);
}

/** The `Authorization` header git sends to the remote: HTTP basic with a token. */
export function gitAuthHeader(username: string, token: string): string {
  return `Authorization: Basic ${Buffer.from(`${username}:${token}`).toString("base64")}`;
}
