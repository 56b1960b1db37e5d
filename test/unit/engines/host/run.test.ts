import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { programFor, runHost } from "../../../../pipelines/src/engines/host/run.ts";
import { redact, SecretStore } from "../../../../pipelines/src/engines/host/secrets.ts";
import { ToolError } from "../../../../pipelines/src/tools/errors.ts";
import { describeInvocation, type Invocation } from "../../../../pipelines/src/tools/invocation.ts";

// These run real child processes (git stands in for any tool: it is on every machine here).
const root = process.cwd();

describe("runHost", () => {
  it("passes a secret to the child as an environment variable, never as an argument", async () => {
    const secrets = new SecretStore({ TOKEN_SOURCE: "s3cr3t-value" }).define("token", {
      env: "TOKEN_SOURCE",
    });
    // `git var GIT_EDITOR` echoes the variable back: proof the value arrived through the
    // environment. What the runner returns must already be redacted.
    const invocation: Invocation = {
      tool: "git",
      args: ["var", "GIT_EDITOR"],
      secretEnv: { GIT_EDITOR: "token" },
    };
    const lines: string[] = [];
    const result = await runHost(invocation, { root, secrets, onLine: (line) => lines.push(line) });
    expect(result.stdout).toBe("***");
    expect(lines).toEqual(["***"]);
    expect(invocation.args.join(" ")).not.toContain("s3cr3t");
    expect(describeInvocation(invocation)).toBe("GIT_EDITOR=<secret> git var GIT_EDITOR");
  });

  it("hands onLine whole lines when a line (or a UTF-8 character) arrives in two chunks", async () => {
    // /bin/sh stands in for the tool (TIERS_GIT_BIN); the pauses force separate chunks.
    const lines: string[] = [];
    await runHost(
      {
        tool: "git",
        args: [
          "-c",
          "printf 'half a '; sleep 0.2; printf 'line\\nsecond \\342\\202'; sleep 0.2; printf '\\254 end'",
        ],
      },
      { root, env: { TIERS_GIT_BIN: "/bin/sh" }, onLine: (line) => lines.push(line) },
    );
    expect(lines).toEqual(["half a line", "second € end"]);
  });

  it("writes secret files privately, rewrites the argument to their path, and removes them", async () => {
    const secrets = new SecretStore().define("cfg", { value: "[core]\n\tabbrev = 11\n" });
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith("tiers-secret-")).length;
    const result = await runHost(
      {
        tool: "git",
        args: ["config", "--file", "/run/secrets/gitconfig", "--get", "core.abbrev"],
        secretFiles: [{ path: "/run/secrets/gitconfig", secret: "cfg" }],
      },
      { root, secrets },
    );
    expect(result.stdout).toBe("11");
    const after = (await readdir(tmpdir())).filter((n) => n.startsWith("tiers-secret-")).length;
    expect(after).toBe(before);
  });

  it("turns a non-zero exit into a ToolError carrying the command, code and output", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiers-run-"));
    const error = await runHost(
      { tool: "git", args: ["rev-parse", "HEAD"], cwd: dir },
      { root },
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect(error.exitCode_).toBe(128);
    expect(error.command).toBe("git rev-parse HEAD");
    expect(error.message).toMatch(/not a git repository/);
  });

  it("reports a missing program as not-found with a hint", async () => {
    const error = await runHost(
      { tool: "cosign", args: ["version"] },
      { root, env: { ...process.env, TIERS_COSIGN_BIN: "/nonexistent/cosign" } },
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect(error.kind).toBe("not-found");
    expect(error.describe()).toMatch(/tiers doctor/);
  });

  it("fails clearly when a needed secret is not provided", async () => {
    const secrets = new SecretStore({}).define("pw", { env: "COSIGN_PASSWORD_SOURCE" });
    await expect(
      runHost(
        { tool: "git", args: ["--version"], secretEnv: { COSIGN_PASSWORD: "pw" } },
        { root, secrets },
      ),
    ).rejects.toThrow(
      /secret "pw" is empty: environment variable COSIGN_PASSWORD_SOURCE is not set/,
    );
  });
});

describe("programFor", () => {
  it("uses Debian's BuildKit-capable docker client regardless of PATH order", () => {
    expect(programFor("docker", {})).toBe("/usr/bin/docker");
  });
  it("honours an explicit override", () => {
    expect(programFor("docker-compose", { TIERS_DOCKER_COMPOSE_BIN: "/opt/dc" })).toBe("/opt/dc");
  });
});

describe("redact", () => {
  it("hides a multi-line secret whole, and each of its lines when they appear apart", () => {
    const secret = "AAAA-line-1\nBBBB-line-2";
    expect(redact(`key:\n${secret}\n`, [secret])).toBe("key:\n***\n");
    expect(redact("got BBBB-line-2 then AAAA-line-1", [secret])).toBe("got *** then ***");
  });
});
