/** What the tests of `tiers infra` and of the deploy's infra step share: git and terraform's environment. */
import { execFileSync } from "node:child_process";

/** Runs git in `dir` and returns its trimmed stdout. */
export const git = (dir: string, ...args: string[]) =>
  execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();

/** The environment terraform and the engine see: no CI, a quiet CLI config, a fixed actor. */
export function infraTestEnv(actor: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: "/dev/null",
    TIERS_ACTOR: actor,
  };
  for (const k of ["GITHUB_ACTIONS", "GITHUB_ENVIRONMENT", "GITLAB_CI", "CI_ENVIRONMENT_NAME"])
    delete e[k];
  return { ...e, ...extra };
}
