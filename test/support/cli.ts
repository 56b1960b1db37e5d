import { vi } from "vitest";
import { main } from "../../pipelines/src/surfaces/cli/main.ts";

/**
 * Runs `tiers <args>` in-process, the way a user's shell would run it, and captures what it
 * prints and its exit code. In-process keeps CLI tests fast; the real process is covered by the
 * tests that spawn `tiers` (terminal.ts, the integration tests).
 */
export async function tiers(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(["node", "tiers", ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
