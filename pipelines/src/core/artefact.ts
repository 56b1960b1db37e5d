/**
 * Artefacts: what an image says about itself (labels) and what the pipeline records once it
 * has been published (the artefact record). Both are computed here, once, so the host runner,
 * the Dagger module and the promotion gates agree on every key.
 *
 * Contract 3 of the helpers' brief: labels + `.tiers/artefacts/<commit>.json` (+ latest.json).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TiersError, UsageError } from "./errors.ts";
import { z } from "./zod.ts";

/** The Dockerfile targets every service has; only `production` images are promotable. */
export const buildTargets = ["production", "development", "test"] as const;
/**
 * The value of the `<project>.environment` label a development build carries, which the
 * no-dev-image gate refuses. A label vocabulary word, not a tier name: images keep it whatever
 * the tiers are called.
 */
export const developmentImageLabel = "dev";
/** Each Dockerfile stage by its role, named once (buildTargets). */
export const [productionTarget, developmentTarget, testTarget] = buildTargets;
export type BuildTarget = (typeof buildTargets)[number];

export function isBuildTarget(value: string): value is BuildTarget {
  return (buildTargets as readonly string[]).includes(value);
}

/** The OCI annotation keys the pipeline sets on every image it builds. */
export const ociLabel = {
  revision: "org.opencontainers.image.revision",
  source: "org.opencontainers.image.source",
  created: "org.opencontainers.image.created",
  version: "org.opencontainers.image.version",
  title: "org.opencontainers.image.title",
} as const;

/**
 * The project's own label keys. The prefix is the project name from the environment config,
 * so two projects sharing one Docker engine never clean up each other's resources.
 */
export function projectLabel(project: string) {
  return {
    service: `${project}.service`,
    target: `${project}.target`,
    /** Set to `dev` on development-target images; policy refuses them in staging and prod. */
    environment: `${project}.environment`,
    /** `true` when built from a tree with uncommitted changes: such an image is never published. */
    dirty: `${project}.dirty`,
    /** Set on every container, network and volume a tier run creates (`test`, `dev`). */
    tier: `${project}.tier`,
    /** The unique id of one test-tier run, so a crashed run can be found and removed. */
    run: `${project}.run`,
    /** `<host>:<pid>` of the process running a test-tier run; a live owner's run is not cleaned. */
    owner: `${project}.owner`,
    /**
     * `true` on a failed test run's service container kept for debugging (`--keep-on-failure`):
     * a plain `tiers env test clean` leaves that run alone; `--run <id>` removes it.
     */
    kept: `${project}.kept`,
  } as const;
}

/** The git facts an image is built from. */
export interface Revision {
  /** Full 40-hex commit SHA. */
  commit: string;
  /** Commit timestamp (ISO 8601, UTC): stable for a commit, so rebuilds are reproducible. */
  committedAt: string;
  /** True when the working tree has uncommitted changes to tracked or untracked files. */
  dirty: boolean;
  /** Where the source lives (the `origin` remote URL, or a file:// URL of the checkout). */
  source: string;
}

export interface LabelInput {
  project: string;
  service: string;
  target: BuildTarget;
  revision: Revision;
}

/**
 * The image tag for a build. Production images are tagged with the bare commit SHA (the only
 * promotable, immutable tag); other targets and dirty trees get a suffix so they can never be
 * mistaken for a release: `<sha>`, `<sha>-development`, `<sha>-dirty`, `<sha>-dirty-test`.
 */
export function imageTag(commit: string, target: BuildTarget, dirty: boolean): string {
  const parts = [commit];
  if (dirty) parts.push("dirty");
  if (target !== "production") parts.push(target);
  return parts.join("-");
}

/** True only for a tag that names a release: the bare 40-hex commit SHA. */
export function isPromotableTag(tag: string): boolean {
  return /^[0-9a-f]{40}$/.test(tag);
}

/** `<registry>/<namespace>/<service>`: where a service's images live. */
export function imageRepository(registry: string, namespace: string, service: string): string {
  return [registry, namespace, service].filter((part) => part.length > 0).join("/");
}

/**
 * Every label the pipeline puts on an image: the OCI ones plus `<project>.service` and
 * `<project>.target`; development images also carry `<project>.environment=dev`.
 */
export function imageLabels(input: LabelInput): Record<string, string> {
  const { project, service, target, revision } = input;
  const own = projectLabel(project);
  const labels: Record<string, string> = {
    [ociLabel.revision]: revision.commit,
    [ociLabel.source]: revision.source,
    [ociLabel.created]: revision.committedAt,
    [ociLabel.version]: imageTag(revision.commit, target, revision.dirty),
    [ociLabel.title]: `${project}-${service}`,
    [own.service]: service,
    [own.target]: target,
  };
  if (target === developmentTarget) labels[own.environment] = developmentImageLabel;
  if (revision.dirty) labels[own.dirty] = "true";
  return labels;
}

