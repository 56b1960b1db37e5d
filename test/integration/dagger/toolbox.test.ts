/**
 * The promotion toolbox recipe, run for real on this machine's git, npm and node instead of in
 * a Dagger container (no Dagger engine here). The steps are not re-typed: they are read from
 * the query the module builds (engines/dagger/toolbox.ts) — every exec after the package
 * installs, every plain environment variable, every file it writes — and executed in order
 * against a bare git remote in a temp directory. This proves the clone, the production-only
 * install, the CLI call and the push work together: a recorded test verdict lands on the
 * remote branch.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { testReport } from "../../../pipelines/src/engines/dagger/promotion.ts";
import {
  checkoutDir,
  pushBranch,
  runCli,
  toolbox,
} from "../../../pipelines/src/engines/dagger/toolbox.ts";
import { repositoryRoot } from "../../support/dagger/offline.ts";
import { chainOf, envVariables, execs } from "../../support/dagger/query.ts";

const temp = await mkdtemp(join(tmpdir(), "tiers-toolbox-"));
afterAll(() => rm(temp, { recursive: true, force: true }));

describe("promotion toolbox recipe on this machine (no Dagger engine here)", () => {
  it("clones, installs production dependencies, records with the CLI and pushes to the remote", async () => {
    // A bare remote holding this repository's committed history, on branch `main`.
    const remote = join(temp, "remote.git");
    await execa("git", ["clone", "--quiet", "--bare", repositoryRoot, remote]);
    const { stdout: head } = await execa("git", ["-C", repositoryRoot, "rev-parse", "HEAD"]);
    await execa("git", ["-C", remote, "branch", "--force", "main", head]);

    const report = testReport(head, ["api", "worker"]);
    const step = pushBranch(
      runCli(
        toolbox({
          remote,
          branch: "main",
          files: { [report.path]: report.text },
          env: { TIERS_ACTOR: "toolbox-test" },
          runId: "toolbox-test",
        }),
        ["record-tests", "--report", report.path],
      ),
      "main",
    );

    // Replay the recipe: skip the image's own package installs (this machine has the tools),
    // map the container checkout to a temp directory.
    const checkout = join(temp, "checkout");
    const env = { ...process.env, ...envVariables(step) };
    const fromContainer = (arg: string) =>
      arg === checkoutDir || arg.startsWith(`${checkoutDir}/`)
        ? checkout + arg.slice(checkoutDir.length)
        : arg;
    let cwd = temp;
    for (const op of chainOf(step)) {
      if (op.operation === "withWorkdir") cwd = fromContainer(String(op.args.path));
      if (op.operation === "withNewFile" && String(op.args.path).startsWith(checkoutDir)) {
        const path = fromContainer(String(op.args.path));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, String(op.args.contents));
      }
      if (op.operation !== "withExec") continue;
      const [program, ...args] = (op.args.args as string[]).map(fromContainer);
      if (program === "apt-get") continue;
      const result = await execa(program!, args, { cwd, env, reject: false, all: true });
      expect(result.exitCode, `${program} ${args.join(" ")}\n${result.all}`).toBe(0);
    }
    expect(execs(step).at(-1)).toEqual(["git", "push", "origin", "HEAD:refs/heads/main"]);

    // The verdict is on the remote branch, committed by the pipeline's identity.
    const shown = await execa("git", ["-C", remote, "show", `main:releases/tests/${head}.yaml`]);
    expect(shown.stdout).toContain("kind: test-report");
    expect(shown.stdout).toContain("passed: true");
    expect(shown.stdout).toContain("toolbox-test");
    const author = await execa("git", ["-C", remote, "log", "-1", "--format=%an <%ae>", "main"]);
    expect(author.stdout).toBe("tiers pipeline <tiers-pipeline@users.noreply.invalid>");
  }, 300_000);
});
