/**
 * publish, sign, verify and deploy under Dagger: each builds on the pipeline's inputs
 * (pipeline.ts) and runs tools in their pinned images. Every decision — tags, labels, the
 * passage's signing policy, the deploy steps — comes from core and the host engine's own code.
 */
import type { Container, GitRepository, Secret } from "@dagger.io/dagger";
import {
  type ArtefactRecord,
  fullCommit,
  imageRepository,
  imageTag,
  isPromotableTag,
  ociLabel,
  type PublishedImage,
  serializeArtefactRecord,
} from "../../core/artefact.ts";
import { loadModel, tierOf } from "../../core/environment/index.ts";
import { TiersError } from "../../core/errors.ts";
import { memorySink, Reporter } from "../../core/log.ts";
import {
  type PassageSubject,
  passageSigningPolicy,
  type SigningPolicy,
} from "../../core/promotion/evidence.ts";
import { parseImageRef } from "../../core/promotion/refs.ts";
import type { Invocation } from "../../tools/invocation.ts";
import { defaultKubeconfigSecret } from "../../tools/kubectl.ts";
import * as registryTool from "../../tools/registry.ts";
import { deployTier } from "../host/deploy.ts";
import { daggerDeployVerifier } from "./deploy-verify.ts";
import { DaggerCosignEvidence, signingSecretNames } from "./evidence.ts";
import { type DaggerRunOptions, freshRunId } from "./run.ts";
import { daggerSecrets } from "./secrets.ts";
import type { StageContext, StageInputs } from "./stage-inputs.ts";

export interface PublishPlan {
  commit: string;
  registry: string;
  images: { service: string; repository: string; tag: string; ref: string; container: Container }[];
}

/** The production image of each service with its registry ref, ready to publish. */
export async function publishPlan(
  pipeline: StageInputs,
  options: {
    repo: GitRepository | undefined;
    commit?: string | undefined;
    baseImage?: string | undefined;
    extraCaBundle?: Secret | undefined;
  },
): Promise<PublishPlan> {
  const context = await pipeline.context({ baseImage: options.baseImage });
  const revision = await pipeline.revision(options.repo, options.commit);
  const tag = imageTag(revision.commit, "production", revision.dirty);
  if (revision.dirty || !isPromotableTag(tag)) {
    throw new TiersError("the working tree has uncommitted changes; only commits are published", {
      hint: "commit your changes, then run `dagger call publish` again: a published tag must name exactly one commit",
    });
  }
  const { registryUsername, registryPassword } = pipeline.settings;
  const services = await pipeline.stack(context, "compose", revision.commit);
  const images = Object.values(services)
    .filter((s) => s.build)
    .map((spec) => {
      const repository = imageRepository(context.registry, context.namespace, spec.name);
      let container = pipeline.image(context, spec, "production", revision, options.extraCaBundle);
      if (registryPassword) {
        container = container.withRegistryAuth(
          context.registry,
          registryUsername ?? "",
          registryPassword,
        );
      }
      return { service: spec.name, repository, tag, ref: `${repository}:${tag}`, container };
    });
  return { commit: revision.commit, registry: context.registry, images };
}

/** Pushes every image of the plan and returns the artefact record (JSON). */
export async function publishImages(plan: PublishPlan): Promise<string> {
  const images: Record<string, PublishedImage> = {};
  for (const push of plan.images) {
    const published = await push.container.publish(push.ref);
    const digest = parseImageRef(published).digest;
    if (!digest) {
      throw new TiersError(`the registry returned no digest for ${push.ref}`, {
        where: push.ref,
        hint: "check the registry accepts OCI manifests; nothing was recorded",
      });
    }
    images[push.service] = {
      repository: push.repository,
      tag: push.tag,
      digest,
      ref: `${push.repository}@${digest}`,
    };
  }
  const record: ArtefactRecord = {
    commit: plan.commit,
    created: new Date().toISOString(),
    registry: plan.registry,
    images,
  };
  return serializeArtefactRecord(record);
}

