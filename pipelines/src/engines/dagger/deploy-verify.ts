/**
 * The Dagger module's deploy verifies the same pins the host's does, with the same decision
 * (core/promotion/pin-verdict.ts) and the same fact gathering (engines/host/deploy-verify.ts):
 * only where the facts come from differs. Records and the overlay are read from the module's
 * filtered checkout (no .git there; in CI it is the checked-out commit's files), the registry
 * through skopeo in its pinned image, signatures through cosign in its pinned image.
 */
import type { EnvironmentModel } from "../../core/environment/index.ts";
import { firstLine } from "../../core/errors.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import * as registryTool from "../../tools/registry.ts";
import { type DeployVerifier, overlayPins, pinFacts, readOverlay } from "../host/deploy-verify.ts";
import type { RegistryReader } from "../host/promotion/sources.ts";
import { workingTreeRecords } from "../host/promotion/sources.ts";
import { DaggerCosignEvidence } from "./evidence.ts";
import type { DaggerSecrets } from "./secrets.ts";

/** The registry as skopeo in its image sees it (same parsing and errors as the host reader). */
export function daggerRegistry(
  run: (invocation: Invocation) => Promise<ToolResult>,
): RegistryReader {
  return {
    async inspect(ref) {
      const invocation = registryTool.inspect(ref);
      try {
        const result = await run(invocation);
        if (result.exitCode !== 0) {
          const error = registryTool.registryError(
            invocation,
            result,
            registryTool.registryOf(ref),
          );
          return { ok: false, why: `${firstLine(error)} (${ref})` };
        }
        return { ok: true, value: registryTool.parseInspect(result.stdout) };
      } catch (error) {
        return { ok: false, why: `cannot inspect ${ref}: ${firstLine(error)}` };
      }
    },
  };
}

/** The deploy verifier of the Dagger module over the checkout at `root`. */
export function daggerDeployVerifier(
  root: string,
  run: (invocation: Invocation) => Promise<ToolResult>,
  secrets: DaggerSecrets,
): DeployVerifier {
  return async (tier: string, model: EnvironmentModel) =>
    pinFacts(model, tier, overlayPins(model, tier, await readOverlay(root, tier)), {
      records: workingTreeRecords(root),
      registry: daggerRegistry(run),
      verifier: new DaggerCosignEvidence({ project: model.project, run, secrets }),
    });
}
