/**
 * SLSA v1 build provenance of a published digest (https://slsa.dev/provenance/v1), written by
 * `tiers publish` to releases/provenance/sha256-<hex>.json and attested with
 * `cosign attest --type slsaprovenance1`. cosign reads the predicate into the in-toto
 * attestation proto (sigstore/cosign pkg/cosign/attestation/attestation.go,
 * generateSLSAProvenanceStatementSLSA1, which requires the proto's required fields), so field
 * names follow that schema exactly: buildDefinition{buildType, externalParameters,
 * internalParameters, resolvedDependencies[{uri, digest, name}]}, runDetails{builder{id,
 * version}, metadata{invocationId, startedOn, finishedOn}}.
 */
import { z } from "../zod.ts";
import { releasesDir } from "./records.ts";
import { digestFileName } from "./refs.ts";

/**
 * What kind of build this provenance describes: a BuildKit build of one Dockerfile target with
 * the parameters under externalParameters (docs/promotion.md, "Provenance"). A URN: tiers has
 * no URL of its own to name the type by, and SLSA asks only for a URI.
 */
export const tiersBuildType = "urn:tiers:build-type:dockerfile-target:v1";

/** The builder id of an engine: `urn:tiers:engine:<engine>`. */
export function tiersBuilderId(engine: "host" | "dagger"): string {
  return `urn:tiers:engine:${engine}`;
}

export const provenanceDir = `${releasesDir}/provenance`;

export function provenancePath(digest: string): string {
  return `${provenanceDir}/${digestFileName(digest)}.json`;
}

const resourceDescriptor = z.looseObject({
  uri: z.string().min(1),
  digest: z.record(z.string(), z.string()),
  name: z.string().optional(),
});

/** The predicate, as tiers writes and reads it back (`tiers plan` shows it). */
export const provenanceSchema = z.looseObject({
  buildDefinition: z.looseObject({
    buildType: z.string().min(1),
    externalParameters: z.looseObject({
      source: z.looseObject({ uri: z.string(), commit: z.string() }),
      service: z.string(),
      dockerfile: z.string(),
      context: z.string(),
      target: z.string(),
      buildArgs: z.record(z.string(), z.string()),
    }),
    internalParameters: z.record(z.string(), z.unknown()).optional(),
    resolvedDependencies: z.array(resourceDescriptor),
  }),
  runDetails: z.looseObject({
    builder: z.looseObject({
      id: z.string().min(1),
      version: z.record(z.string(), z.string()).optional(),
    }),
    metadata: z
      .looseObject({
        invocationId: z.string().optional(),
        startedOn: z.string().optional(),
        finishedOn: z.string().optional(),
      })
      .optional(),
  }),
});
export type Provenance = z.infer<typeof provenanceSchema>;

export interface ProvenanceInput {
  /** Who built: `<engine>` plus where (e.g. the CI run URL), as a URI. */
  builderId: string;
  builderVersion?: Record<string, string>;
  source: { uri: string; commit: string };
  service: string;
  dockerfile: string;
  context: string;
  target: string;
  /** Every `--build-arg` the build received (BASE_IMAGE among them). */
  buildArgs: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /**
   * The `FROM` image: its manifest digest when the engine knows one (pulled or pushed), else
   * the local image id, kept apart as an annotation because it is a config digest.
   */
  baseImage: { ref: string; digest?: string; imageId?: string };
  /** Input files that pin what was installed (the lock file), with their sha256. */
  inputs: ReadonlyArray<{ path: string; sha256: string }>;
  invocationId: string;
  startedOn: string;
  finishedOn: string;
}

/** The SLSA v1 predicate of one image build. */
export function slsaProvenance(input: ProvenanceInput): Provenance {
  const baseDigest: Record<string, string> = {};
  if (input.baseImage.digest) baseDigest.sha256 = input.baseImage.digest.replace(/^sha256:/, "");
  return {
    buildDefinition: {
      buildType: tiersBuildType,
      externalParameters: {
        source: { ...input.source },
        service: input.service,
        dockerfile: input.dockerfile,
        context: input.context,
        target: input.target,
        buildArgs: { ...input.buildArgs },
      },
      internalParameters: { labels: { ...input.labels } },
      resolvedDependencies: [
        {
          uri: `git+${input.source.uri}`,
          digest: { gitCommit: input.source.commit },
          name: "source",
        },
        {
          uri: `docker-image://${input.baseImage.ref}`,
          digest: baseDigest,
          name: "base-image",
          ...(input.baseImage.imageId && !input.baseImage.digest
            ? { annotations: { "docker.image.id": input.baseImage.imageId } }
            : {}),
        },
        ...input.inputs.map((f) => ({
          uri: `git+${input.source.uri}#${f.path}`,
          digest: { sha256: f.sha256 },
          name: f.path,
        })),
      ],
    },
    runDetails: {
      builder: {
        id: input.builderId,
        ...(input.builderVersion ? { version: { ...input.builderVersion } } : {}),
      },
      metadata: {
        invocationId: input.invocationId,
        startedOn: input.startedOn,
        finishedOn: input.finishedOn,
      },
    },
  };
}

/** One line for `tiers plan`: builder, commit and base image of a provenance. */
export function describeProvenance(p: Provenance): string {
  const ext = p.buildDefinition.externalParameters;
  const base = p.buildDefinition.resolvedDependencies.find((d) => d.name === "base-image");
  const baseText = base
    ? `${base.uri.replace(/^docker-image:\/\//, "")}${base.digest.sha256 ? `@sha256:${base.digest.sha256.slice(0, 12)}` : ""}`
    : "(none recorded)";
  return `built by ${p.runDetails.builder.id} from ${ext.source.commit.slice(0, 12)} (${ext.dockerfile} → ${ext.target}), base ${baseText}`;
}
