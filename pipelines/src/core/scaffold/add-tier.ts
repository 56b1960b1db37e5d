/**
 * `tiers add tier <name> --after <tier> --runtime <runtime>`: every file a new tier needs,
 * computed in memory from a snapshot of the repository, so the surface either writes all of
 * them or (on any refusal) none. The new tier starts as a copy of the nearest tier with the
 * same runtime (its comments and layout kept: the `yaml` Document API edits values only),
 * renamed; its overlay pins start at the "nothing promoted yet" digest; the tier that
 * promoted from `--after` now promotes from the new tier; the CI tier blocks are regenerated
 * from the new chain. Pure.
 */
import { type EnvironmentModel, type SourceFile, validateSources } from "../environment/model.ts";
import { formatProblem } from "../environment/problems.ts";
import { runtimes, type Tier } from "../environment/schema.ts";
import { admissionFile, admissionFiles } from "../manifests/admission.ts";
import { unpromotedDigest } from "../manifests/pins.ts";
import { readPins, setPins } from "../promotion/overlay.ts";
import { declaresInfrastructure, layout } from "../repository/consistency.ts";
import {
  refuse,
  renameWord,
  type Snapshot,
  setScalar,
  type Writes,
  write,
  writeCiBlocks,
} from "./files.ts";

export type Runtime = (typeof runtimes)[number];

export interface AddTier {
  name: string;
  after: string;
  runtime: Runtime;
  /** Leads every line about the tier; tiers without a default marker need one. */
  marker: string;
}

const tierFile = (name: string) => `environments/${name}.yaml`;
const docsPage = (name: string) => `docs/environments/${name}.md`;

/** The tier to copy: the one being re-pointed if it has the runtime, else the nearest. */
export function templateTier(model: EnvironmentModel, after: string, runtime: Runtime): string {
  const at = model.order.indexOf(after);
  const byDistance = model.order
    .map((name, i) => ({ name, distance: i > at ? i - at - 1 : at - i + 0.5 }))
    .filter(({ name }) => model.tiers[name]!.runtime === runtime)
    .sort((a, b) => a.distance - b.distance);
  const found = byDistance[0]?.name;
  if (!found) {
    refuse(
      `no ${runtime} tier to start ${runtime} tiers from: tiers add tier copies one`,
      `write environments/<name>.yaml by hand (see docs/environments/index.md), or copy examples/*/environments`,
    );
  }
  return found;
}

/** A tier's own text renamed: namespaces, resource prefixes, paths, comments, marker. */
function renameTier(text: string, project: string, from: Tier, to: AddTier): string {
  let out = text.replaceAll(`${project}-${from.tier}`, `${project}-${to.name}`);
  out = renameWord(out, from.tier, to.name);
  return out.replaceAll(from.marker, to.marker);
}