/** What a build needs to fill the Dockerfiles' build arguments. */
export interface BuildArgsInput {
  /** The image every Dockerfile starts `FROM` (`ARG BASE_IMAGE`). */
  baseImage: string;
  revision: Revision;
}

/**
 * The build arguments every service Dockerfile receives, whichever engine builds it:
 * `BASE_IMAGE`, and `TIERS_GIT_SHA` (baked into the image's environment, so `/version` reports
 * the commit the image was built from). One function, so the host and Dagger builds agree.
 */
export function imageBuildArgs(input: BuildArgsInput): Record<string, string> {
  return { BASE_IMAGE: input.baseImage, TIERS_GIT_SHA: input.revision.commit };
}

/** A full 40-hex commit SHA, or a usage error naming the flag. */
export function fullCommit(value: string, flag = "--commit"): string {
  const trimmed = value.trim();
  if (!/^[0-9a-f]{40}$/.test(trimmed)) {
    throw new UsageError(`${flag} must be a full 40-hex commit SHA, got "${trimmed}"`);
  }
  return trimmed;
}

const sha = z.string().regex(/^[0-9a-f]{40}$/, "a 40-hex git commit SHA");
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "a sha256:<64 hex> digest");

/** One published image of one service. */
export const publishedImageSchema = z.strictObject({
  /** `<registry>/<namespace>/<service>` */
  repository: z.string().min(1),
  /** The git SHA the image was built from (immutable tag). */
  tag: sha,
  /** Manifest digest as the registry reports it. */
  digest,
  /** `<repository>@<digest>`: what deployments and promotion pin. */
  ref: z.string().min(1),
});
export type PublishedImage = z.infer<typeof publishedImageSchema>;

/** `.tiers/artefacts/<commit>.json`: the digests later stages read, written by `tiers publish`. */
export const artefactRecordSchema = z
  .strictObject({
    commit: sha,
    /** When the record was written (ISO 8601). */
    created: z.iso.datetime({ offset: true }),
    /** The registry host the images were pushed to. */
    registry: z.string().min(1),
    images: z.record(z.string().min(1), publishedImageSchema),
  })
  .superRefine((record, ctx) => {
    for (const [service, image] of Object.entries(record.images)) {
      if (image.ref !== `${image.repository}@${image.digest}`) {
        ctx.addIssue({
          code: "custom",
          path: ["images", service, "ref"],
          message: `must be "${image.repository}@${image.digest}"`,
        });
      }
      if (image.tag !== record.commit) {
        ctx.addIssue({
          code: "custom",
          path: ["images", service, "tag"],
          message: `must be the record's commit ${record.commit}`,
        });
      }
    }
  });
export type ArtefactRecord = z.infer<typeof artefactRecordSchema>;

/** Where artefact records live, relative to the repository root. */
export const artefactDir = join(".tiers", "artefacts");

/** Paths of the record for a commit and of `latest.json`. */
export function artefactRecordPaths(root: string, commit: string) {
  const dir = join(root, artefactDir);
  return { dir, record: join(dir, `${commit}.json`), latest: join(dir, "latest.json") };
}

/** Validates a record, reporting every problem with its JSON path and the file it came from. */
export function parseArtefactRecord(text: string, where: string): ArtefactRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TiersError(`artefact record is not valid JSON: ${(error as Error).message}`, {
      where,
      hint: "re-run `tiers publish` to write it again",
    });
  }
  const parsed = artefactRecordSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new TiersError(`artefact record is invalid: ${problems}`, {
      where,
      hint: "re-run `tiers publish` to write it again; never edit records by hand",
    });
  }
  return parsed.data;
}

/** Stable text form (sorted services, trailing newline) so records diff cleanly. */
export function serializeArtefactRecord(record: ArtefactRecord): string {
  const checked = artefactRecordSchema.parse(record);
  const images = Object.fromEntries(
    Object.keys(checked.images)
      .sort()
      .map((service) => [service, checked.images[service]]),
  );
  return `${JSON.stringify({ ...checked, images }, null, 2)}\n`;
}

/**
 * Reads the record of a commit, or `latest`. A missing record is an error that says how to
 * create one, because every later stage (sign, promote, deploy) starts from it.
 */
/** No artefact record exists for a commit: absent, as opposed to a record that is broken. */
export class MissingArtefactRecord extends TiersError {}

export async function readArtefactRecord(
  root: string,
  which: string = "latest",
): Promise<ArtefactRecord> {
  const paths = artefactRecordPaths(root, which);
  const file = which === "latest" ? paths.latest : paths.record;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw missingArtefactRecord(which, file);
  }
  return parseArtefactRecord(text, file);
}

/** The error for a commit (or `latest`) that has no artefact record at `file`. */
export function missingArtefactRecord(which: string, file: string): MissingArtefactRecord {
  return new MissingArtefactRecord(`no artefact record for ${which}`, {
    where: file,
    hint: "run `tiers build` then `tiers publish` to publish images and record their digests",
  });
}
