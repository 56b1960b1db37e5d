/**
 * The revision a Dagger build is labelled and tagged with, and why it can only be HEAD.
 *
 * Images are built from the module's `source` directory: the checkout's working tree. So the
 * only commit they may name is the one that tree is at. A `--commit` is therefore an assertion
 * (CI passes the SHA it was triggered for): refused unless it is HEAD, never a way to label the
 * working tree with another commit. Dagger's `head().tree()` is a depth-1 checkout by default
 * (dagger core/schema/git.go `Depth int default:"1"`), so an older commit is not even there to
 * read. The dirty check always runs: a tree with uncommitted changes is tagged `-dirty` and is
 * never published, whatever `--commit` says.
 */
import type { Directory, GitRepository } from "@dagger.io/dagger";
import { fullCommit, type Revision } from "../../core/artefact.ts";
import { UsageError } from "../../core/errors.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";

/**
 * The commit to build: HEAD, after checking that a given `--commit` names it. Pure, so the
 * rule is tested without an engine.
 */
export function commitToBuild(head: string, given?: string): string {
  const checkedOut = fullCommit(head, "HEAD");
  if (given === undefined || given.trim() === "") return checkedOut;
  const asked = fullCommit(given);
  if (asked !== checkedOut) {
    throw new UsageError(
      `--commit ${asked} is not the checked-out HEAD (${checkedOut}): images are built from the working tree, so they can only carry its own commit`,
      {
        where: "--commit",
        hint: "check out that commit first (CI: the checkout step does), or leave --commit out",
      },
    );
  }
  return checkedOut;
}

/** HEAD of `repo`, its commit time, the dirty flag and the source URL, read in the engine. */
export async function headRevision(
  repo: GitRepository,
  options: {
    commit?: string | undefined;
    /** The remote for the `org.opencontainers.image.source` label. */
    source: () => Promise<string>;
    run: (invocation: Invocation, tree: Directory) => Promise<ToolResult>;
  },
): Promise<Revision> {
  const head = repo.head();
  const commit = commitToBuild(await head.commit(), options.commit);
  // Same question the host engine asks git (engines/host/build.ts readRevision); HEAD is in
  // the depth-1 tree, which keeps its .git (tree(discardGitDir: false) by default).
  const shown = await options.run(
    { tool: "git", args: ["show", "-s", "--format=%ct", commit] },
    head.tree(),
  );
  const committedAt = new Date(Number(shown.stdout.trim()) * 1000).toISOString();
  const dirty = !(await repo.uncommitted().isEmpty());
  return { commit, committedAt, dirty, source: await options.source() };
}