/** Every write `tiers add tier` makes, or a ScaffoldRefused saying why none is made. */
export function planAddTier(model: EnvironmentModel, snapshot: Snapshot, add: AddTier): Writes {
  const writes: Writes = new Map();
  if (!/^[a-z][a-z0-9-]*$/.test(add.name)) {
    refuse(`"${add.name}" is not a tier name`, "use lower-case letters, digits and '-'");
  }
  if (!runtimes.includes(add.runtime)) {
    refuse(`unknown runtime "${add.runtime}"`, `use one of ${runtimes.join(", ")}`);
  }
  if (!model.tiers[add.after]) {
    refuse(
      `--after ${add.after}: not a declared tier`,
      `declared tiers: ${model.order.join(", ")}`,
    );
  }
  const existing = model.tiers[add.name];
  if (existing) {
    if (existing.promotion.from === add.after && existing.runtime === add.runtime) return writes;
    refuse(
      `tier ${add.name} already exists (runtime ${existing.runtime}, after ${existing.promotion.from ?? "nothing"})`,
      "pick another name, or edit its file",
      tierFile(add.name),
    );
  }
  const source = model.tiers[templateTier(model, add.after, add.runtime)]!;
  const read = (path: string) => {
    const text = snapshot.get(path);
    if (text === undefined) refuse(`cannot copy ${path}: it does not exist`, "restore it", path);
    return text;
  };

  // The tier file: a renamed copy of the template tier, its own keys set.
  let tierText = renameTier(read(tierFile(source.tier)), model.project, source, add);
  tierText = setScalar(tierText, ["tier"], add.name);
  tierText = setScalar(tierText, ["marker"], add.marker);
  tierText = setScalar(tierText, ["runtime"], add.runtime);
  tierText = setScalar(tierText, ["promotion", "from"], add.after);
  write(writes, snapshot, tierFile(add.name), tierText);

  // The tier after --after now promotes from the new one.
  const next = model.order[model.order.indexOf(add.after) + 1];
  if (next) {
    const before = read(tierFile(next));
    const after = setScalar(before, ["promotion", "from"], add.name);
    write(writes, snapshot, tierFile(next), after);
    // Its docs page shows the file verbatim; keep that copy true.
    const page = snapshot.get(docsPage(next));
    if (page?.includes(before.trimEnd())) {
      write(writes, snapshot, docsPage(next), page.replace(before.trimEnd(), after.trimEnd()));
    }
  }

  if (add.runtime === "kubernetes") {
    const prefix = `${layout.overlaysDir}/${source.tier}/`;
    for (const [path, text] of snapshot) {
      if (!path.startsWith(prefix)) continue;
      const target = `${layout.overlaysDir}/${add.name}/${path.slice(prefix.length)}`;
      let renamed = renameTier(text, model.project, source, add);
      if (path === layout.overlay(source.tier)) {
        const pins = readPins(renamed, target);
        renamed = setPins(
          renamed,
          pins.map((pin) => ({ index: pin.index, digest: unpromotedDigest })),
          target,
        );
      }
      write(writes, snapshot, target, renamed);
    }
  }
  if (add.runtime === "compose" || add.runtime === "ephemeral") {
    const override = layout.composeOverride(source.tier);
    write(
      writes,
      snapshot,
      layout.composeOverride(add.name),
      renameTier(read(override), model.project, source, add),
    );
  }

  const result = validateSources([
    ...[...snapshot]
      .filter(([path]) => path.startsWith("environments/"))
      .map(([file, text]): SourceFile => ({ file, text: writes.get(file) ?? text })),
    { file: tierFile(add.name), text: tierText },
  ]);
  if (!result.model) {
    refuse(
      `the new tier file would not validate:\n${result.problems.map(formatProblem).join("\n")}`,
      `nothing was written; fix ${tierFile(source.tier)} (the template) or write the tier by hand`,
    );
  }
  const newModel = result.model;

  const newTier = newModel.tiers[add.name]!;
  if (declaresInfrastructure(newTier)) {
    const from = snapshot.get(layout.tfvars(source.tier));
    if (from === undefined) {
      refuse(
        `${add.name} declares infrastructure, and ${layout.tfvars(source.tier)} (the template's variables) does not exist`,
        "add the template tier's tfvars first",
      );
    }
    write(
      writes,
      snapshot,
      layout.tfvars(add.name),
      `# Copied from ${source.tier}.tfvars by \`tiers add tier\`: give ${add.name} its own network (vpc_cidr) and sizes.\n${renameTier(from, model.project, source, add)}`,
    );
  }

  // Generated admission policies follow the new chain: the new tier's (copied from the
  // template, which promoted from another tier) and the re-pointed next tier's both name the
  // tier they now promote from. Only where an overlay already carries one.
  for (const name of [add.name, next]) {
    if (name === undefined || newModel.tiers[name]?.runtime !== "kubernetes") continue;
    const path = `${layout.overlaysDir}/${name}/${admissionFile}`;
    if (!writes.has(path) && !snapshot.has(path)) continue;
    const text = admissionFiles(newModel.tiers[name]!)[admissionFile];
    if (text !== undefined) write(writes, snapshot, path, text);
  }

  writeCiBlocks(writes, snapshot, newModel);

  write(writes, snapshot, docsPage(add.name), tierPage(newTier, tierText, next));
  return writes;
}

/** The tier's docs page: what it is, where it sits, and its file verbatim (a test checks it). */
export function tierPage(tier: Tier, text: string, next: string | undefined): string {
  const overlay = tier.runtime === "kubernetes" ? ` (overlay \`k8s/overlays/${tier.tier}\`)` : "";
  return `# ${tier.marker} ${tier.tier}

${tier.description}

Runs on ${tier.runtime}${overlay}; promoted from ${tier.promotion.from ?? "nothing (the chain starts here)"}${next ? `, promotes into ${next}` : ""}. Approvals: ${tier.approvals.required} (${tier.approvals.source}).

Preview and promote: \`tiers plan --env ${tier.tier}\`, then \`tiers promote --env ${tier.tier}\`.

## Configuration

\`environments/${tier.tier}.yaml\`, merged over \`environments/base.yaml\` (see [index.md](index.md)).
This copy is checked against the real file by a unit test.

\`\`\`yaml
${text.trimEnd()}
\`\`\`
`;
}
