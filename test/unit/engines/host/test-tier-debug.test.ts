/**
 * The pure parts of debugging a failed test-tier run: the per-service log bound and its note,
 * the printed command lines, and which flag combinations are refused. What runs against Docker
 * (keeping a service, the shell, the printed commands) is in
 * test/integration/test-tier-debug.test.ts.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../../pipelines/src/core/errors.ts";
import { memorySink, Reporter } from "../../../../pipelines/src/core/log.ts";
import {
  afterFailedRun,
  boundedLog,
  commandLine,
  type FailedRun,
  failureModeOf,
  requireTerminal,
} from "../../../../pipelines/src/engines/host/test-tier-debug.ts";
import * as compose from "../../../../pipelines/src/tools/compose.ts";

describe("boundedLog", () => {
  it("keeps a log that fits whole, one line per line", () => {
    expect(boundedLog("svc", ["a", "b"], 100)).toEqual({
      text: "a\nb\n",
      bytes: 4,
      truncated: false,
    });
  });

  it("keeps the first quarter and the last three quarters, whole lines, and says what is missing", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, "0")}`);
    const kept = boundedLog("svc", lines, 200);
    expect(kept.truncated).toBe(true);
    expect(kept.bytes).toBe(900);
    const out = kept.text.trimEnd().split("\n");
    // 9 bytes a line: 5 whole lines fit in 50 bytes, 16 in 150.
    expect(out[0]).toBe(
      "[tiers: truncated: the log of svc is 900 bytes; a report keeps 200 per service (TIERS_LIMIT_REPORT_LOG_BYTES); 79 line(s), 711 bytes, cut after line 5]",
    );
    expect(out.slice(1, 6)).toEqual(lines.slice(0, 5));
    expect(out[6]).toBe("[tiers: 79 line(s), 711 bytes omitted here]");
    expect(out.slice(7)).toEqual(lines.slice(84));
  });

  it("counts bytes, not characters", () => {
    expect(boundedLog("svc", ["€"], 3).truncated).toBe(true);
    expect(boundedLog("svc", ["€"], 4).truncated).toBe(false);
  });
});

describe("commandLine", () => {
  it("prints a compose invocation a shell reads back as the same words", () => {
    const project = { name: "p-test-1", files: ["/r/compose.yaml", "/r/my dir/compose.test.yaml"] };
    expect(commandLine(compose.exec(project, "svc", ["sh", "-c", "echo 'hi' && exit"]))).toBe(
      "docker-compose --project-name p-test-1 --file /r/compose.yaml --file '/r/my dir/compose.test.yaml' exec svc sh -c 'echo '\\''hi'\\'' && exit'",
    );
    expect(commandLine(compose.logs({ ...project, flavour: "v2" }))).toMatch(
      /^docker compose --project-name p-test-1 .* logs --no-color$/,
    );
  });
});

describe("the debug flags", () => {
  it("--interactive and --keep-on-failure exclude each other", () => {
    expect(failureModeOf({})).toBeUndefined();
    expect(failureModeOf({ interactive: true })).toBe("interactive");
    expect(failureModeOf({ keepOnFailure: true })).toBe("keep");
    expect(() => failureModeOf({ interactive: true, keepOnFailure: true })).toThrow(UsageError);
  });

  it("--interactive needs a terminal on stdin and stdout, naming the tier it was asked for", () => {
    const tty = { isTTY: true };
    expect(() => requireTerminal("qa", { stdin: tty, stdout: tty })).not.toThrow();
    for (const streams of [
      { stdin: {}, stdout: tty },
      { stdin: tty, stdout: {} },
    ]) {
      expect(() => requireTerminal("qa", streams)).toThrow(
        /tiers env qa run --interactive needs a terminal/,
      );
    }
  });
});

describe("afterFailedRun (injected runner: what Docker would answer is faked here)", () => {
  const base = async (overrides: Partial<FailedRun> = {}) => {
    const root = await mkdtemp(join(tmpdir(), "tiers-debug-"));
    const sink = memorySink();
    const calls: string[] = [];
    const failed: FailedRun = {
      root,
      tier: "qa",
      id: "abcd1234",
      reporter: new Reporter({ sink }),
      project: { name: "p-test-abcd1234", files: ["compose/compose.yaml"] },
      outcome: "failed",
      suiteOutputs: new Map([["svc", ["one", "two"]]]),
      failed: ["svc"],
      keptLabel: "p.kept",
      run: async (invocation) => {
        calls.push(invocation.args.join(" "));
        throw new Error("compose up refused");
      },
      states: async () => new Map(),
      env: {},
      ...overrides,
    };
    return { root, sink, calls, failed };
  };

  it("writes the suites' logs even when the topology cannot be read, and says so", async () => {
    const { root, sink, failed } = await base();
    const result = await afterFailedRun(failed);
    expect(result).toEqual({
      kept: false,
      logs: [
        {
          service: "svc",
          file: ".tiers/reports/test-abcd1234/svc.log",
          bytes: 8,
          truncated: false,
        },
      ],
    });
    expect(await readFile(join(root, result.logs[0]!.file), "utf8")).toBe("one\ntwo\n");
    expect(sink.errors.join("\n")).toMatch(
      /the logs of p-test-abcd1234's other services are not kept/,
    );
  });

  it("a service that cannot be kept means a normal teardown, with the reason, never a throw", async () => {
    const { sink, calls, failed } = await base({ mode: "keep" });
    expect((await afterFailedRun(failed)).kept).toBe(false);
    expect(calls.some((call) => /up --detach --no-build --no-deps svc$/.test(call))).toBe(true);
    expect(sink.errors.join("\n")).toMatch(
      /could not keep the failed service for debugging \(compose up refused\): tearing down/,
    );
  });

  it("logs that cannot be written are a warning, and the teardown still follows", async () => {
    const { root, sink, failed } = await base();
    // A file where the reports folder should be: nothing can be written below it.
    await writeFile(join(root, ".tiers"), "");
    expect(await afterFailedRun(failed)).toEqual({ kept: false, logs: [] });
    expect(sink.errors.join("\n")).toMatch(/the failed run's logs could not be kept/);
  });
});
