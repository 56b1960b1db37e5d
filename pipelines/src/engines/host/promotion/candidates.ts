/**
 * Candidates: what a promotion would move. From a digest, a published commit, an image
 * reference, or — when nothing is named — what waits in the tier below.
 */
import { join } from "node:path";
import {
  type ArtefactRecord,
  artefactDir,
  ociLabel,
  projectLabel,
} from "../../../core/artefact.ts";
import { type EnvironmentModel, imageRepository, tierOf } from "../../../core/environment/index.ts";
import { TiersError } from "../../../core/errors.ts";
import { unpromotedDigest } from "../../../core/manifests/pins.ts";
import { hasOverlay, previousTier } from "../../../core/promotion/chain.ts";
import type { Candidate } from "../../../core/promotion/gates.ts";
import { overlayPath } from "../../../core/promotion/overlay.ts";
import { presentOrThrow } from "../../../core/promotion/record-read.ts";
import { passagePath, passageSchema } from "../../../core/promotion/records.ts";
import { isDigest, parseImageRef, pinnedRef } from "../../../core/promotion/refs.ts";
import { serviceOfRepository } from "../../../core/promotion/services.ts";
import { listPassages } from "./passage-records.ts";
import type { PromotionRequest } from "./request.ts";
import { type PromotionSources, readArtefact, readRecord } from "./sources.ts";

/** The images of one artefact record (optionally one service of it). */
export function candidatesFromRecord(
  record: ArtefactRecord,
  only: string | undefined,
): Candidate[] {
  const entries = Object.entries(record.images).filter(([s]) => !only || s === only);
  if (entries.length === 0) {
    throw new TiersError(
      `artefact ${record.commit.slice(0, 12)} has no image of service "${only}"`,
      {
        where: join(artefactDir, `${record.commit}.json`),
        hint: `its services: ${Object.keys(record.images).join(", ")}`,
      },
    );
  }
  return entries.map(([service, image]) => ({
    service,
    repository: image.repository,
    reference: image.ref,
    digest: image.digest,
    commit: record.commit,
  }));
}

/** The artefact record of a full or abbreviated commit SHA (or `latest`). */
export async function resolveCommitRecord(
  sources: Pick<PromotionSources, "artefacts">,
  commit: string,
): Promise<ArtefactRecord> {
  if (/^[0-9a-f]{40}$/.test(commit) || commit === "latest") return sources.artefacts.read(commit);
  const matches = (await sources.artefacts.all()).filter((r) => r.commit.startsWith(commit));
  if (matches.length === 1) return matches[0]!;
  throw new TiersError(
    matches.length === 0
      ? `no published artefact for commit ${commit}`
      : `commit ${commit} is ambiguous (${matches.map((m) => m.commit.slice(0, 12)).join(", ")})`,
    {
      where: artefactDir,
      hint: "give the full commit SHA; `tiers publish` writes one record per published commit",
    },
  );
}

/** The candidate of a bare digest: from an artefact record, else the service repository holding it. */
export async function candidatesForDigest(
  request: PromotionRequest,
  model: EnvironmentModel,
  sources: PromotionSources,
  digest: string,
): Promise<Candidate[]> {
  for (const record of await sources.artefacts.all()) {
    for (const [service, image] of Object.entries(record.images)) {
      if (image.digest === digest && (!request.service || request.service === service)) {
        return [
          {
            service,
            repository: image.repository,
            reference: image.ref,
            digest,
            commit: record.commit,
          },
        ];
      }
    }
  }
  // Not in any local artefact record: ask the registry which service repository holds it.
  const services = request.service
    ? [request.service]
    : Object.keys(tierOf(model, request.tier).services);
  for (const service of services) {
    const repository = imageRepository(model, request.tier, service);
    const found = await sources.registry.inspect(pinnedRef(repository, digest));
    if (found.ok) {
      return [
        {
          service,
          repository,
          reference: pinnedRef(repository, digest),
          digest,
          commit: found.value.labels[ociLabel.revision] ?? null,
        },
      ];
    }
  }
  throw new TiersError(`no service repository in the registry holds ${digest}`, {
    where: services.map((s) => imageRepository(model, request.tier, s)).join(", "),
    hint: "check the digest (`tiers status`), or publish the artefact first (`tiers publish`)",
  });
}

