/**
 * `tiers add service <name> [--port N] [--from-template node]`: every file a new service
 * needs, computed in memory from a snapshot so the surface writes all or none. New files come
 * from `templates/service/<template>/*.tmpl` ({{name}}, {{port}}, {{debugPort}}, {{namespace}},
 * {{project}} filled in); existing files get one entry appended where their siblings are,
 * every other line as written. Per-tier compose overrides get a renamed copy of the entry of
 * the last service they already hold, so whatever each tier sets (targets, labels, mounts,
 * loopback ports) the new service gets too. Pure.
 */
import { type EnvironmentModel, type SourceFile, validateSources } from "../environment/model.ts";
import { formatProblem } from "../environment/problems.ts";
import { unpromotedDigest } from "../manifests/pins.ts";
import { layout, promotableServices } from "../repository/consistency.ts";
import {
  appendEntry,
  entryLines,
  refuse,
  renameWord,
  type Snapshot,
  type Writes,
  write,
  writeCiBlocks,
} from "./files.ts";

export interface AddService {
  name: string;
  port: number;
  template: string;
}

const baseFile = "environments/base.yaml";
const networkPolicies = "k8s/base/network-policies.yaml";
const baseKustomization = "k8s/base/kustomization.yaml";
const servicesDoc = "docs/services.md";

