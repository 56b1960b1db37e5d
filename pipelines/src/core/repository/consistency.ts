/**
 * Whether the repository holds what its environment model says it runs: an overlay per
 * Kubernetes tier pinning every service built here, compose files per compose or ephemeral
 * tier (with the admission policy its signing block generates), a Dockerfile with every target
 * the tiers build, tfvars per tier with infrastructure,
 * CI jobs for the tiers that exist (and only those). Pure: the surface gathers the facts (file
 * listings, parsed overlays, Dockerfile stages, CI jobs) and this decides what is missing or
 * left over. Tier and service names come from the model only, never from here.
 */
import type { EnvironmentModel } from "../environment/model.ts";
import { type Problem, rules } from "../environment/problems.ts";
import { type OverlayPin, overlayPath } from "../promotion/overlay.ts";
import { type AdmissionFacts, checkAdmissionFiles } from "./admission.ts";

/** Where repository files live, relative to the root; one definition each. */
export const layout = {
  overlay: overlayPath,
  overlaysDir: "k8s/overlays",
  tfvarsDir: "terraform/live",
  tfvars: (tier: string) => `terraform/live/${tier}.tfvars`,
  composeBase: "compose/compose.yaml",
  composeOverride: (tier: string) => `compose/compose.${tier}.yaml`,
} as const;

/** One `FROM … AS <name>` stage of a Dockerfile. */
export interface DockerfileStage {
  name: string;
  line: number;
}

/** A CI job that acts on one tier, as found in a CI template. */
export interface CiJob {
  file: string;
  line: number;
  job: string;
  tier: string;
  /** True when the job runs in the CI vendor's protected environment named after the tier. */
  protectedEnvironment: boolean;
}

/** What the surface read from the repository; absent entries mean "does not exist". */
export interface RepositoryFacts extends AdmissionFacts {
  /** Repository-relative paths of the files that exist (at least those the model names). */
  files: ReadonlySet<string>;
  /** Directory names under k8s/overlays/. */
  overlayDirs: readonly string[];
  /** `<tier>` of every terraform/live/<tier>.tfvars. */
  tfvarsTiers: readonly string[];
  /** Pins of each overlay kustomization that exists, by tier; a message when unreadable. */
  overlayPins: Readonly<Record<string, readonly OverlayPin[] | string>>;
  /** Stages of each Dockerfile that exists, by path. */
  dockerfileStages: Readonly<Record<string, readonly DockerfileStage[]>>;
  /** CI template files that exist, and the per-tier jobs found in them. */
  ciFiles: readonly string[];
  ciJobs: readonly CiJob[];
  /** CI files whose jobs could not be read (not YAML, over the limits), located. */
  ciProblems?: readonly Problem[];
}

/** `FROM image AS name` lines (case-insensitive, as BuildKit reads them). */
export function dockerfileStages(text: string): DockerfileStage[] {
  const stages: DockerfileStage[] = [];
  text.split("\n").forEach((line, index) => {
    // https://docs.docker.com/reference/dockerfile/#from: FROM [--platform=…] <image> [AS <name>]
    const match = /^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$/i.exec(line);
    if (match) stages.push({ name: match[1]!, line: index + 1 });
  });
  return stages;
}

/** A tier has infrastructure to provision when it runs on a cluster or uses managed services. */
export function declaresInfrastructure(tier: EnvironmentModel["tiers"][string]): boolean {
  return (
    tier.runtime === "kubernetes" ||
    Object.values(tier.dependencies).some((d) => d.provided_by === "managed")
  );
}

/** Services the pipeline builds (and so promotes by digest), per tier. */
export function promotableServices(tier: EnvironmentModel["tiers"][string]): string[] {
  return Object.entries(tier.services)
    .filter(([, spec]) => spec.build !== undefined)
    .map(([name]) => name);
}

const missing = (file: string, message: string, rule: Problem["rule"], tier?: string): Problem => ({
  file,
  line: 0,
  column: 0,
  path: "",
  message,
  rule,
  ...(tier ? { tier } : {}),
});

/** Every way the repository disagrees with the model, each located or naming the missing path. */
export function checkRepository(model: EnvironmentModel, facts: RepositoryFacts): Problem[] {
  const problems: Problem[] = [];
  const tiers = new Set(model.order);
  const declared = model.order.join(", ");

  for (const name of model.order) {
    const tier = model.tiers[name]!;
    if (tier.runtime === "kubernetes") problems.push(...checkOverlay(model, name, facts));
    if (tier.runtime === "compose" || tier.runtime === "ephemeral") {
      for (const file of [layout.composeBase, layout.composeOverride(name)]) {
        if (!facts.files.has(file)) {
          problems.push(
            missing(
              file,
              `${name} runs on ${tier.runtime}, so it needs ${file} (compose merges ${layout.composeBase} with the tier's override)`,
              rules.composeMissing,
              name,
            ),
          );
        }
      }
    }
    const file = layout.tfvars(name);
    if (declaresInfrastructure(tier) && !facts.tfvarsTiers.includes(name)) {
      problems.push(
        missing(
          file,
          `${name} declares infrastructure (${tier.runtime === "kubernetes" ? "a cluster" : "managed dependencies"}), so terraform needs ${file}`,
          rules.tfvarsMissing,
          name,
        ),
      );
    }
  }

  problems.push(...checkAdmissionFiles(model, facts, (tier) => `${layout.overlaysDir}/${tier}`));
  problems.push(...checkDockerfiles(model, facts));

  for (const dir of facts.overlayDirs) {
    if (tiers.has(dir)) continue;
    problems.push(
      missing(
        `${layout.overlaysDir}/${dir}/`,
        `overlay of "${dir}", which is not a declared tier (declared: ${declared}); remove it or add environments/${dir}.yaml`,
        rules.overlayOrphan,
      ),
    );
  }
  for (const name of facts.tfvarsTiers) {
    if (tiers.has(name)) continue;
    problems.push({
      ...missing(
        layout.tfvars(name),
        `variables of "${name}", which is not a declared tier (declared: ${declared}); remove the file or add environments/${name}.yaml`,
        rules.tfvarsOrphan,
      ),
      line: 1,
      column: 1,
    });
  }
  problems.push(...checkCiJobs(model, facts));
  return problems;
}