/** What the registry serves for each service's image of a commit (digest, checked revision). */
export async function publishedImages(
  pipeline: StageInputs,
  context: StageContext,
  commit: string,
  runOptions: DaggerRunOptions,
): Promise<Record<string, PublishedImage>> {
  const images: Record<string, PublishedImage> = {};
  const services = Object.values(await pipeline.stack(context, "compose", commit)).filter(
    (s) => s.build,
  );
  for (const spec of services) {
    const repository = imageRepository(context.registry, context.namespace, spec.name);
    const tag = imageTag(commit, "production", false);
    const ref = `${repository}:${tag}`;
    const invocation = registryTool.inspect(ref);
    const result = await pipeline.execute(invocation, runOptions);
    if (result.exitCode !== 0) {
      throw registryTool.registryError(invocation, result, context.registry);
    }
    const remote = registryTool.parseInspect(result.stdout);
    if (remote.labels[ociLabel.revision] !== commit) {
      throw new TiersError(
        `${ref} carries revision ${remote.labels[ociLabel.revision] ?? "(none)"}, expected ${commit}`,
        { where: ref, hint: "publish this commit first: `dagger call publish`" },
      );
    }
    images[spec.name] = {
      repository,
      tag,
      digest: remote.digest,
      ref: `${repository}@${remote.digest}`,
    };
  }
  return images;
}

export interface Passage {
  marker: string;
  policy: SigningPolicy;
  subjects: (PassageSubject & { service: string })[];
  evidence: DaggerCosignEvidence;
}

/**
 * What signing and verifying a tier's passage needs: the tier's policy, the published digest
 * of each service for the commit (asked of the registry, as the host engine does), and the
 * evidence verifier running cosign in its image. The commit is a published one: `--commit`,
 * else HEAD of the checkout.
 */
export async function passage(
  pipeline: StageInputs,
  env: string,
  options: {
    repo: GitRepository | undefined;
    commit?: string | undefined;
    secrets: Record<string, Secret | undefined>;
  },
): Promise<Passage> {
  const context = await pipeline.context();
  const tier = tierOf(context.model, env);
  const commit = options.commit?.trim()
    ? fullCommit(options.commit)
    : (await pipeline.revision(options.repo)).commit;
  const secrets = daggerSecrets(options.secrets);
  const registryLogin = await pipeline.registryLogin(context.registry);
  const runOptions: DaggerRunOptions = {
    source: pipeline.source,
    secrets,
    runId: freshRunId(),
    ...(registryLogin ? { registryAuth: registryLogin } : {}),
  };
  const run = (invocation: Invocation) => pipeline.execute(invocation, runOptions);
  const images = await publishedImages(pipeline, context, commit, runOptions);
  return {
    marker: tier.marker,
    // Who vouches for a passage: the tier that will check it (the host engine's rule).
    policy: passageSigningPolicy(context.model, env),
    subjects: Object.entries(images).map(([service, image]) => ({
      tier: env,
      service,
      repository: image.repository,
      digest: image.digest,
    })),
    evidence: new DaggerCosignEvidence({ project: context.project, run, secrets }),
  };
}

