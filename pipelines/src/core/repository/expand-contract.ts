/**
 * Expand then contract, for blue-green tiers. During a blue-green deploy the migration runs
 * while the previous colour still serves traffic with the previous release's code, so a
 * migration that tier has not yet run may only add (expand); dropping or renaming a table,
 * view or column (contract) would break the live colour. A contract is allowed only as its own
 * migration that names the earlier expand it completes, and only once that expand has been
 * released to the tier — then no running colour still reads what it removes.
 *
 * Marker (the first comment lines of the file): `-- tiers: contract <earlier-migration-id>`,
 * where a migration id is its file name without `.sql` (e.g. `003_add_jobs_kind_v2`).
 *
 * The SQL is read by libpg-query, the real PostgreSQL parser (compiled to WebAssembly), so
 * quoting, comments, dollar-quoted bodies and multi-command ALTERs are understood as PostgreSQL
 * understands them, not guessed by patterns. Pure: the surface hands in the files and, per
 * tier, which migrations that tier's running release contains (docs/k8s.md "Expand/contract").
 */
import { posix } from "node:path";
import { type Problem, rules } from "../environment/problems.ts";

/** One migration file of a service, as read from the working tree. */
export interface MigrationFile {
  /** Repository-relative path. */
  file: string;
  /** File name without `.sql`: what a contract marker names. */
  id: string;
  sql: string;
}

/** A statement that removes or renames something a running colour may read. */
export interface Contraction {
  line: number;
  /** e.g. `DROP TABLE jobs`, `ALTER TABLE jobs DROP COLUMN payload`. */
  what: string;
}

/** What the check needs for one blue-green tier and one service's migrations. */
export interface ExpandContractInput {
  tier: string;
  service: string;
  migrations: readonly MigrationFile[];
  /** Ids of the migrations the tier's running release contains (released). */
  released: ReadonlySet<string>;
}

/** Where a service's migrations live: `db/migrations` beside its Dockerfile. */
export function migrationsDirOf(dockerfile: string): string {
  return posix.join(posix.dirname(dockerfile), "db", "migrations");
}

/** Migration ids (file names without `.sql`) of listed paths, in the runner's (name) order. */
export function migrationIdsOf(paths: readonly string[]): string[] {
  return paths
    .filter((p) => p.endsWith(".sql"))
    .map((p) => posix.basename(p).replace(/\.sql$/, ""))
    .sort();
}

/** The parser, once loaded: `parseSync` only works after the WebAssembly module is. */
let parser: typeof import("libpg-query") | undefined;
let loaded: Promise<void> | undefined;
/**
 * Loads the parser and its WebAssembly module once; call before `contractionsOf`. Imported
 * here, not at the top: evaluating libpg-query's module alone costs a cold CLI tens of
 * milliseconds, and most commands that reach this file (plan, status) never parse SQL.
 */
export function loadSqlParser(): Promise<void> {
  loaded ??= import("libpg-query").then(async (module) => {
    await module.loadModule();
    parser = module;
  });
  return loaded;
}

/** The marker line: `-- tiers: contract <id>`. */
const markerLine = /^--\s*tiers:\s*contract\s+(\S+)\s*$/;

/** The earlier migration a file declares itself the contract step of, from its leading comments. */
export function contractMarker(sql: string): { id: string; line: number } | undefined {
  const lines = sql.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === "") continue;
    if (!text.startsWith("--")) return undefined;
    const match = markerLine.exec(text);
    if (match) return { id: match[1]!, line: i + 1 };
  }
  return undefined;
}

const relationKinds: Record<string, string> = {
  OBJECT_TABLE: "TABLE",
  OBJECT_VIEW: "VIEW",
  OBJECT_MATVIEW: "MATERIALIZED VIEW",
  OBJECT_FOREIGN_TABLE: "FOREIGN TABLE",
  OBJECT_SCHEMA: "SCHEMA",
};

type Node = Record<string, unknown>;

function names(list: unknown): string {
  // DropStmt objects: [{List: {items: [{String: {sval}}]}}] (schema-qualified names have more items).
  const items = ((list as Node)?.List as Node | undefined)?.items as Node[] | undefined;
  const parts = (items ?? [list as Node]).map((i) => ((i?.String as Node)?.sval as string) ?? "?");
  return parts.join(".");
}

function relationName(relation: unknown): string {
  const r = relation as { schemaname?: string; relname?: string } | undefined;
  return [r?.schemaname, r?.relname].filter(Boolean).join(".");
}

