/**
 * The expand-contract promotion gate as a pure function of the facts the engine read from git
 * (engines/host/promotion/expand-contract-facts.ts). SQL is parsed by libpg-query, the real
 * PostgreSQL parser, as `tiers validate`'s check does.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  type ExpandContractFact,
  expandContractGate,
  type Fact,
} from "../../../../pipelines/src/core/promotion/gates.ts";
import { loadSqlParser } from "../../../../pipelines/src/core/repository/expand-contract.ts";

const dir = "services/svc/db/migrations";
const m = (id: string, sql: string) => ({ file: `${dir}/${id}.sql`, id, sql });
const create = m("001_create", "CREATE TABLE jobs (id int, payload text);");
const expand = m("002_expand", "ALTER TABLE jobs ADD COLUMN body text;");
const drop = m("003_drop", "ALTER TABLE jobs DROP COLUMN payload;");
const contract = m(
  "003_drop",
  "-- tiers: contract 002_expand\nALTER TABLE jobs DROP COLUMN payload;",
);

function fact(
  migrations: ExpandContractFact["migrations"],
  released: string[] | null,
): Fact<ExpandContractFact> {
  return {
    ok: true,
    value: {
      tier: "upper",
      dir,
      migrations,
      released: released && new Set(released),
      releasedFrom: "upper runs sha256:abc from 0123456789ab",
    },
  };
}

beforeAll(() => loadSqlParser());

describe("expand-contract gate", () => {
  it.each([
    [
      "only additions",
      [create, expand],
      ["001_create"],
      true,
      /1 migration\(s\) new to upper, none drops/,
    ],
    [
      "a drop not yet run, unmarked",
      [create, expand, drop],
      ["001_create", "002_expand"],
      false,
      /003_drop.sql:1: ALTER TABLE jobs DROP COLUMN payload: upper deploys blue-green/,
    ],
    [
      "the contract of an expand the tier does not run yet",
      [create, expand, contract],
      ["001_create"],
      false,
      /003_drop.sql:1: contract step of "002_expand", which upper does not run yet/,
    ],
    [
      "the contract of an expand the tier runs",
      [create, expand, contract],
      ["001_create", "002_expand"],
      true,
      /1 migration\(s\) new to upper/,
    ],
    [
      "a drop the tier already ran is history",
      [create, expand, drop],
      ["001_create", "002_expand", "003_drop"],
      true,
      /no migration new to upper/,
    ],
    ["nothing promoted to the tier yet", [create, drop], null, true, /nothing live in upper yet/],
  ] as const)("%s", (_, migrations, released, ok, why) => {
    const result = expandContractGate(fact(migrations, released as string[] | null), "svc");
    expect(result).toMatchObject({ gate: "expand-contract", ok, service: "svc" });
    expect(result.why).toMatch(why);
  });

  it("fails closed on a fact that was not read, or not gathered at all", () => {
    expect(expandContractGate({ ok: false, why: "cannot list x at 0123" }, "svc")).toMatchObject({
      ok: false,
      why: "cannot list x at 0123",
    });
    expect(expandContractGate(undefined, "svc")).toMatchObject({
      ok: false,
      why: "the migrations were not read",
    });
  });

  it("SQL that is not PostgreSQL fails the gate with its line", () => {
    const broken = m("002_broken", "ALTER TABLE jobs\nDROP COLUMN;");
    const result = expandContractGate(fact([create, broken], ["001_create"]), "svc");
    expect(result.ok).toBe(false);
    expect(result.why).toMatch(/002_broken.sql:2: not valid PostgreSQL/);
  });
});
