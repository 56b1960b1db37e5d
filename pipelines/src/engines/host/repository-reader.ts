/**
 * How the repository checks (`tiers validate`, `tiers ci generate`, `tiers admission`) and the
 * remembered `tiers status` read the repository: files, directory listings, read-only git
 * queries and the commit HEAD names, through one reader. One
 * reader per command reads each fact once (a second ask gets the first answer), and a reader
 * can record what was read, so an answer computed from those reads can later be proved still
 * valid by reading the same things again (read-trace.ts).
 *
 * A file that exists but cannot be read, or a directory that cannot be listed, is an error
 * naming it, never "absent".
 */
import { TiersError } from "../../core/errors.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import { headCommit } from "./git-head.ts";
import { listDir, readIfExists } from "./repository-files.ts";
import { runHost } from "./run.ts";

export interface RepositoryReader {
  readonly root: string;
  /** The file's text (path relative to the root), or undefined when it does not exist. */
  text(file: string): Promise<string | undefined>;
  /** The names of the directories (`dirs`) or files in `dir`, sorted; [] when it does not exist. */
  names(dir: string, dirs: boolean): Promise<string[]>;
  /**
   * A read-only tool query (git ls-tree, …), its failure returned, not thrown. It takes no
   * secret and no input: what it prints must be a function of its arguments and the repository.
   */
  query(invocation: Invocation): Promise<ToolResult>;
  /**
   * The commit HEAD names, read from git's files (git-head.ts), or undefined when they do not
   * say it for sure. Everything git reads at that commit is named by it.
   */
  head(): Promise<string | undefined>;
}

/** One fact a reader was asked for; `key` names it, `answer` is what the repository said. */
export type Read =
  | { kind: "text"; file: string }
  | { kind: "names"; dir: string; dirs: boolean }
  | { kind: "query"; tool: Invocation["tool"]; args: readonly string[]; cwd?: string }
  | { kind: "head" };

export type Answer = string | undefined | string[] | ToolResult;

/** Performs one read against the repository at `root`, as the host reader does. */
export async function perform(root: string, read: Read): Promise<Answer> {
  switch (read.kind) {
    case "text":
      return readIfExists(root, read.file);
    case "names":
      return listDir(root, read.dir, read.dirs);
    case "query":
      return runHost(
        { tool: read.tool, args: read.args, ...(read.cwd ? { cwd: read.cwd } : {}) },
        { root, reject: false },
      );
    case "head":
      return headCommit(root);
  }
}

/** The read an invocation is, refusing one that carries a secret or input (never recorded). */
function queryRead(invocation: Invocation): Read {
  if (invocation.secretEnv || invocation.secretFiles || invocation.stdin !== undefined) {
    throw new TiersError(
      `${invocation.tool} ${invocation.args.join(" ")} takes a secret or input, so it is not a repository query`,
    );
  }
  return {
    kind: "query",
    tool: invocation.tool,
    args: invocation.args,
    ...(invocation.cwd ? { cwd: invocation.cwd } : {}),
  };
}

/**
 * A reader of the repository at `root` that reads each fact once. `onRead` sees every distinct
 * read with its answer, in the order they were first asked (what read-trace.ts records).
 */
export function hostReader(
  root: string,
  onRead?: (read: Read, answer: Answer) => void,
): RepositoryReader {
  const asked = new Map<string, Promise<Answer>>();
  const once = (read: Read): Promise<Answer> => {
    const key = JSON.stringify(read);
    let answer = asked.get(key);
    if (!answer) {
      answer = perform(root, read).then((value) => {
        onRead?.(read, value);
        return value;
      });
      asked.set(key, answer);
    }
    return answer;
  };
  return {
    root,
    text: async (file) => (await once({ kind: "text", file })) as string | undefined,
    names: async (dir, dirs) => (await once({ kind: "names", dir, dirs })) as string[],
    query: async (invocation) => (await once(queryRead(invocation))) as ToolResult,
    head: async () => (await once({ kind: "head" })) as string | undefined,
  };
}
