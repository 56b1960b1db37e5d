/**
 * npm's own SBOM generator: `npm sbom` (npm >= 10, docs/lib/content/commands/npm-sbom.md and
 * lib/commands/sbom.js of npm/cli). With `--package-lock-only` it reads the lock file alone, so
 * it runs offline and describes exactly what `npm ci` installs from that lock.
 *
 * No `--omit dev`: with `--workspace`, npm's selector `#<ws> *:not(.dev)` (lib/commands/sbom.js)
 * also drops production dependencies a dev dependency shares (seen here: pg-types and
 * pg-protocol vanished from the sample API's SBOM). npm marks every dev or optional dependency
 * `scope: optional` instead (lib/utils/sbom-cyclonedx.js), which is what readers go by.
 */
import { TiersError } from "../core/errors.ts";
import { cycloneDxSchema } from "../core/promotion/security.ts";
import type { Invocation, ToolResult } from "./invocation.ts";

/** `npm sbom --sbom-format cyclonedx` of one workspace, from the lock file only. */
export function sbom(workspace: string): Invocation {
  return {
    tool: "npm",
    args: [
      "sbom",
      "--sbom-format",
      "cyclonedx",
      "--sbom-type",
      "application",
      "--package-lock-only",
      "--offline",
      "--workspace",
      workspace,
    ],
    env: { npm_config_update_notifier: "false", npm_config_fund: "false" },
    target: workspace,
  };
}

/** A failed `npm sbom`, with what to do for the failures seen in practice. */
export function sbomError(workspace: string, result: ToolResult): TiersError {
  const output = `${result.stderr}\n${result.stdout}`;
  const first = output.match(/npm error (?!code)(.+)/)?.[1]?.trim() ?? output.trim().split("\n")[0];
  // npm builds each component's purl from name@version (lib/utils/sbom-cyclonedx.js, npa.toPurl):
  // a package.json without "version" is a range, which it refuses.
  const hint = /EINVALIDPURLTYPE/.test(output)
    ? 'npm sbom needs a "version" in every package.json it lists (the workspace root included); add one, e.g. "version": "0.0.0"'
    : /ENOLOCK|package lock or shrinkwrap file is required/.test(output)
      ? "commit package-lock.json: the SBOM is made from the lock file the image installs"
      : "run the same `npm sbom` by hand to see why";
  return new TiersError(`npm sbom of ${workspace} failed: ${first}`, { where: workspace, hint });
}

/**
 * The BOM of a finished `npm sbom` run, whichever engine ran it: the CycloneDX JSON as npm
 * printed it (newline-terminated), or a located error for a failed run or output that is no BOM.
 */
export function sbomOutput(workspace: string, result: ToolResult): string {
  if (result.exitCode !== 0) throw sbomError(workspace, result);
  let data: unknown;
  try {
    data = JSON.parse(result.stdout);
  } catch (error) {
    throw new TiersError(`npm sbom of ${workspace} printed no JSON: ${(error as Error).message}`, {
      where: workspace,
    });
  }
  if (!cycloneDxSchema.safeParse(data).success) {
    throw new TiersError(`npm sbom of ${workspace} printed no CycloneDX BOM`, { where: workspace });
  }
  return `${result.stdout.trimEnd()}\n`;
}