/** Every write `tiers add service` makes, or a ScaffoldRefused saying why none is made. */
export function planAddService(
  model: EnvironmentModel,
  snapshot: Snapshot,
  add: AddService,
): Writes {
  const writes: Writes = new Map();
  if (!/^[a-z][a-z0-9-]*$/.test(add.name)) {
    refuse(`"${add.name}" is not a service name`, "use lower-case letters, digits and '-'");
  }
  const first = model.tiers[model.order[0]!]!;
  if (first.services[add.name]) return writes;
  const taken = Object.entries(first.services).flatMap(([service, spec]) =>
    Object.values(spec.ports).map((port) => ({ service, port })),
  );
  const clash = taken.find((t) => t.port === add.port);
  if (clash) {
    refuse(`port ${add.port} is already ${clash.service}'s`, "pass another --port");
  }
  const debugPort = Math.max(9228, ...taken.map((t) => t.port).filter((p) => p >= 9000)) + 1;
  const templateDir = `templates/service/${add.template}/`;
  if (![...snapshot.keys()].some((path) => path.startsWith(templateDir))) {
    const known = [
      ...new Set(
        [...snapshot.keys()]
          .filter((p) => p.startsWith("templates/service/"))
          .map((p) => p.split("/")[2]),
      ),
    ];
    refuse(
      `no template ${templateDir}`,
      `templates: ${known.join(", ") || "none"} (under templates/service/)`,
    );
  }
  const values: Record<string, string> = {
    name: add.name,
    port: String(add.port),
    debugPort: String(debugPort),
    namespace: first.registry.namespace,
    project: model.project,
  };
  const render = (text: string) =>
    text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
  const template = (file: string) => {
    const text = snapshot.get(`${templateDir}${file}.tmpl`);
    if (text === undefined) refuse(`the template has no ${file}`, "restore it", templateDir);
    return render(text);
  };
  const read = (path: string) => {
    const text = snapshot.get(path);
    if (text === undefined) refuse(`${path} does not exist`, "restore it", path);
    return text;
  };
  const append = (path: string, at: readonly string[], entry: string) => {
    const text = writes.get(path) ?? read(path);
    const next = appendEntry(text, at, entry);
    if (next === undefined) {
      refuse(`cannot find ${at.join(".") || "the top level"} to add ${add.name} to`, "", path);
    }
    writes.set(path, next);
  };

  // New files: the service itself and its Kubernetes base.
  for (const [path] of snapshot) {
    // Template files end in .tmpl so no linter or type checker reads them as the real thing.
    if (!path.startsWith(templateDir) || !path.endsWith(".tmpl")) continue;
    const file = path.slice(templateDir.length, -".tmpl".length);
    if (["base-entry.yaml", "compose-entry.yaml", "network-policy.yaml"].includes(file)) continue;
    const target = file.startsWith("k8s/")
      ? `k8s/base/${add.name}/${file.slice(4)}`
      : `services/${add.name}/${file}`;
    write(writes, snapshot, target, template(file));
  }

  append(baseFile, ["services"], template("base-entry.yaml"));
  const result = validateSources(
    [...snapshot]
      .filter(([path]) => path.startsWith("environments/"))
      .map(([file, text]): SourceFile => ({ file, text: writes.get(file) ?? text })),
  );
  if (!result.model) {
    refuse(
      `environments/base.yaml would not validate:\n${result.problems.map(formatProblem).join("\n")}`,
      "nothing was written",
    );
  }

  // Compose: the shared entry from the template, each tier's override from its last service.
  let composeEntry = template("compose-entry.yaml");
  const compose = read(layout.composeBase);
  for (const anchor of ["node-build-args", "runtime-environment"]) {
    if (!compose.includes(`&${anchor}`)) {
      composeEntry = composeEntry
        .split("\n")
        .filter((line) => !line.includes(`*${anchor}`))
        .join("\n");
    }
  }
  append(layout.composeBase, ["services"], composeEntry);
  const sibling = promotableServices(first).at(-1);
  for (const name of model.order) {
    const tier = model.tiers[name]!;
    if (tier.runtime !== "compose" && tier.runtime !== "ephemeral") continue;
    const path = layout.composeOverride(name);
    const text = read(path);
    const entry = sibling && entryLines(text, ["services"], sibling);
    if (!sibling || !entry) continue;
    const spec = first.services[sibling]!;
    let copy = renameWord(entry, sibling, add.name);
    copy = copy.replaceAll(
      `_${sibling.toUpperCase()}_`,
      `_${add.name.toUpperCase().replaceAll("-", "_")}_`,
    );
    for (const [portName, port] of Object.entries(spec.ports)) {
      const to = portName === "debug" ? debugPort : add.port;
      copy = copy.replace(new RegExp(`(?<![0-9])${port}(?![0-9])`, "g"), String(to));
    }
    // The copy is indented like the original; appendEntry re-indents from column 0.
    const indent = /^[ ]*/.exec(copy)![0].length;
    const dedented = copy
      .split("\n")
      .map((line) => line.slice(Math.min(indent, /^[ ]*/.exec(line)![0].length)))
      .join("\n");
    append(path, ["services"], dedented);
  }

  // Kubernetes: the base lists it, lets its port in, and every overlay pins it.
  append(baseKustomization, ["resources"], `- ${add.name}`);
  write(
    writes,
    snapshot,
    networkPolicies,
    `${read(networkPolicies).trimEnd()}\n${template("network-policy.yaml")}`,
  );
  for (const name of model.order) {
    const tier = model.tiers[name]!;
    if (tier.runtime !== "kubernetes") continue;
    const repository = `${tier.registry.host}/${tier.registry.namespace}/${add.name}`;
    append(
      layout.overlay(name),
      ["images"],
      `- name: ${tier.registry.namespace}/${add.name}\n  newName: ${repository}\n  digest: ${unpromotedDigest}`,
    );
  }

  // Terraform: each tier's list of image repositories.
  for (const [path, text] of snapshot) {
    if (!path.startsWith(`${layout.tfvarsDir}/`) || !path.endsWith(".tfvars")) continue;
    const next = text.replace(
      /^(\s*services\s*=\s*\[)([^\]]*)\]/m,
      (_, head: string, list: string) =>
        `${head}${list.trim() === "" ? "" : `${list.trimEnd()}, `}"${add.name}"]`,
    );
    write(writes, snapshot, path, next);
  }

  // Docs: one row in the services table.
  const docs = snapshot.get(servicesDoc);
  if (docs) {
    const lines = docs.split("\n");
    const last = lines.findLastIndex(
      (l) => sibling !== undefined && l.startsWith(`| \`${sibling}\``),
    );
    if (last >= 0) {
      lines.splice(
        last + 1,
        0,
        `| \`${add.name}\` | Added by \`tiers add service\` from templates/service/${add.template}: say what it does. | ${add.port}: HTTP and probes | ${debugPort} |`,
      );
      write(writes, snapshot, servicesDoc, lines.join("\n"));
    }
  }
  // CI scans every built service's image after publish: the new one too.
  writeCiBlocks(writes, snapshot, result.model);
  return writes;
}