async function candidateForImage(
  request: PromotionRequest,
  model: EnvironmentModel,
  sources: PromotionSources,
  image: string,
): Promise<Candidate[]> {
  const ref = parseImageRef(image);
  const inspected = await sources.registry.inspect(image);
  const service =
    request.service ??
    serviceOfRepository(model, request.tier, ref.repository) ??
    (inspected.ok ? inspected.value.labels[projectLabel(model.project).service] : undefined);
  if (!service) {
    throw new TiersError(`cannot tell which service ${image} is`, {
      hint: "add --service <name>",
    });
  }
  return [
    {
      service,
      repository: ref.repository,
      reference: image,
      digest: ref.digest ?? (inspected.ok ? inspected.value.digest : undefined),
      commit: inspected.ok ? (inspected.value.labels[ociLabel.revision] ?? null) : null,
    },
  ];
}

/**
 * What is waiting below `tier`: the previous tier's pins (if it has an overlay), else the
 * commit of its most recent passage, else the latest published artefact.
 */
export async function waitingCandidates(
  request: Pick<PromotionRequest, "tier" | "service">,
  model: EnvironmentModel,
  sources: PromotionSources,
): Promise<Candidate[]> {
  const from = previousTier(model, request.tier);
  if (from && hasOverlay(model, from)) {
    const pins = (await sources.records.pinsAt(from)) ?? [];
    const live = pins.filter(
      (p) => p.digest && p.digest !== unpromotedDigest && isDigest(p.digest),
    );
    const out: Candidate[] = [];
    for (const pin of live) {
      const service = serviceOfRepository(model, request.tier, pin.newName ?? pin.name);
      if (!service || (request.service && service !== request.service)) continue;
      const passage = presentOrThrow(
        await readRecord(sources.records, passageSchema, passagePath(from, pin.digest!)),
      );
      const repository = pin.newName ?? imageRepository(model, request.tier, service);
      out.push({
        service,
        repository,
        reference: pinnedRef(repository, pin.digest!),
        digest: pin.digest!,
        commit: passage?.commit ?? null,
      });
    }
    if (out.length > 0) return out;
    throw new TiersError(
      `nothing is pinned in ${from} yet, so nothing waits to enter ${request.tier}`,
      {
        where: overlayPath(from),
        hint: `promote into ${from} first, or name what to promote with --digest or --commit`,
      },
    );
  }
  if (from) {
    const passages = await listPassages(sources.records, from);
    const newest = passages[0];
    if (newest?.commit) {
      // An absent record falls back to the passages; a broken one fails, naming the file.
      const record = presentOrThrow(await readArtefact(sources.artefacts, newest.commit));
      if (record) return candidatesFromRecord(record, request.service);
      return passages
        .filter((p) => p.commit === newest.commit)
        .filter((p) => !request.service || p.service === request.service)
        .map((p) => ({
          service: p.service,
          repository: p.repository,
          reference: pinnedRef(p.repository, p.digest),
          digest: p.digest,
          commit: p.commit,
        }));
    }
  }
  const latest = presentOrThrow(await readArtefact(sources.artefacts, "latest"));
  if (latest) return candidatesFromRecord(latest, request.service);
  throw new TiersError(
    `nothing waits to enter ${request.tier}: ${from ?? "the tier below"} has no passage and nothing is published`,
    {
      hint: "name what to promote with --digest <sha256:…> or --commit <sha>",
    },
  );
}

/** The candidates a request names (one of --digest, --commit, --image), else what waits. */
export async function resolveCandidates(
  request: PromotionRequest,
  model: EnvironmentModel,
  sources: PromotionSources,
): Promise<Candidate[]> {
  const given = [request.digest, request.commit, request.image].filter(Boolean).length;
  if (given > 1) {
    throw new TiersError("give only one of --digest, --commit and --image", { exitCode: 2 });
  }
  if (request.digest) return candidatesForDigest(request, model, sources, request.digest);
  if (request.commit) {
    return candidatesFromRecord(
      await resolveCommitRecord(sources, request.commit),
      request.service,
    );
  }
  if (request.image) return candidateForImage(request, model, sources, request.image);
  return waitingCandidates(request, model, sources);
}
