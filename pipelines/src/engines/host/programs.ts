/** Which binary the host runs for each tool: the one fact every runner and `tiers doctor` share. */
import type { ToolName } from "../../tools/invocation.ts";

/**
 * Program paths. Debian's docker client (/usr/bin/docker) is the one that builds with BuildKit;
 * another client earlier on PATH may lack buildx, so the host runner never relies on PATH order
 * for docker. Override any of them with TIERS_<TOOL>_BIN (e.g. TIERS_DOCKER_BIN).
 */
export function programFor(tool: ToolName, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[`TIERS_${tool.toUpperCase().replace(/-/g, "_")}_BIN`];
  if (override) return override;
  if (tool === "docker") return "/usr/bin/docker";
  return tool;
}
