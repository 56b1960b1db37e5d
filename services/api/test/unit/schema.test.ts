import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MigrationError, readMigrations } from "../../src/schema.ts";

const dirs: string[] = [];
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tiers-migrations-"));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("migration files", () => {
  it("orders the shipped migrations by version and fingerprints them", async () => {
    const migrations = await readMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    expect(migrations[0]?.file).toBe("001_create_jobs.sql");
    const versions = migrations.map((m) => m.version);
    expect([...versions].sort()).toEqual(versions);
    expect(migrations[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("sorts numerically padded names and ignores non-SQL files", async () => {
    const dir = dirWith({ "002_b.sql": "b", "001_a.sql": "a", "README.md": "notes" });
    expect((await readMigrations(dir)).map((m) => m.name)).toEqual(["a", "b"]);
  });

  it("refuses a misnamed migration instead of skipping it", async () => {
    const dir = dirWith({ "001_a.sql": "a", "2-add-index.sql": "b" });
    await expect(readMigrations(dir)).rejects.toThrow(MigrationError);
    await expect(readMigrations(dir)).rejects.toThrow(/2-add-index\.sql/);
  });

  it("refuses two migrations with one version, naming both", async () => {
    const dir = dirWith({ "001_a.sql": "a", "001_b.sql": "b" });
    await expect(readMigrations(dir)).rejects.toThrow(
      /001_b\.sql: version 001 is already used by 001_a\.sql/,
    );
  });
});
