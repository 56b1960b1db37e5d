/**
 * `tiers validate` as shipped (the real bin, so the bundled build with its stamp, which turns
 * the caches on) on a copy of the fixture repository: a repeated run of an unchanged repository
 * is answered from what the repository checks read (engines/host/read-trace.ts), and every kind
 * of change the checks can see is seen on the next run, never hidden by the remembered answer.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repositoryCheckCacheFile } from "../../../../../pipelines/src/engines/host/model-cache.ts";
import { validatableFixtureCopy } from "../../../../support/fixture-repo.ts";
import { runTiers } from "../../../../support/repo.ts";

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function repository(): string {
  const dir = validatableFixtureCopy("tiers-validate-remembered-");
  temps.push(dir);
  return dir;
}

const validate = (root: string) => runTiers(root, ["validate"], { timeoutMs: 60_000 });

function edit(root: string, file: string, change: (text: string) => string): () => void {
  const path = join(root, file);
  const before = readFileSync(path, "utf8");
  writeFileSync(path, change(before));
  return () => writeFileSync(path, before);
}

describe("tiers validate, remembered by what it read", () => {
  it("answers a repeated run from the entry, writing nothing, with the same output", async () => {
    const root = repository();
    const first = await validate(root);
    expect(first.code).toBe(0);
    const entry = repositoryCheckCacheFile(root);
    const written = statSync(entry).mtimeMs;
    const second = await validate(root);
    expect(second).toEqual(first);
    // A hit writes no entry: the file is the one the first run wrote.
    expect(statSync(entry).mtimeMs).toBe(written);
  });

  it("sees a changed Dockerfile, a new overlay and a changed CI template on the next run", async () => {
    const root = repository();
    expect((await validate(root)).code).toBe(0);

    const restore = edit(root, "services/api/Dockerfile", (t) =>
      t.replace(/ AS production$/m, " AS release"),
    );
    const target = await validate(root);
    expect(target.code).toBe(1);
    expect(target.stdout).toMatch(/services\/api\/Dockerfile.*production/);
    restore();
    expect((await validate(root)).code).toBe(0);

    mkdirSync(join(root, "k8s/overlays/qa"));
    writeFileSync(join(root, "k8s/overlays/qa/kustomization.yaml"), "resources: []\n");
    const overlay = await validate(root);
    expect(overlay.code).toBe(1);
    expect(overlay.stdout).toContain("k8s/overlays/qa");
    rmSync(join(root, "k8s/overlays/qa"), { recursive: true });

    edit(root, ".gitlab-ci.yml", (t) => `${t}\n# hand edit\n`);
    expect((await validate(root)).code).toBe(0);
    const drift = edit(root, ".github/workflows/release.yml", (t) =>
      t.replace(/--env staging/, "--env staging2"),
    );
    const ci = await validate(root);
    drift();
    expect(ci.code, ci.stdout).toBe(1);
    expect(ci.stdout).toContain(".github/workflows/release.yml");
  });
});
