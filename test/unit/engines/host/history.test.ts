import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock } from "../../../../pipelines/src/engines/host/history.ts";

/** A real pid that is dead: a child spawned, exited and reaped (so `kill(pid, 0)` says ESRCH). */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  const pid = child.pid!;
  await new Promise((resolve) => child.on("exit", resolve));
  return pid;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function leaveLock(holder: object): Promise<string> {
  const path = join(dir, "tiers-promotion.lock");
  await writeFile(
    path,
    `${JSON.stringify({ since: "2026-01-01T00:00:00.000Z", what: "promote prod", ...holder })}\n`,
  );
  return path;
}

describe("the promotion lock", () => {
  it("takes over a lock whose holder died on this host, and says so", async () => {
    const pid = await deadPid();
    const path = await leaveLock({ pid, host: hostname() });
    const notices: string[] = [];
    const lock = await acquireLock(dir, "promote staging", (m) => notices.push(m));
    try {
      expect(notices).toEqual([
        expect.stringMatching(
          new RegExp(
            `took over a stale promotion lock \\(promote prod, pid ${pid} on .*: its process is no longer running`,
          ),
        ),
      ]);
      expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({
        pid: process.pid,
        what: "promote staging",
      });
    } finally {
      await lock.release();
    }
  });

  it("refuses while the holder is alive on this host", async () => {
    const child = spawn("sleep", ["30"]);
    try {
      const path = await leaveLock({ pid: child.pid, host: hostname() });
      await expect(acquireLock(dir, "promote staging", () => undefined)).rejects.toThrow(
        new RegExp(`another promotion is in progress \\(promote prod, pid ${child.pid}`),
      );
      expect(JSON.parse(await readFile(path, "utf8")).pid).toBe(child.pid);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("refuses a holder on another host even when that pid is free here", async () => {
    const pid = await deadPid();
    await leaveLock({ pid, host: `not-${hostname()}` });
    await expect(acquireLock(dir, "promote staging", () => undefined)).rejects.toThrow(
      /another promotion is in progress/,
    );
  });

  it("refuses a lock it cannot read", async () => {
    await writeFile(join(dir, "tiers-promotion.lock"), "{ not json");
    await expect(acquireLock(dir, "x", () => undefined)).rejects.toThrow(
      /another promotion is in progress; nothing was changed/,
    );
  });
});
