/**
 * An answer remembered with what it read (engines/host/read-trace.ts), on real files and a real
 * git repository: it is reused only when every read gives the same result again, so a changed,
 * added or removed file, a moved git ref or a read that now fails computes again, and a torn or
 * foreign entry is a miss, never a wrong answer.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rememberedByReads } from "../../../../pipelines/src/engines/host/read-trace.ts";
import {
  hostReader,
  type RepositoryReader,
} from "../../../../pipelines/src/engines/host/repository-reader.ts";
import * as git from "../../../../pipelines/src/tools/git.ts";

let root: string;
let cache: string;
let computed: number;

/** A stand-in check: lists `conf/`, reads each file and one that may be absent, asks git. */
async function check(reader: RepositoryReader): Promise<string[]> {
  computed++;
  const names = await reader.names("conf", false);
  const texts = await Promise.all(names.map((n) => reader.text(`conf/${n}`)));
  const optional = await reader.text("optional.txt");
  const tree = await reader.query(git.listFiles("HEAD", "conf"));
  return [...texts.map(String), `optional=${optional ?? "absent"}`, `tree=${tree.stdout}`];
}

const run = (key = "key-a") =>
  rememberedByReads(root, { key, file: cache }, (reader) => check(reader));

function gitIn(...args: string[]) {
  execFileSync("git", ["-C", root, "-c", "user.email=t@t", "-c", "user.name=t", ...args], {
    stdio: "ignore",
  });
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tiers-read-trace-"));
  cache = join(root, ".tiers/cache/check.json");
  await mkdir(join(root, "conf"));
  await writeFile(join(root, "conf/a.yaml"), "a: 1\n");
  gitIn("init", "-q");
  gitIn("add", "conf");
  gitIn("commit", "-q", "-m", "one");
  computed = 0;
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("an answer remembered by its reads", () => {
  it("computes once, then answers an unchanged repository from the entry", async () => {
    const first = await run();
    const second = await run();
    expect(computed).toBe(1);
    expect(second).toEqual(first);
    expect(first).toContain("optional=absent");
  });

  it("computes again when a file it read changes, even by one byte of the same size", async () => {
    await run();
    await writeFile(join(root, "conf/a.yaml"), "a: 2\n");
    expect(await run()).toContain("a: 2\n");
    expect(computed).toBe(2);
  });

  it("computes again when a file appears in a directory it listed", async () => {
    await run();
    await writeFile(join(root, "conf/b.yaml"), "b: 1\n");
    expect(await run()).toContain("b: 1\n");
    expect(computed).toBe(2);
  });

  it("computes again when a file it found absent now exists", async () => {
    await run();
    await writeFile(join(root, "optional.txt"), "here");
    expect(await run()).toContain("optional=here");
    expect(computed).toBe(2);
  });

  it("computes again when only a git query answers differently (a commit moved HEAD)", async () => {
    const before = await run();
    // The working tree stays as it was; only the tree git reports at HEAD changes.
    gitIn("rm", "-q", "--cached", "conf/a.yaml");
    gitIn("commit", "-q", "-m", "two");
    const after = await run();
    expect(computed).toBe(2);
    expect(after.at(-1)).toBe("tree=");
    expect(before.at(-1)).toBe("tree=conf/a.yaml");
  });

  it("computes again under another key (another build or model)", async () => {
    await run("key-a");
    await run("key-b");
    expect(computed).toBe(2);
  });

  it("reports a read that now fails as the check would, not the remembered answer", async () => {
    await run();
    await rm(join(root, "conf/a.yaml"));
    await mkdir(join(root, "conf/a.yaml"));
    await writeFile(join(root, "conf/z.yaml"), "z: 1\n");
    // conf/a.yaml is now a directory: it is no longer listed as a file, so the listing differs.
    await run();
    expect(computed).toBe(2);
    // A file the check reads directly that cannot be read is an error naming it.
    await rm(join(root, "optional.txt"), { force: true });
    await mkdir(join(root, "optional.txt"));
    await expect(run()).rejects.toThrow(/cannot read optional\.txt/);
  });

  it("treats a torn, edited or foreign entry as a miss", async () => {
    await run();
    const text = await readFile(cache, "utf8");
    await writeFile(cache, text.slice(0, text.length / 2));
    await run();
    expect(computed).toBe(2);
    const entry = JSON.parse(await readFile(cache, "utf8"));
    entry.answer = ["forged"];
    await writeFile(cache, JSON.stringify(entry));
    expect(await run()).not.toContain("forged");
    expect(computed).toBe(3);
  });
});

describe("the host reader", () => {
  it("reads each fact once per reader and reports each distinct read once", async () => {
    const seen: string[] = [];
    const reader = hostReader(root, (read) => seen.push(JSON.stringify(read)));
    await Promise.all([reader.text("conf/a.yaml"), reader.text("conf/a.yaml")]);
    await reader.names("conf", false);
    await reader.names("conf", false);
    expect(seen).toHaveLength(2);
  });

  it("refuses a query that carries a secret or input: it is not a repository read", async () => {
    const reader = hostReader(root);
    await expect(
      reader.query({ tool: "git", args: ["status"], secretEnv: { TOKEN: "token" } }),
    ).rejects.toThrow(/not a repository query/);
  });
});
