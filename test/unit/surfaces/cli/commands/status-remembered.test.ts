/**
 * `tiers status` as shipped (the real bin, so the bundled build with its stamp, which turns the
 * caches on) on a git repository made from the fixture repository: a repeated run of an
 * unchanged repository is answered from what the ladder read (engines/host/promotion/
 * ladder-cache.ts), and everything the ladder depends on is seen on the next run: a new commit,
 * an artefact record, the registry (never remembered), the clock of a tier's windows (told on
 * every run).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ladderCacheFile } from "../../../../../pipelines/src/engines/host/model-cache.ts";
import { validatableFixtureCopy } from "../../../../support/fixture-repo.ts";
import { runTiers } from "../../../../support/repo.ts";

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function repository(): { root: string; commit: (message: string) => void } {
  const root = validatableFixtureCopy("tiers-status-remembered-");
  temps.push(root);
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: root,
      env: {
        ...process.env,
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_AUTHOR_NAME: "Status",
        GIT_AUTHOR_EMAIL: "status@example.test",
        GIT_COMMITTER_NAME: "Status",
        GIT_COMMITTER_EMAIL: "status@example.test",
      },
    });
  git("init", "-q", "-b", "main");
  const commit = (message: string) => {
    git("add", "-A");
    git("commit", "-q", "-m", message);
  };
  commit("the fixture system");
  return { root, commit };
}

const status = (root: string, ...flags: string[]) =>
  runTiers(root, ["status", ...flags], { timeoutMs: 60_000 });
const entryOf = (root: string) => ladderCacheFile(root, false);

function edit(root: string, file: string, change: (text: string) => string): void {
  const path = join(root, file);
  writeFileSync(path, change(readFileSync(path, "utf8")));
}

describe("tiers status, remembered by what it read", () => {
  it("answers a repeated run from the entry, writing nothing, with the same output", async () => {
    const { root } = repository();
    const first = await status(root);
    expect(first.code, first.stderr).toBe(0);
    const written = statSync(entryOf(root)).mtimeMs;
    expect(await status(root)).toEqual(first);
    expect(statSync(entryOf(root)).mtimeMs).toBe(written);
    // The JSON view (with each tier's pin history) is remembered on its own.
    const json = await status(root, "--json");
    expect(json.code).toBe(0);
    const withHistory = statSync(ladderCacheFile(root, true)).mtimeMs;
    expect(await status(root, "--json")).toEqual(json);
    expect(statSync(ladderCacheFile(root, true)).mtimeMs).toBe(withHistory);
    expect(statSync(entryOf(root)).mtimeMs).toBe(written);
  });

  it("sees a new commit, and never remembers a ladder that asked the registry", async () => {
    const { root, commit } = repository();
    expect((await status(root)).stdout).toMatch(/staging\s+kubernetes nothing promoted yet/);
    const written = statSync(entryOf(root)).mtimeMs;
    // A promoted pin (to a registry nobody listens on): status must ask whether it is served.
    edit(root, "k8s/overlays/staging/kustomization.yaml", (t) =>
      t
        .replace("newName: 127.0.0.1:5000/tiers/api", "newName: 127.0.0.1:9/tiers/api")
        .replace(/digest: sha256:0{64}/, `digest: sha256:${"a".repeat(64)}`),
    );
    commit("promote api to staging");
    const promoted = await status(root);
    expect(promoted.stdout).toMatch(/staging\s+kubernetes commit .* api@sha256:aaaaaaaaaaaa/);
    expect(promoted.stdout).toMatch(/passage DOES NOT HOLD/);
    // Not written: what the registry serves is its answer now, not a fact of the repository.
    expect(statSync(entryOf(root)).mtimeMs).toBe(written);
    expect((await status(root)).stdout).toBe(promoted.stdout);
  });

  it("sees a broken artefact record on the next run, and its repair", async () => {
    const { root } = repository();
    const first = await status(root);
    expect(first.code).toBe(0);
    mkdirSync(join(root, ".tiers/artefacts"), { recursive: true });
    writeFileSync(join(root, ".tiers/artefacts/latest.json"), "{}\n");
    const broken = await status(root);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain("latest.json");
    rmSync(join(root, ".tiers/artefacts/latest.json"));
    expect(await status(root)).toEqual(first);
  });

  it("tells a tier's windows on every run, from the clock, not from the entry", async () => {
    const { root, commit } = repository();
    edit(
      root,
      "environments/prod.yaml",
      (t) =>
        `${t}\nwindows:\n  - { kind: deny, rrule: FREQ=DAILY, start: "2026-01-01T00:00", duration: 24h, time_zone: UTC, reason: always frozen }\n`,
    );
    commit("prod is always frozen");
    const first = await status(root);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    // A closed window is a warning, on stderr.
    expect(first.stderr).toMatch(/window: CLOSED — inside deny "always frozen"/);
    expect(readFileSync(entryOf(root), "utf8")).not.toContain("always frozen");
    const written = statSync(entryOf(root)).mtimeMs;
    expect(await status(root)).toEqual(first);
    expect(statSync(entryOf(root)).mtimeMs).toBe(written);
  });
});
