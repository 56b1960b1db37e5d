/**
 * The facts `tiers deploy` verifies before it applies anything (core/promotion/pin-verdict.ts
 * decides): for each pin in the tier's overlay as it will be rendered, its passage into the tier
 * in git, its rejection record, the registry's answer for the digest and — where the tier's
 * signing policy requires signatures — the signature, verified by the evidence verifier (real
 * cosign on the host, cosign in its image under Dagger). Gathered through injected readers, so
 * both engines and the unit tests share this code.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type EnvironmentModel, imageRepository } from "../../core/environment/index.ts";
import { TiersError } from "../../core/errors.ts";
import { chooseEvidence, type EvidenceVerifier } from "../../core/promotion/evidence.ts";
import { overlayPath, readPins } from "../../core/promotion/overlay.ts";
import {
  deployRefusal,
  deploySignature,
  isPlaceholderPin,
  type OverlayPinRef,
  type PinFacts,
  pinVerdicts,
} from "../../core/promotion/pin-verdict.ts";
import { rejectionPath, rejectionSchema } from "../../core/promotion/records.ts";
import { isDigest, pinnedRef } from "../../core/promotion/refs.ts";
import { serviceOfRepository } from "../../core/promotion/services.ts";
import { PromotionRepo } from "./history.ts";
import { passageCheck } from "./promotion/passage-records.ts";
import {
  type PromotionSources,
  type RecordReader,
  readRecord,
  skopeoRegistry,
} from "./promotion/sources.ts";
import { evidenceVerifier } from "./signing.ts";

/** Gathers the facts of a tier's pins before a deploy; core decides which hold. */
export type DeployVerifier = (tier: string, model: EnvironmentModel) => Promise<PinFacts[]>;

/** What fact gathering reads: git records, the registry, the signature verifier. */
export interface PinSources {
  records: RecordReader;
  registry: PromotionSources["registry"];
  verifier: EvidenceVerifier;
}

/** The pins of an overlay's text: service, image, repository and digest of each entry. */
export function overlayPins(
  model: EnvironmentModel,
  tier: string,
  text: string,
  where = overlayPath(tier),
): OverlayPinRef[] {
  return readPins(text, where).map((pin) => {
    const repository = pin.newName ?? pin.name;
    const service = serviceOfRepository(model, tier, repository) ?? pin.name;
    return {
      service,
      image: pin.name,
      repository: pin.newName ?? safeRepository(model, tier, service) ?? repository,
      digest: pin.digest,
      overlay: where,
    };
  });
}

function safeRepository(model: EnvironmentModel, tier: string, service: string) {
  try {
    return imageRepository(model, tier, service);
  } catch {
    return undefined;
  }
}

/** The facts of each pin: passage, rejection, and the signature where the policy requires one. */
export async function pinFacts(
  model: EnvironmentModel,
  tier: string,
  pins: readonly OverlayPinRef[],
  sources: PinSources,
): Promise<PinFacts[]> {
  const signed = deploySignature(model, tier);
  const out: PinFacts[] = [];
  for (const pin of pins) {
    if (!pin.digest || !isDigest(pin.digest) || isPlaceholderPin(pin)) {
      out.push({ ...pin });
      continue;
    }
    const served = await sources.registry.inspect(pinnedRef(pin.repository, pin.digest));
    const { check } = await passageCheck(sources.records, tier, pin.digest, served);
    const facts: PinFacts = {
      ...pin,
      passage: check,
      rejection: await readRecord(sources.records, rejectionSchema, rejectionPath(pin.digest)),
    };
    if (signed) {
      facts.signature = await sources.verifier.verifySignature(
        { tier: signed.passageOf, digest: pin.digest, repository: pin.repository },
        signed.policy,
      );
    }
    out.push(facts);
  }
  return out;
}

/** Reads the overlay file the deploy will render (the working tree: what kustomize reads). */
export async function readOverlay(root: string, tier: string): Promise<string> {
  const path = overlayPath(tier);
  try {
    return await readFile(join(root, path), "utf8");
  } catch (error) {
    throw new TiersError(`cannot read ${path}: ${(error as Error).message}`, {
      where: path,
      hint: "deploy renders the tier's overlay; restore it from git",
    });
  }
}

/**
 * The facts of `pins` on this host: records from git at HEAD (an uncommitted passage opens
 * nothing), the registry through skopeo, signatures through cosign (TIERS_EVIDENCE may choose
 * `local`, which cannot verify a signature and so fails a tier that requires one).
 */
export async function hostPinFacts(
  root: string,
  env: NodeJS.ProcessEnv,
  model: EnvironmentModel,
  tier: string,
  pins: readonly OverlayPinRef[],
): Promise<PinFacts[]> {
  const kind = chooseEvidence(env.TIERS_EVIDENCE, deploySignature(model, tier) !== undefined);
  return pinFacts(model, tier, pins, {
    records: new PromotionRepo(root, env),
    registry: skopeoRegistry(root, env),
    verifier: evidenceVerifier(kind, { root, project: model.project, env }),
  });
}

/** The host's deploy verifier: the pins of the overlay file kustomize renders, checked here. */
export function hostDeployVerifier(
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): DeployVerifier {
  return async (tier, model) =>
    hostPinFacts(root, env, model, tier, overlayPins(model, tier, await readOverlay(root, tier)));
}

/**
 * Refuses the deploy unless every pin of the tier holds (core decides), before anything is
 * planned or applied — a dry run included. Says how many pins it checked.
 */
export async function verifyBeforeDeploy(
  options: { root: string; tier: string; model: EnvironmentModel; verify?: DeployVerifier },
  say: (text: string) => void,
): Promise<void> {
  const verify = options.verify ?? hostDeployVerifier(options.root);
  const verdicts = pinVerdicts(
    options.model,
    options.tier,
    await verify(options.tier, options.model),
  );
  const refused = deployRefusal(options.tier, verdicts);
  if (refused) throw refused;
  if (verdicts.length > 0) {
    say(
      `✓ ${verdicts.length} pin(s) hold: passage into ${options.tier} recorded, not rejected${deploySignature(options.model, options.tier) ? ", signature verifies" : ""}`,
    );
  }
}