/** Signs every subject of the passage by its policy; refuses a `none` policy. */
export async function signPassage(env: string, passage: Passage): Promise<string> {
  if (passage.policy.mode === "none") {
    throw new TiersError(`no signing policy governs ${env} passages (signing.mode: none)`, {
      where: "environments/",
      hint: "set signing.mode to key or keyless (with key or identity) in the tier that checks this passage",
    });
  }
  const lines: string[] = [];
  for (const subject of passage.subjects) {
    const evidence = await passage.evidence.sign(subject, passage.policy);
    lines.push(
      `${passage.marker} signed ${subject.service}: ${subject.repository}@${subject.digest} (${evidence.signer ?? "no signer: signing.mode none"})`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Verifies every subject of the passage; fails naming each one that does not verify. */
export async function verifyPassage(env: string, passage: Passage): Promise<string> {
  if (passage.policy.mode === "none") {
    const note = `${passage.marker} the signing policy of ${env} passages (mode none) asks for no signature`;
    if (passage.policy.required) throw new TiersError(`${note}, yet signing.required is true`);
    return `${note}\n`;
  }
  const lines: string[] = [];
  const failures: string[] = [];
  for (const subject of passage.subjects) {
    const check = await passage.evidence.verifySignature(subject, passage.policy);
    const line = `${subject.service}: ${check.why}`;
    lines.push(`${passage.marker} ${check.ok ? "✓" : "✗"} ${line}`);
    if (!check.ok) failures.push(line);
  }
  if (failures.length > 0) {
    throw new TiersError(`passage of ${env} does not verify:\n  ${failures.join("\n  ")}`, {
      where: `environments/${env}.yaml`,
      hint: "promote through the previous tier (which signs its passage), or check the signing policy",
    });
  }
  return `${lines.join("\n")}\n`;
}

/** The host engine's deployTier with every kubectl call in the pinned kubectl image. */
export async function deployWithDagger(
  pipeline: StageInputs,
  options: {
    env: string;
    kubeconfig?: Secret | undefined;
    kubeContext?: string | undefined;
    dryRun: boolean;
    /** Key mode: the public key the pins' signatures are verified with. */
    cosignPublicKey?: Secret | undefined;
  },
): Promise<string> {
  const root = await pipeline.workspace();
  const model = await loadModel(root);
  // Verification reads the registry (with the module's login) and runs cosign in its image.
  const verifySecrets = daggerSecrets(signingSecrets({ cosignPublicKey: options.cosignPublicKey }));
  const registryLogin = await pipeline.registryLogin(tierOf(model, options.env).registry.host);
  const verifyOptions: DaggerRunOptions = {
    source: pipeline.source,
    secrets: verifySecrets,
    runId: freshRunId(),
    ...(registryLogin ? { registryAuth: registryLogin } : {}),
  };
  const sink = memorySink();
  const reporter = new Reporter({ sink });
  const runOptions: DaggerRunOptions = {
    source: pipeline.source,
    secrets: daggerSecrets({ [defaultKubeconfigSecret]: options.kubeconfig }),
    runId: freshRunId(),
  };
  const printed = () => [...sink.lines, ...sink.errors].join("\n");
  try {
    await deployTier({
      root,
      tier: options.env,
      model,
      reporter,
      run: (invocation) => pipeline.execute(invocation, runOptions),
      verify: daggerDeployVerifier(
        root,
        (invocation) => pipeline.execute(invocation, verifyOptions),
        verifySecrets,
      ),
      dryRun: options.dryRun,
      ...(options.kubeContext ? { context: options.kubeContext } : {}),
      // The module's workspace never carries .tiers/ (no saved plan reaches it), so a tier on
      // infra.apply: with-deploy is refused here rather than deployed without its infrastructure.
      infra: {
        unavailable: "the Dagger deploy receives no saved plan (infraPlan/infraApply apply it)",
      },
      // The workspace is a copy: a verification record written there would never reach the
      // repository, so no period runs here and the pins stay unverified (never wrongly verified).
      period: { skip: true },
    });
    const verify = tierOf(model, options.env).deploy.verify;
    if (verify && !options.dryRun) {
      reporter.warn(
        options.env,
        `deploy.verify (${verify.for} every ${verify.every}) does not run under Dagger: the pins stay unverified; run \`tiers deploy --env ${options.env}\` on the host to verify them`,
      );
    }
  } catch (error) {
    if (error instanceof TiersError) {
      throw new TiersError(`${error.message}\n${printed()}`, {
        ...(error.where ? { where: error.where } : {}),
        ...(error.hint ? { hint: error.hint } : {}),
        cause: error,
      });
    }
    throw error;
  }
  return `${printed()}\n`;
}

/** The signing secrets of `sign`, by the logical names the evidence module asks for. */
export function signingSecrets(secrets: {
  cosignKey?: Secret | undefined;
  cosignPassword?: Secret | undefined;
  oidcToken?: Secret | undefined;
  cosignPublicKey?: Secret | undefined;
}): Record<string, Secret | undefined> {
  return {
    [signingSecretNames.key]: secrets.cosignKey,
    [signingSecretNames.password]: secrets.cosignPassword,
    [signingSecretNames.oidcToken]: secrets.oidcToken,
    [signingSecretNames.publicKey]: secrets.cosignPublicKey,
  };
}
