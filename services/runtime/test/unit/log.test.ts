import { describe, expect, it } from "vitest";
import { createLogger, type LogLevel } from "../../src/index.ts";

const at = new Date("2026-11-22T03:04:05.678Z");

function capture(env: Record<string, string>) {
  const lines: Array<[LogLevel, string]> = [];
  const log = createLogger({
    service: "api",
    env,
    now: () => at,
    write: (line, level) => lines.push([level, line]),
  });
  return { log, lines };
}

describe("the tier logger", () => {
  it("json: the marker, then one JSON object per line", () => {
    const { log, lines } = capture({ TIERS_TIER: "prod" });
    log.info("listening", { port: 8080 });
    expect(lines).toEqual([
      [
        "info",
        '🜄 {"time":"2026-11-22T03:04:05.678Z","level":"info","tier":"prod","service":"api","msg":"listening","port":8080}',
      ],
    ]);
    const [marker, ...json] = lines[0]![1].split(" ");
    expect(marker).toBe("🜄");
    expect(JSON.parse(json.join(" "))).toMatchObject({ msg: "listening" });
  });

  it("pretty: the marker, time, level, service, message and fields", () => {
    const { log, lines } = capture({ TIERS_TIER: "dev" });
    log.warn("slow query", { ms: 1200, table: "jobs" });
    expect(lines).toEqual([["warn", "🜂 03:04:05.678 warn  api: slow query ms=1200 table=jobs"]]);
  });

  it("drops lines below TIERS_LOG_LEVEL and keeps bound fields", () => {
    const { log, lines } = capture({
      TIERS_TIER: "test",
      TIERS_LOG_LEVEL: "warn",
      TIERS_LOG_FORMAT: "pretty",
    });
    const request = log.with({ request: "r-1" });
    request.info("ignored");
    request.error("failed", { error: new Error("boom") });
    expect(lines.map(([, l]) => l)).toEqual([
      '🜁 03:04:05.678 error api: failed request=r-1 error={"name":"Error","message":"boom"}',
    ]);
  });

  it("uses a declared TIERS_MARKER", () => {
    const { log, lines } = capture({
      TIERS_TIER: "qa",
      TIERS_KNOWN_TIERS: "qa",
      TIERS_MARKER: "◆",
    });
    log.info("hello");
    expect(lines[0]![1].startsWith("◆ {")).toBe(true);
  });
});
