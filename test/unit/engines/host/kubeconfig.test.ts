/**
 * The one kubeconfig resolution, for `tiers deploy` and promotion's deploy step: the flag, then
 * TIERS_KUBECONFIG, then the first file of KUBECONFIG (kubectl reads a colon-separated list:
 * https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/),
 * then ~/.kube/config.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deployKubeconfig,
  findKubeconfig,
  kubeconfigCandidates,
} from "../../../../pipelines/src/engines/host/kubeconfig.ts";

let dir: string;
let tiers: string;
let kube: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-kubeconfig-"));
  tiers = join(dir, "tiers.yaml");
  kube = join(dir, "kube.yaml");
  await writeFile(tiers, "apiVersion: v1\n");
  await writeFile(kube, "apiVersion: v1\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the kubeconfig a deploy uses", () => {
  it("honours TIERS_KUBECONFIG before KUBECONFIG, for deploy and promotion alike", () => {
    const env = { TIERS_KUBECONFIG: tiers, KUBECONFIG: `${kube}:/elsewhere` };
    expect(findKubeconfig(env)).toBe(tiers);
    expect(deployKubeconfig(env)).toBe(tiers);
    expect(deployKubeconfig(env, "/flag.yaml")).toBe("/flag.yaml");
  });

  it("takes the first file of KUBECONFIG, skipping a TIERS_KUBECONFIG that does not exist", () => {
    const env = { TIERS_KUBECONFIG: join(dir, "missing.yaml"), KUBECONFIG: `${kube}:/elsewhere` };
    expect(findKubeconfig(env)).toBe(kube);
  });

  it("tries the candidates in that order, ~/.kube/config last", () => {
    const missing = join(dir, "missing.yaml");
    expect(kubeconfigCandidates({ TIERS_KUBECONFIG: missing, KUBECONFIG: `${kube}:/x` })).toEqual([
      missing,
      kube,
      join(homedir(), ".kube", "config"),
    ]);
  });
});
