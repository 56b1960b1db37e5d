/**
 * Pinned container images for every tool the pipeline drives under Dagger (contract 5).
 *
 * The Dagger engine runs each step in the tool's own image instead of the runtime container, so
 * a step behaves the same on a laptop and in CI. One table, one place to bump a version: the
 * engine helpers, the docs and the tests all read it.
 *
 * Digests: where a digest is given it was found pinned next to the same tag in public
 * repositories and is recorded here as the reproducibility anchor; it could not be re-checked
 * against the registry from the build machines (no container registry is reachable there, see
 * docs/dagger.md). Entries without a digest are pinned by tag only, and say so in `note`.
 */
import type { ToolName } from "./invocation.ts";

/** Images the Dagger module runs that are not tools: the Node base and the test database. */
export type SupportImageName = "node" | "postgres";

export interface PinnedImage {
  /** Repository without tag, e.g. `gcr.io/projectsigstore/cosign`. */
  repository: string;
  /** Version tag, never `latest`. */
  tag: string;
  /** Manifest digest (`sha256:...`) when one could be cited; absent means tag-only. */
  digest?: string;
  /** Program name inside the image, first element of every exec. */
  program: string;
  /** Why this image, and how it is pinned. */
  note: string;
}

export const toolImages: Readonly<Record<ToolName, PinnedImage>> = {
  cosign: {
    repository: "gcr.io/projectsigstore/cosign",
    tag: "v2.4.3",
    program: "cosign",
    note: "Sigstore's own distroless image (cosign on PATH at /ko-app). Tag only: the release scripts/provision.sh go-installs on the host (scripts/provision/go-tools.sh, kept equal by test/unit/provision/go-tools.test.ts), so the Dagger module and the real round trips run one cosign; the v2.2.3 digest pinned before could not be carried over, and no digest of v2.4.3 could be checked from these machines (no container registry reachable).",
  },
  kubectl: {
    repository: "registry.k8s.io/kubectl",
    tag: "v1.32.3",
    program: "kubectl",
    note: "Upstream kubectl image, same minor as the preinstalled kubectl (built-in kustomize). Tag only: no digest could be cited.",
  },
  terraform: {
    repository: "hashicorp/terraform",
    tag: "1.11.3",
    digest: "sha256:c2c17884347f9b5f3d71067a3ef1fb736f748979f89b35a2e4b5225735e7fe01",
    program: "terraform",
    note: "HashiCorp's image, same minor as the preinstalled terraform 1.11.",
  },
  git: {
    repository: "alpine/git",
    tag: "v2.49.1",
    digest: "sha256:c0280cf9572316299b08544065d3bf35db65043d5e3963982ec50647d2746e26",
    program: "git",
    note: "Small git image; reads commit ids and writes promotion records.",
  },
  skopeo: {
    repository: "quay.io/skopeo/stable",
    tag: "v1.22.2",
    digest: "sha256:0b98d4296bfd35680c09fd40a5bff17b8569715258a4bee0a7ae3ca500eaaece",
    program: "skopeo",
    note: "Inspects remote manifests, labels and digests without a Docker daemon.",
  },
  docker: {
    repository: "docker",
    tag: "28-cli",
    program: "docker",
    note: "Only for steps that must talk to an external daemon; Dagger builds images natively. Tag only.",
  },
  npm: {
    repository: "node",
    tag: "22-bookworm-slim",
    program: "npm",
    note: "npm sbom for the SBOM of each published image (npm >= 10 ships in Node 22); the same image as the default service base. Tag only.",
  },
  "docker-compose": {
    repository: "docker",
    tag: "28-cli",
    program: "docker-compose",
    note: "Unused under Dagger (the dev stack is Dagger services); listed so every tool has an entry. Tag only.",
  },
};

export const supportImages: Readonly<Record<SupportImageName, PinnedImage>> = {
  node: {
    repository: "node",
    tag: "22-bookworm-slim",
    program: "node",
    note: "Default service base image; the environment model's build.base_image overrides it. Tag only.",
  },
  postgres: {
    repository: "postgres",
    tag: "15-bookworm",
    program: "postgres",
    note: "Database bound as a Dagger service for the test tier and the dev stack. Tag only.",
  },
};

/** `repository:tag@digest` when a digest is pinned, else `repository:tag`. */
export function imageRef(image: PinnedImage): string {
  const tagged = `${image.repository}:${image.tag}`;
  return image.digest ? `${tagged}@${image.digest}` : tagged;
}

/** The pinned reference of a tool's image. */
export function toolImageRef(tool: ToolName): string {
  return imageRef(toolImages[tool]);
}
