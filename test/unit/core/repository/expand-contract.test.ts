/**
 * The expand/contract check on fixture migration directories (test/fixtures/migrations/), with
 * the real PostgreSQL parser (libpg-query): what counts as a contraction is what PostgreSQL
 * parses as DropStmt / AlterTableCmd AT_DropColumn / RenameStmt, so comments, strings and
 * function bodies that mention DROP are not contractions.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkExpandContract,
  contractionsOf,
  contractMarker,
  loadSqlParser,
  type MigrationFile,
} from "../../../../pipelines/src/core/repository/expand-contract.ts";

const fixtures = join(import.meta.dirname, "../../../fixtures/migrations");

async function migrations(name: string): Promise<MigrationFile[]> {
  const dir = join(fixtures, name);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  return Promise.all(
    files.map(async (f) => ({
      file: `migrations/${name}/${f}`,
      id: f.replace(/\.sql$/, ""),
      sql: await readFile(join(dir, f), "utf8"),
    })),
  );
}

const check = async (name: string, released: string[]) =>
  checkExpandContract({
    tier: "live",
    service: "db",
    migrations: await migrations(name),
    released: new Set(released),
  });

beforeAll(loadSqlParser);

describe("contractions as PostgreSQL parses them", () => {
  it("finds drops and renames of tables, views and columns, each on its own line", async () => {
    const [, , contract] = await migrations("contract-unmarked");
    expect(contractionsOf(contract!.sql)).toEqual([
      { line: 2, what: "ALTER TABLE jobs DROP COLUMN last_error" },
      { line: 6, what: "RENAME COLUMN jobs.payload TO body" },
      { line: 7, what: "RENAME TABLE job_events TO job_history" },
      { line: 8, what: "DROP TABLE legacy jobs" },
      { line: 8, what: "DROP TABLE public.old_jobs" },
      { line: 9, what: "DROP VIEW job_stats" },
    ]);
  });

  it("ignores strings, comments, function bodies and dropped indexes", async () => {
    const [, expand] = await migrations("expand");
    expect(contractionsOf(expand!.sql)).toEqual([]);
  });

  it("a file that is not PostgreSQL is an error with its line", () => {
    expect(() =>
      contractionsOf("CREATE TABLE a (id int);\n\nALTER TABLE a DROPP COLUMN id;"),
    ).toThrow(expect.objectContaining({ line: 3, message: expect.stringContaining('"DROPP"') }));
  });

  it("reads the marker only from the leading comments", () => {
    expect(contractMarker("-- why\n-- tiers: contract 002_x\nDROP TABLE t;")).toEqual({
      id: "002_x",
      line: 2,
    });
    expect(contractMarker("DROP TABLE t;\n-- tiers: contract 002_x")).toBeUndefined();
  });
});

describe("the rule for a blue-green tier", () => {
  it("an expand-only history passes, released or not", async () => {
    expect(await check("expand", [])).toEqual([]);
    expect(await check("expand", ["001_create_jobs"])).toEqual([]);
  });

  it("refuses each unmarked contraction the tier has not released, with file:line", async () => {
    const problems = await check("contract-unmarked", ["001_create_jobs", "002_add_jobs_priority"]);
    expect(problems.map((p) => `${p.file}:${p.line}`)).toEqual([
      "migrations/contract-unmarked/003_contract.sql:2",
      "migrations/contract-unmarked/003_contract.sql:6",
      "migrations/contract-unmarked/003_contract.sql:7",
      "migrations/contract-unmarked/003_contract.sql:8",
      "migrations/contract-unmarked/003_contract.sql:8",
      "migrations/contract-unmarked/003_contract.sql:9",
    ]);
    expect(problems[0]).toMatchObject({ rule: "repository/expand-contract", tier: "live" });
    expect(problems[0]!.message).toMatch(
      /live deploys blue-green .*"-- tiers: contract <expand-id>"/,
    );
  });

  it("a contraction the tier already runs is history, not a change", async () => {
    expect(
      await check("contract-unmarked", [
        "001_create_jobs",
        "002_add_jobs_priority",
        "003_contract",
      ]),
    ).toEqual([]);
  });

  it("a marked contract passes once its expand is released, and waits until then", async () => {
    expect(await check("contract-marked", ["001_create_jobs", "002_add_jobs_priority"])).toEqual(
      [],
    );
    const early = await check("contract-marked", ["001_create_jobs"]);
    expect(early).toHaveLength(1);
    expect(early[0]).toMatchObject({
      file: "migrations/contract-marked/003_drop_last_error.sql",
      line: 1,
    });
    expect(early[0]!.message).toMatch(
      /contract step of "002_add_jobs_priority", which live does not run yet/,
    );
  });

  it("a marker must name an earlier migration", async () => {
    const problems = await check("contract-bad-marker", ["001_create_jobs"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(
      /names "004_not_yet", which is not an earlier migration of db/,
    );
  });
});
