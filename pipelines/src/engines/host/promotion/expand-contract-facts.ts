/**
 * The facts the expand-contract gate (core/promotion/gates.ts) judges, read from git and never
 * from our own idea of a release: the candidate commit's migrations (the service's
 * `db/migrations` beside its Dockerfile, at the image's commit), and what the target tier runs
 * — the digest its overlay pins at HEAD, the commit that digest's passage record in the tier
 * names, and the migrations present at that commit. Anything that cannot be read is a failed
 * fact, which fails the gate.
 */
import { type EnvironmentModel, imageRepository, tierOf } from "../../../core/environment/index.ts";
import { firstLine } from "../../../core/errors.ts";
import { isUnpromoted } from "../../../core/manifests/index.ts";
import type { Candidate, ExpandContractFact, Fact } from "../../../core/promotion/gates.ts";
import { findPin } from "../../../core/promotion/overlay.ts";
import { describeInvalid } from "../../../core/promotion/record-read.ts";
import { passagePath, passageSchema } from "../../../core/promotion/records.ts";
import { shortDigest } from "../../../core/promotion/refs.ts";
import {
  loadSqlParser,
  type MigrationFile,
  migrationIdsOf,
  migrationsDirOf,
} from "../../../core/repository/expand-contract.ts";
import * as git from "../../../tools/git.ts";
import type { PromotionRepo } from "../history.ts";
import { type RecordReader, readRecord } from "./sources.ts";

/** Commit trees through git: listing a directory and reading a file at a commit. */
export type CommitTrees = Pick<PromotionRepo, "run" | "showAt">;

class Unreadable extends Error {}

/** Migration file paths under `dir` at `commit`; an unknown commit is an error, not "none". */
async function listAt(trees: CommitTrees, commit: string, dir: string): Promise<string[]> {
  const listed = await trees.run(git.listFiles(commit, dir), true);
  if (listed.exitCode !== 0) {
    throw new Unreadable(
      `cannot list ${dir} at ${commit.slice(0, 12)}: ${listed.stderr.trim() || `git exited ${listed.exitCode}`}`,
    );
  }
  return listed.stdout.split("\n").filter((p) => p.endsWith(".sql"));
}

/** The expand-contract fact of one candidate entering `tierName`. */
export async function expandContractFact(
  trees: CommitTrees,
  records: Pick<RecordReader, "record" | "pinsAt">,
  model: EnvironmentModel,
  tierName: string,
  candidate: Candidate,
): Promise<Fact<ExpandContractFact>> {
  const tier = tierOf(model, tierName);
  const dockerfile = tier.services[candidate.service]?.build?.dockerfile;
  if (!dockerfile) {
    return {
      ok: true,
      value: { tier: tierName, migrations: [], released: null, releasedFrom: "" },
    };
  }
  const dir = migrationsDirOf(dockerfile);
  try {
    if (!candidate.commit) {
      throw new Unreadable("the image's commit is unknown, so its migrations cannot be read");
    }
    const migrations: MigrationFile[] = [];
    for (const file of await listAt(trees, candidate.commit, dir)) {
      const sql = await trees.showAt(candidate.commit, file);
      if (sql === undefined) throw new Unreadable(`${file} vanished at ${candidate.commit}`);
      migrations.push({ file, id: migrationIdsOf([file])[0]!, sql });
    }
    migrations.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const value: ExpandContractFact = {
      tier: tierName,
      dir,
      migrations,
      released: null,
      releasedFrom: "",
    };
    if (migrations.length === 0) return { ok: true, value };
    await loadSqlParser(); // the gate parses the SQL with the real PostgreSQL parser

    // What the tier runs: its pin at HEAD, that digest's passage into the tier, its commit.
    const pins = await records.pinsAt(tierName);
    if (!pins) throw new Unreadable(`${tierName} has no overlay at HEAD to say what it runs`);
    const pin = findPin(
      pins,
      candidate.service,
      imageRepository(model, tierName, candidate.service),
    );
    if (!pin) throw new Unreadable(`${tierName}'s overlay pins no image for ${candidate.service}`);
    if (!pin.digest || isUnpromoted(pin.digest)) {
      return { ok: true, value: { ...value, releasedFrom: "nothing promoted" } };
    }
    const path = passagePath(tierName, pin.digest);
    const passage = await readRecord(records, passageSchema, path);
    if (passage.state === "invalid")
      throw new Unreadable(`passage record cannot be read: ${describeInvalid(passage)}`);
    if (passage.state === "absent" || !passage.value.commit) {
      throw new Unreadable(
        `cannot tell which migrations ${tierName} runs: ${path} ${passage.state === "absent" ? "does not exist" : "names no commit"} for the pinned ${shortDigest(pin.digest)}`,
      );
    }
    const running = passage.value.commit;
    const released = new Set(migrationIdsOf(await listAt(trees, running, dir)));
    return {
      ok: true,
      value: {
        ...value,
        released,
        releasedFrom: `${tierName} runs ${shortDigest(pin.digest)} from ${running.slice(0, 12)}`,
      },
    };
  } catch (error) {
    return { ok: false, why: error instanceof Unreadable ? error.message : firstLine(error) };
  }
}