/** 1-based line of the first token at or after byte offset `at` (the parser counts bytes). */
function lineAt(sql: string, at: number): number {
  const before = Buffer.from(sql, "utf8").subarray(0, at).toString("utf8");
  let line = before.split("\n").length;
  const rest = sql.slice(before.length).split("\n");
  for (const text of rest) {
    const t = text.trim();
    if (t !== "" && !t.startsWith("--")) break;
    line++;
  }
  return line;
}

/**
 * The statements of `sql` that drop or rename a table, view, schema or column. Throws a
 * SyntaxError-like Error with a line when the file is not valid PostgreSQL.
 */
export function contractionsOf(sql: string): Contraction[] {
  // A programming error, not a finding about the file: say so rather than blame its line 1.
  if (!parser) throw new Error("the SQL parser is not loaded: await loadSqlParser() first");
  let parsed: { stmts?: { stmt: Node; stmt_location?: number }[] };
  try {
    parsed = parser.parseSync(sql) as typeof parsed;
  } catch (error) {
    const at = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
    const line = at === undefined ? 1 : lineAt(sql, Math.max(0, at - 1));
    throw Object.assign(new Error((error as Error).message), { line });
  }
  const found: Contraction[] = [];
  for (const { stmt, stmt_location } of parsed.stmts ?? []) {
    const line = lineAt(sql, stmt_location ?? 0);
    const drop = stmt.DropStmt as Node | undefined;
    if (drop && relationKinds[drop.removeType as string]) {
      const kind = relationKinds[drop.removeType as string];
      for (const object of (drop.objects as unknown[]) ?? [])
        found.push({ line, what: `DROP ${kind} ${names(object)}` });
    }
    const alter = stmt.AlterTableStmt as Node | undefined;
    if (alter) {
      for (const cmd of (alter.cmds as Node[]) ?? []) {
        const c = cmd.AlterTableCmd as Node | undefined;
        if (c?.subtype === "AT_DropColumn")
          found.push({
            line,
            what: `ALTER TABLE ${relationName(alter.relation)} DROP COLUMN ${String(c.name)}`,
          });
      }
    }
    const rename = stmt.RenameStmt as Node | undefined;
    if (rename) {
      const type = rename.renameType as string;
      if (type === "OBJECT_COLUMN")
        found.push({
          line,
          what: `RENAME COLUMN ${relationName(rename.relation)}.${String(rename.subname)} TO ${String(rename.newname)}`,
        });
      else if (relationKinds[type])
        found.push({
          line,
          what: `RENAME ${relationKinds[type]} ${relationName(rename.relation) || String(rename.subname ?? "")} TO ${String(rename.newname)}`,
        });
    }
  }
  return found;
}

/**
 * Problems of one service's migrations for one blue-green tier: a contraction in a migration
 * the tier has not released, without a marker naming a released earlier migration. Call
 * `loadSqlParser()` first.
 */
export function checkExpandContract(input: ExpandContractInput): Problem[] {
  const problems: Problem[] = [];
  const ids = input.migrations.map((m) => m.id);
  const problem = (file: string, line: number, message: string): Problem => ({
    file,
    line,
    column: 1,
    path: "",
    message,
    rule: rules.expandContract,
    tier: input.tier,
  });
  input.migrations.forEach((migration, index) => {
    if (input.released.has(migration.id)) return; // the tier already runs it: history, not a change
    let contractions: Contraction[];
    try {
      contractions = contractionsOf(migration.sql);
    } catch (error) {
      problems.push(
        problem(
          migration.file,
          (error as { line?: number }).line ?? 1,
          `not valid PostgreSQL: ${(error as Error).message}`,
        ),
      );
      return;
    }
    const marker = contractMarker(migration.sql);
    if (marker) {
      const earlier = ids.indexOf(marker.id);
      if (earlier === -1 || earlier >= index) {
        problems.push(
          problem(
            migration.file,
            marker.line,
            `contract marker names "${marker.id}", which is not an earlier migration of ${input.service}`,
          ),
        );
        return;
      }
      if (!input.released.has(marker.id)) {
        problems.push(
          problem(
            migration.file,
            marker.line,
            `contract step of "${marker.id}", which ${input.tier} does not run yet: promote the expand to ${input.tier} first, then this contract in a later release`,
          ),
        );
      }
      return;
    }
    for (const c of contractions) {
      problems.push(
        problem(
          migration.file,
          c.line,
          `${c.what}: ${input.tier} deploys blue-green and its live colour may still read this; expand first, and contract in a later migration marked "-- tiers: contract <expand-id>" once the expand is released to ${input.tier}`,
        ),
      );
    }
  });
  return problems;
}