function checkOverlay(model: EnvironmentModel, name: string, facts: RepositoryFacts): Problem[] {
  const tier = model.tiers[name]!;
  const file = layout.overlay(name);
  const pins = facts.overlayPins[name];
  if (!facts.files.has(file) || pins === undefined) {
    return [
      missing(
        file,
        `${name} runs on kubernetes, so it needs the overlay ${file} (run \`tiers add tier\` to scaffold one)`,
        rules.overlayMissing,
        name,
      ),
    ];
  }
  if (typeof pins === "string") {
    return [{ ...missing(file, pins, rules.overlayPin, name), line: 1, column: 1 }];
  }
  const problems: Problem[] = [];
  for (const service of promotableServices(tier)) {
    const repository = `${tier.registry.host}/${tier.registry.namespace}/${service}`;
    const pin = pins.find((p) => p.newName === repository);
    if (pin) continue;
    const other = pins.find((p) => p.name.endsWith(`/${service}`) || p.name === service);
    problems.push({
      file,
      line: other?.line ?? 1,
      column: 1,
      path: "images",
      message: other
        ? `the pin of ${service} has newName ${other.newName ?? "(none)"}, expected ${repository} (registry of environments/${name}.yaml)`
        : `no pin for ${service} in images: promotion into ${name} edits an entry with newName: ${repository}`,
      rule: rules.overlayPin,
      tier: name,
    });
  }
  return problems;
}

function checkDockerfiles(model: EnvironmentModel, facts: RepositoryFacts): Problem[] {
  // Each Dockerfile once, with every target some tier builds from it and who asks for it.
  const wanted = new Map<string, Map<string, string[]>>();
  for (const name of model.order) {
    for (const [service, spec] of Object.entries(model.tiers[name]!.services)) {
      if (!spec.build) continue;
      const targets = wanted.get(spec.build.dockerfile) ?? new Map<string, string[]>();
      const who = targets.get(spec.build.target) ?? [];
      who.push(`${service} in ${name}`);
      targets.set(spec.build.target, who);
      wanted.set(spec.build.dockerfile, targets);
    }
  }
  const problems: Problem[] = [];
  for (const [dockerfile, targets] of wanted) {
    const stages = facts.dockerfileStages[dockerfile];
    if (!facts.files.has(dockerfile) || stages === undefined) {
      const users = [...new Set([...targets.values()].flat().map((w) => w.split(" ")[0]))];
      problems.push(
        missing(
          dockerfile,
          `Dockerfile of ${users.join(", ")} (services.<name>.build.dockerfile) does not exist`,
          rules.dockerfileMissing,
        ),
      );
      continue;
    }
    for (const [target, who] of targets) {
      if (stages.some((s) => s.name === target)) continue;
      problems.push({
        file: dockerfile,
        line: 1,
        column: 1,
        path: "",
        message: `no stage "${target}" (FROM … AS ${target}), which ${who.join(", ")} builds; stages: ${stages.map((s) => s.name).join(", ") || "none named"}`,
        rule: rules.dockerfileTarget,
      });
    }
  }
  return problems;
}

function checkCiJobs(model: EnvironmentModel, facts: RepositoryFacts): Problem[] {
  const problems: Problem[] = [...(facts.ciProblems ?? [])];
  const unreadable = new Set(problems.map((p) => p.file));
  const tiers = new Set(model.order);
  for (const job of facts.ciJobs) {
    if (tiers.has(job.tier)) continue;
    problems.push({
      file: job.file,
      line: job.line,
      column: 1,
      path: `jobs.${job.job}`,
      message: `job ${job.job} acts on "${job.tier}", which is not a declared tier (declared: ${model.order.join(", ")}); run \`tiers ci generate\``,
      rule: rules.ciOrphan,
    });
  }
  for (const name of model.order) {
    const { approvals } = model.tiers[name]!;
    if (approvals.source !== "ci-environment" || approvals.required === 0) continue;
    for (const file of facts.ciFiles.filter((f) => !unreadable.has(f))) {
      const guarded = facts.ciJobs.some(
        (j) => j.file === file && j.tier === name && j.protectedEnvironment,
      );
      if (guarded) continue;
      problems.push({
        ...missing(
          file,
          `${name} takes ${approvals.required} approval(s) from the CI environment "${name}", but no job of ${file} runs in it; run \`tiers ci generate\``,
          rules.ciApprovals,
          name,
        ),
        line: 1,
        column: 1,
      });
    }
  }
  return problems;
}
