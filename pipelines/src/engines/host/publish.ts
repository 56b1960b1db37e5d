/**
 * Host engine for `tiers publish`: pushes each service's production image to the registry,
 * asks the registry itself (skopeo) for the digest it serves, and only when every push and
 * lookup succeeded writes `.tiers/artefacts/<commit>.json` and `latest.json`, each atomically
 * (temp file + rename). A registry that is down or refuses leaves no record behind.
 * Before that it commits each digest's supply-chain evidence (SBOM from `npm sbom`, SLSA v1
 * provenance) under releases/ and attests it when a key is configured (supply-chain.ts).
 */
import {
  type ArtefactRecord,
  artefactRecordPaths,
  imageRepository,
  ociLabel,
  type PublishedImage,
  serializeArtefactRecord,
} from "../../core/artefact.ts";
import { TiersError } from "../../core/errors.ts";
import type { Reporter } from "../../core/log.ts";
import * as docker from "../../tools/docker.ts";
import * as registry from "../../tools/registry.ts";
import { atomicWrite } from "./atomic-write.ts";
import { buildImages, buildSettings, findImage, readRevision, servicesToBuild } from "./build.ts";
import { runHost } from "./run.ts";
import {
  fileSha256,
  hostAttester,
  invocationId,
  publishedEvidence,
  recordEvidence,
  serviceSboms,
} from "./supply-chain.ts";

export interface PublishRequest {
  root: string;
  reporter: Reporter;
  /** Registry host to push to (default: TIERS_REGISTRY, else environments' registry.host). */
  registry?: string;
  services?: readonly string[];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Writes the record of `record.commit` and then `latest.json`, each atomically. */
export async function writeArtefactRecord(root: string, record: ArtefactRecord): Promise<string> {
  const paths = artefactRecordPaths(root, record.commit);
  const text = serializeArtefactRecord(record);
  await atomicWrite(paths.record, text);
  await atomicWrite(paths.latest, text);
  return paths.record;
}

/** Publishes the production image of every service and returns the record it wrote. */
export async function publish(request: PublishRequest): Promise<ArtefactRecord> {
  const { root, reporter } = request;
  const env = request.env ?? process.env;
  const settings = await buildSettings(root, env);
  const target = request.registry ?? settings.registry;
  const revision = await readRevision(root);
  if (revision.dirty) {
    throw new TiersError("the working tree has uncommitted changes; only commits are published", {
      where: root,
      hint: "commit (or stash) your changes, then run `tiers build` and `tiers publish` again: a published tag must name exactly one commit",
    });
  }
  const reachable = await registry.ping(target);
  if (!reachable.ok) {
    throw new TiersError(`registry ${target} is unreachable (${reachable.reason})`, {
      where: registry.pingUrl(target),
      hint: "start it (bash scripts/provision.sh serves one on 127.0.0.1:5000) or point TIERS_REGISTRY / registry.host elsewhere; nothing was pushed or recorded",
    });
  }
  // The SBOMs come from the lock file alone: made before anything is pushed, so a project npm
  // cannot describe fails here with nothing pushed. A configured key without cosign fails too.
  const started = new Date().toISOString();
  const topology = await servicesToBuild(root, request.services);
  const sboms = await serviceSboms(root, topology, reporter, env);
  const attester = await hostAttester(root, env);
  // Build once per commit: reuses the images `tiers build` made, builds only what is missing.
  const images = await buildImages({
    root,
    reporter,
    target: "production",
    env,
    ...(request.services ? { services: request.services } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
  const published: Record<string, PublishedImage> = {};
  for (const image of images) {
    const repository = imageRepository(target, settings.namespace, image.service);
    const ref = `${repository}:${image.tag}`;
    await reporter.step(undefined, `push ${image.service} → ${ref}`, async () => {
      if (ref !== image.ref) await runHost(docker.tag(image.ref, ref), { root, env });
      const invocation = docker.push(ref);
      const result = await runHost(invocation, { root, env, reject: false });
      if (result.exitCode !== 0) throw docker.pushError(invocation, result, target);
    });
    const remote = await reporter.step(
      undefined,
      `digest of ${image.service} from ${target}`,
      async () => {
        const invocation = registry.inspect(ref);
        const result = await runHost(invocation, { root, env, reject: false });
        if (result.exitCode !== 0) throw registry.registryError(invocation, result, target);
        return registry.parseInspect(result.stdout);
      },
    );
    if (remote.labels[ociLabel.revision] !== revision.commit) {
      throw new TiersError(
        `registry ${target} serves ${ref} with revision ${remote.labels[ociLabel.revision] ?? "(none)"}, expected ${revision.commit}`,
        {
          where: ref,
          hint: "someone pushed a different image under this commit's tag; nothing was recorded",
        },
      );
    }
    published[image.service] = {
      repository,
      tag: image.tag,
      digest: remote.digest,
      ref: `${repository}@${remote.digest}`,
    };
  }
  const finished = new Date().toISOString();
  const lockSha = await fileSha256(root, "package-lock.json");
  // The base image as this engine has it: a manifest digest once pulled, else its local id.
  const base = await findImage(root, settings.baseImage);
  const baseDigest = base?.repoDigests[0]?.split("@")[1];
  const baseImage = {
    ref: settings.baseImage,
    ...(baseDigest ? { digest: baseDigest } : base?.id ? { imageId: base.id } : {}),
  };
  const evidence = publishedEvidence({
    engine: "host",
    project: settings.project,
    revision,
    baseImage,
    services: topology,
    images: published,
    sboms,
    lockSha,
    invocationId: invocationId(env),
    startedOn: started,
    finishedOn: finished,
  });
  const record: ArtefactRecord = {
    commit: revision.commit,
    created: new Date().toISOString(),
    registry: target,
    images: published,
  };
  await recordEvidence({ root, env, reporter, commit: revision.commit, evidence, attester });
  const file = await writeArtefactRecord(root, record);
  reporter.info(undefined, `recorded ${Object.keys(published).length} digest(s) in ${file}`);
  return record;
}
