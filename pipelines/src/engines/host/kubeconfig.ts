/**
 * The kubeconfig a deploy uses, for `tiers deploy` and for promotion's deploy step alike:
 * TIERS_KUBECONFIG, else the first file of KUBECONFIG (kubectl reads a colon-separated list),
 * else ~/.kube/config (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/).
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where a kubeconfig may be, in the order they are tried. */
export function kubeconfigCandidates(env: NodeJS.ProcessEnv): string[] {
  return [
    env.TIERS_KUBECONFIG,
    env.KUBECONFIG?.split(":")[0],
    join(homedir(), ".kube", "config"),
  ].filter((p): p is string => Boolean(p));
}

/** The kubeconfig the deploy step would use, if one exists on this machine. */
export function findKubeconfig(env: NodeJS.ProcessEnv): string | undefined {
  return kubeconfigCandidates(env).find((p) => existsSync(p));
}

/**
 * The kubeconfig `tiers deploy` reads: the flag, else the first candidate that exists, else the
 * first candidate (so the error names the file it looked for).
 */
export function deployKubeconfig(env: NodeJS.ProcessEnv, flag?: string): string {
  return flag ?? findKubeconfig(env) ?? kubeconfigCandidates(env)[0]!;
}
