/**
 * The I/O half of the expand/contract check (core/repository/expand-contract.ts), run by
 * `tiers validate`. For each blue-green tier and each service with migrations
 * (`<service dir>/db/migrations/*.sql`, the directory of the service's Dockerfile), it finds
 * what the tier runs — the digest pinned in the tier's overlay, the commit a passage record
 * names for that digest — and lists, through git, the migrations present at that commit: those
 * are released. A fact it cannot establish is a problem, never "nothing released".
 */
import { imageRepository } from "../../core/environment/index.ts";
import type { EnvironmentModel } from "../../core/environment/model.ts";
import { type Problem, rules } from "../../core/environment/problems.ts";
import { isUnpromoted } from "../../core/manifests/index.ts";
import { findPin, readPins } from "../../core/promotion/overlay.ts";
import { parseRecord, passageSchema, releasesDir } from "../../core/promotion/records.ts";
import { digestFileName } from "../../core/promotion/refs.ts";
import { layout } from "../../core/repository/consistency.ts";
import {
  checkExpandContract,
  loadSqlParser,
  type MigrationFile,
  migrationIdsOf,
  migrationsDirOf,
} from "../../core/repository/expand-contract.ts";
import type { RepositoryReader } from "../../engines/host/repository-reader.ts";
import * as git from "../../tools/git.ts";

/** The commit a passage record names for `digest`, from any tier's passages. */
async function commitOfDigest(
  reader: RepositoryReader,
  model: EnvironmentModel,
  digest: string,
): Promise<string | undefined> {
  for (const tier of model.order) {
    const file = `${releasesDir}/passages/${tier}/${digestFileName(digest)}.yaml`;
    const text = await reader.text(file);
    if (text === undefined) continue;
    const record = parseRecord(passageSchema, text, file);
    if (record.commit) return record.commit;
  }
  return undefined;
}

/** Problems of every blue-green tier's unreleased migrations. */
export async function checkExpandContractAt(
  reader: RepositoryReader,
  model: EnvironmentModel,
): Promise<Problem[]> {
  const blueGreen = model.order.filter((t) => {
    const tier = model.tiers[t]!;
    return tier.runtime === "kubernetes" && tier.deploy.strategy === "blue-green";
  });
  if (blueGreen.length === 0) return [];
  // Each service's migrations in the working tree, in the runner's (name) order.
  const byService = new Map<string, { dir: string; files: MigrationFile[] }>();
  for (const t of model.order) {
    for (const [service, spec] of Object.entries(model.tiers[t]!.services)) {
      const dockerfile = spec.build?.dockerfile;
      if (!dockerfile || byService.has(service)) continue;
      const dir = migrationsDirOf(dockerfile);
      const names = (await reader.names(dir, false)).filter((n) => n.endsWith(".sql"));
      const files: MigrationFile[] = [];
      for (const name of names) {
        const file = `${dir}/${name}`;
        files.push({
          file,
          id: name.replace(/\.sql$/, ""),
          sql: (await reader.text(file))!,
        });
      }
      if (files.length) byService.set(service, { dir, files });
    }
  }
  if (byService.size === 0) return [];
  await loadSqlParser();
  const problems: Problem[] = [];
  for (const tier of blueGreen) {
    const overlay = layout.overlay(tier);
    const text = await reader.text(overlay);
    if (text === undefined) continue; // repository/overlay-missing reports it
    const pins = readPins(text, overlay);
    for (const [service, { dir, files }] of byService) {
      if (!model.tiers[tier]!.services[service]) continue;
      const pin = findPin(pins, service, imageRepository(model, tier, service));
      // Nothing promoted yet: no colour is live, so no migration can break one.
      if (!pin?.digest || isUnpromoted(pin.digest)) continue;
      const where = { file: overlay, line: pin.line, column: 1, path: "", tier };
      const commit = await commitOfDigest(reader, model, pin.digest);
      if (!commit) {
        problems.push({
          ...where,
          rule: rules.expandContract,
          message: `cannot tell which ${service} migrations ${tier} runs: no passage record under ${releasesDir}/passages/ names the commit of ${pin.digest}`,
        });
        continue;
      }
      const listed = await reader.query(git.listFiles(commit, dir));
      if (listed.exitCode !== 0) {
        problems.push({
          ...where,
          rule: rules.expandContract,
          message: `cannot list ${dir} at ${commit} (the commit ${tier} runs): ${listed.stderr.trim() || `git exited ${listed.exitCode}`}`,
        });
        continue;
      }
      const released = new Set(migrationIdsOf(listed.stdout.split("\n")));
      problems.push(...checkExpandContract({ tier, service, migrations: files, released }));
    }
  }
  return problems;
}
