import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { deadlineOf, runHost } from "../../../../pipelines/src/engines/host/run.ts";
import { ToolError } from "../../../../pipelines/src/tools/errors.ts";

// A real child process stands in for a hung tool: `sh` is run under the tool name `git` through
// the runner's own TIERS_GIT_BIN override, so the git limit (TIERS_TIMEOUT_GIT) applies.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("runHost deadline (bounded waits)", () => {
  it("kills a call past its limit with its whole process group and says tool, host and limit", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiers-deadline-"));
    try {
      const pidFile = join(dir, "grandchild.pid");
      const error = await runHost(
        {
          tool: "git",
          // A grandchild that would outlive its parent if only the parent were killed.
          args: ["-c", `sleep 300 & echo $! > ${pidFile}; wait`],
          target: "git.example.test",
        },
        { root: dir, env: { TIERS_GIT_BIN: "/bin/sh", TIERS_TIMEOUT_GIT: "1s" } },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ToolError);
      const failure = error as ToolError;
      expect(failure.kind).toBe("timeout");
      expect(failure.where).toBe("git.example.test");
      expect(failure.message).toContain("git talking to git.example.test did not finish within 1s");
      expect(failure.message).toContain("TIERS_TIMEOUT_GIT");
      const grandchild = Number(await readFile(pidFile, "utf8"));
      // No orphan: the sleep went down with its group (poll: reaping is asynchronous).
      await vi.waitFor(() => expect(alive(grandchild)).toBe(false), { timeout: 10_000 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("takes an invocation's own deadline over the table's, and rejects a bad override, naming it", () => {
    expect(deadlineOf({ tool: "kubectl", args: [], deadlineMs: 90_000 }, {}).text).toBe("90s");
    expect(deadlineOf({ tool: "skopeo", args: [] }, {}).text).toBe("10s");
    expect(() =>
      deadlineOf({ tool: "skopeo", args: [] }, { TIERS_TIMEOUT_SKOPEO: "soon" }),
    ).toThrow(/TIERS_TIMEOUT_SKOPEO: "soon" is not a positive duration/);
  });
});
