/**
 * The git remote under Dagger: where promotions clone and push, and what images name as their
 * `org.opencontainers.image.source`.
 *
 * `GitRepository.url` is only set for a repository Dagger fetched from a remote (dagger
 * core/git.go sets `repo.URL` for the remote backend only); the module's own checkout, loaded
 * through `defaultPath`, has none. So the remote is an explicit setting (`--git-remote`) or the
 * `origin` of the checkout's own git config, read with git from the `.git/config` file the
 * module receives as a `File` with `defaultPath` — the same question the host engine asks
 * (`git remote get-url origin`, engines/host/build.ts).
 */
import { type Directory, dag, type File } from "@dagger.io/dagger";
import { TiersError, UsageError } from "../../core/errors.ts";
import * as gitTool from "../../tools/git.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";

/** Where the checkout's git config is placed for the git tool (inside the mounted source). */
export const gitConfigPath = "git/config";

/** The git invocation that prints `remote.origin.url` of the config file at `gitConfigPath`. */
export function originInvocation(): Invocation {
  return gitTool.configGetFrom(gitConfigPath, "remote.origin.url");
}

/** The directory the origin invocation runs in: just the config file. */
export function originSource(gitConfig: File): Directory {
  return dag.directory().withFile(gitConfigPath, gitConfig);
}

/**
 * The remote as a credential-free https URL. CI checkouts may carry a token in the URL
 * (GitLab's runner clones `https://gitlab-ci-token:<token>@host/…`): it must never reach an
 * image label or a log. scp-like and ssh:// remotes become https, because the toolbox
 * authenticates with an https token header, never an ssh key.
 */
export function publicRemote(url: string): string {
  const trimmed = url.trim();
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)(.+)$/.exec(trimmed);
  if (scp && !/^[a-z][\w+.-]*:\/\//i.test(trimmed)) return `https://${scp[1]}/${scp[2]}`;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new UsageError(`the git remote "${redact(trimmed)}" is not a URL`, {
      hint: "pass --git-remote https://<host>/<owner>/<repo>.git",
    });
  }
  // WHATWG URLs cannot switch a non-special scheme (ssh:) to https: rebuild; the ssh port goes.
  if (parsed.protocol === "ssh:" || parsed.protocol === "git:") {
    parsed = new URL(`https://${parsed.hostname}${parsed.pathname}`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new UsageError(`the git remote ${redact(trimmed)} is not an https URL`, {
      hint: "pass --git-remote https://<host>/<owner>/<repo>.git",
    });
  }
  parsed.username = "";
  parsed.password = "";
  return parsed.toString();
}

/** A URL with any `user:password@` part replaced, for error messages. */
function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//<credentials>@");
}

/**
 * The remote: the explicit setting, else `origin` as git reads it from the checkout's config.
 * Fails closed, naming the file, when neither exists: nothing is cloned or labelled with a
 * made-up source.
 */
export async function resolveRemote(options: {
  explicit?: string | undefined;
  gitConfig?: File | undefined;
  run: (invocation: Invocation, source: Directory) => Promise<ToolResult>;
}): Promise<string> {
  if (options.explicit?.trim()) return publicRemote(options.explicit);
  const hint =
    "pass --git-remote https://<host>/<owner>/<repo>.git (before the function name), or run from a checkout whose .git/config has an origin";
  if (!options.gitConfig) {
    throw new UsageError("no git remote: --git-remote is not set and no .git/config was given", {
      where: ".git/config",
      hint,
    });
  }
  const result = await options.run(originInvocation(), originSource(options.gitConfig));
  const url = result.stdout.trim();
  if (result.exitCode === 1 && url === "") {
    throw new UsageError("the checkout's git config has no remote.origin.url", {
      where: ".git/config",
      hint,
    });
  }
  if (result.exitCode !== 0) {
    throw new TiersError(
      `git could not read remote.origin.url (exit ${result.exitCode}): ${result.stderr.trim()}`,
      { where: ".git/config", hint },
    );
  }
  return publicRemote(url);
}
