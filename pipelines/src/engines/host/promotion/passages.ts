/**
 * `tiers verify` and `tiers sign` on passages that already exist: checks each passage (git
 * record + registry) and its signature, or adds a cosign signature to it. Signing never stands
 * in for the gates: a digest without a passage is refused.
 */
import { type EnvironmentModel, tierOf } from "../../../core/environment/index.ts";
import { TiersError } from "../../../core/errors.ts";
import { nextTier } from "../../../core/promotion/chain.ts";
import {
  chooseEvidence,
  describeSigner,
  passageSigningPolicy,
} from "../../../core/promotion/evidence.ts";
import type { EvidenceCheck } from "../../../core/promotion/gates.ts";
import { signMessage } from "../../../core/promotion/messages.ts";
import { passagePath, passageSchema, renderRecord } from "../../../core/promotion/records.ts";
import { pinnedRef } from "../../../core/promotion/refs.ts";
import { PromotionRepo } from "../history.ts";
import { loadModelCached } from "../model-cache.ts";
import { evidenceVerifier } from "../signing.ts";
import { candidatesForDigest, candidatesFromRecord, resolveCommitRecord } from "./candidates.ts";
import { locked } from "./lock.ts";
import { passageCheck } from "./passage-records.ts";
import type { PromotionRequest } from "./request.ts";
import { hostSources, type PromotionSources } from "./sources.ts";
import { tierStatus } from "./status.ts";

/** The digests a sign/verify of `tier` is about: given ones, else what the tier holds now. */
async function passageDigests(
  request: PromotionRequest,
  model: EnvironmentModel,
  sources: PromotionSources,
): Promise<Array<{ service: string; digest: string; repository: string }>> {
  if (request.digest) {
    const record = await sources.records.record(
      passageSchema,
      passagePath(request.tier, request.digest),
    );
    const found = record
      ? [{ service: record.service, digest: record.digest, repository: record.repository }]
      : (await candidatesForDigest(request, model, sources, request.digest)).map((c) => ({
          service: c.service,
          digest: request.digest!,
          repository: c.repository,
        }));
    return found;
  }
  if (request.commit) {
    const record = await resolveCommitRecord(sources, request.commit);
    return (await candidatesFromRecord(record, request.service)).map((c) => ({
      service: c.service,
      digest: c.digest!,
      repository: c.repository,
    }));
  }
  const status = await tierStatus({
    root: request.root,
    tier: request.tier,
    model,
    ...(request.env ? { env: request.env } : {}),
    ...(request.sources ? { sources: request.sources } : {}),
  });
  const pins = status.pins.filter(
    (p) => p.digest && (!request.service || p.service === request.service),
  );
  if (pins.length === 0) {
    throw new TiersError(`${request.tier} holds no promoted digest to sign or verify`, {
      hint: `name one with --digest, or promote into ${request.tier} first`,
    });
  }
  const out: Array<{ service: string; digest: string; repository: string }> = [];
  for (const p of pins) {
    const record = await sources.records.record(
      passageSchema,
      passagePath(request.tier, p.digest!),
    );
    out.push({ service: p.service, digest: p.digest!, repository: record?.repository ?? p.image });
  }
  return out;
}

export interface PassageVerification {
  service: string;
  digest: string;
  passage: EvidenceCheck;
  signature: EvidenceCheck;
  signer: string | null;
}

/**
 * `tiers verify --env <tier>`: checks the passage of each digest (git record + registry) and
 * its signature against the signing policy that governs it. Changes nothing.
 */
export async function verifyPassages(request: PromotionRequest): Promise<PassageVerification[]> {
  const model = request.model ?? (await loadModelCached(request.root));
  tierOf(model, request.tier);
  const env = request.env ?? process.env;
  const repo = new PromotionRepo(request.root, env);
  const sources = hostSources(request.root, env, repo, request.sources);
  const policy = passageSigningPolicy(model, request.tier);
  const kind = chooseEvidence(request.evidence ?? env.TIERS_EVIDENCE, policy.required);
  const verifier = evidenceVerifier(kind, { root: request.root, project: model.project, env });
  const out: PassageVerification[] = [];
  for (const d of await passageDigests({ ...request, model }, model, sources)) {
    const served = await sources.registry.inspect(pinnedRef(d.repository, d.digest));
    const { check } = await passageCheck(sources.records, request.tier, d.digest, served);
    const signature: EvidenceCheck =
      policy.mode === "none"
        ? { ok: !policy.required, why: `the signing policy (mode none) asks for no signature` }
        : await verifier.verifySignature(
            { tier: request.tier, digest: d.digest, repository: d.repository },
            policy,
          );
    out.push({
      service: d.service,
      digest: d.digest,
      passage: check,
      signature,
      signer: describeSigner(policy),
    });
  }
  return out;
}

/**
 * `tiers sign --env <tier>`: signs digests that already passed `tier` (their passage record
 * exists) with cosign, and records the signature in the passage. Signing can therefore never
 * stand in for the gates: a digest without a passage is refused.
 */
export async function signPassages(
  request: PromotionRequest,
): Promise<Array<{ service: string; digest: string; signature: string | null; changed: boolean }>> {
  const model = request.model ?? (await loadModelCached(request.root));
  tierOf(model, request.tier);
  if (request.evidence && request.evidence !== "cosign") {
    throw new TiersError("signing makes cosign evidence; --evidence local signs nothing", {
      exitCode: 2,
      hint: "drop --evidence, or use `tiers promote --evidence local` to record a passage without a signature",
    });
  }
  const env = request.env ?? process.env;
  const repo = new PromotionRepo(request.root, env);
  const sources = hostSources(request.root, env, repo, request.sources);
  const policy = passageSigningPolicy(model, request.tier);
  if (policy.mode === "none") {
    throw new TiersError(
      `no signing policy governs ${request.tier} passages (signing.mode: none)`,
      {
        where: `environments/${nextTier(model, request.tier) ?? request.tier}.yaml`,
        hint: "set signing.mode to key or keyless (with key or identity) to sign passages",
      },
    );
  }
  const verifier = evidenceVerifier("cosign", { root: request.root, project: model.project, env });
  const targets = await passageDigests({ ...request, model }, model, sources);
  return locked(repo, `sign ${request.tier}`, async () => {
    const head = await repo.head();
    const writes: Array<{ path: string; content: string }> = [];
    const results: Array<{
      service: string;
      digest: string;
      signature: string | null;
      changed: boolean;
    }> = [];
    for (const t of targets) {
      const path = passagePath(request.tier, t.digest);
      const record = await repo.record(passageSchema, path);
      if (!record) {
        throw new TiersError(`${t.digest} has not passed ${request.tier}: no ${path} in git`, {
          hint: `promote it into ${request.tier} first (\`tiers plan --env ${request.tier} --digest ${t.digest}\`)`,
        });
      }
      const evidence = await verifier.sign(
        { tier: request.tier, digest: t.digest, repository: record.repository },
        policy,
      );
      const changed = JSON.stringify(evidence) !== JSON.stringify(record.evidence);
      results.push({
        service: record.service,
        digest: t.digest,
        signature: evidence.signature,
        changed,
      });
      if (changed) {
        writes.push({
          path,
          content: renderRecord(
            { ...record, evidence },
            `${record.service} ${record.digest} passed ${request.tier}`,
          ),
        });
      }
    }
    if (writes.length > 0) {
      await repo.commit({
        expectedHead: head,
        writes,
        message: signMessage(request.tier, results, describeSigner(policy)),
      });
    }
    return results;
  });
}
