/**
 * Host engine for `tiers publish`: pushes each service's production image to the registry,
 * asks the registry itself (skopeo) for the digest it serves, and only when every push and
 * lookup succeeded writes `.tiers/artefacts/<commit>.json` and `latest.json`, each atomically
 * (temp file + rename). A registry that is down or refuses leaves no record behind.
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
import { buildImages, buildSettings, readRevision } from "./build.ts";
import { runHost } from "./run.ts";

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
  const record: ArtefactRecord = {
    commit: revision.commit,
    created: new Date().toISOString(),
    registry: target,
    images: published,
  };
  const file = await writeArtefactRecord(root, record);
  reporter.info(undefined, `recorded ${Object.keys(published).length} digest(s) in ${file}`);
  return record;
}
