import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  ConfigError,
  deepMerge,
  imageRepository,
  loadModel,
  resourceName,
  runtimeEnvironment,
  secretSource,
  validateRepository,
  validateSources,
} from "../../../../pipelines/src/core/environment/index.ts";
import { parseSource } from "../../../../pipelines/src/core/environment/source.ts";
import { TiersError } from "../../../../pipelines/src/core/errors.ts";
import { nextTier, previousTier } from "../../../../pipelines/src/core/promotion/chain.ts";
import { asSources, fixtureFiles, fixtureRepo } from "./fixtures.ts";

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), "tiers-env-"));
  temps.push(dir);
  cpSync(join(fixtureRepo, "environments"), join(dir, "environments"), { recursive: true });
  return dir;
}

describe("deep merge of a tier file over base.yaml", () => {
  const merge = (base: string, over: string) =>
    deepMerge(parseSource("b.yaml", base).located!, parseSource("t.yaml", over).located!);

  it("merges mappings key by key and keeps where each value came from", () => {
    const merged = merge("a:\n  x: 1\n  y: 2\n", "a:\n  y: 3\n  z: 4\n");
    expect(merged.value).toEqual({ a: { x: 1, y: 3, z: 4 } });
    const a = merged.origin.children!.get("a")!.children!;
    expect(a.get("x")!.origin).toMatchObject({ file: "b.yaml", at: { line: 2, column: 6 } });
    expect(a.get("y")!.origin).toMatchObject({ file: "t.yaml", at: { line: 2, column: 6 } });
    expect(a.get("z")!.origin).toMatchObject({ file: "t.yaml", at: { line: 3, column: 6 } });
  });

  it("replaces lists and scalars whole, and null sets null", () => {
    const merged = merge(
      "on: [health, smoke]\nn: 1\nimage: x\n",
      "on: [smoke]\nn: two\nimage: null\n",
    );
    expect(merged.value).toEqual({ on: ["smoke"], n: "two", image: null });
  });

  it("replaces each secret entry whole, so a reference is never half base, half tier", () => {
    const merged = merge(
      "secrets:\n  db: { ref: 'env:DB' }\n",
      "secrets:\n  db: { value: local }\n",
    );
    expect(merged.value).toEqual({ secrets: { db: { value: "local" } } });
  });

  it("does not modify its inputs", () => {
    const base = parseSource("b.yaml", "a: { x: 1 }\n").located!;
    deepMerge(base, parseSource("t.yaml", "a: { x: 2 }\n").located!);
    expect(base.value).toEqual({ a: { x: 1 } });
  });
});

describe("the environment model of the fixture repository", () => {
  it("has its four tiers in promotion order with their markers", async () => {
    const model = await loadModel(fixtureRepo);
    expect(model.project).toBe("tiers");
    expect(model.order).toEqual(["dev", "test", "staging", "prod"]);
    expect(model.order.map((t) => model.tiers[t]!.marker)).toEqual(["🜂", "🜁", "🜃", "🜄"]);
  });

  it("keeps what the other areas' tests rely on", async () => {
    const model = await loadModel(fixtureRepo);
    const { dev, test, staging, prod } = model.tiers;
    expect(dev!.services.api!.ports).toEqual({ http: 8080, debug: 9229 });
    expect(dev!.services.worker!.ports.debug).toBe(9230);
    expect(dev!.network.bind_address).toBe("127.0.0.1");
    expect(dev!.features).toMatchObject({ hot_reload: true, debug_ports: true });
    expect(test!.features).toMatchObject({ ephemeral: true, fixtures: true });
    expect(staging!.deploy.strategy).toBe("rolling");
    expect(staging!.approvals).toEqual({ required: 1, source: "ci-environment" });
    expect(prod!.deploy.strategy).toBe("blue-green");
    expect(prod!.approvals).toEqual({ required: 2, source: "ci-environment" });
    expect(prod!.features).toMatchObject({ mtls: true, persistence: true });
    expect(prod!.signing).toMatchObject({
      required: true,
      mode: "keyless",
      identity: { issuer: "https://token.actions.githubusercontent.com" },
    });
  });

  it("names resources <project>-<tier>-<service> and images <host>/<namespace>/<service>", async () => {
    const model = await loadModel(fixtureRepo);
    expect(resourceName(model.project, "staging", "api")).toBe("tiers-staging-api");
    expect(imageRepository(model, "prod", "worker")).toBe("127.0.0.1:5000/tiers/worker");
  });

  it("answers the tier before and after, from the configured order", async () => {
    const model = await loadModel(fixtureRepo);
    expect(previousTier(model, "prod")).toBe("staging");
    expect(previousTier(model, "dev")).toBeUndefined();
    expect(nextTier(model, "dev")).toBe("test");
    expect(nextTier(model, "prod")).toBeUndefined();
    expect(() => nextTier(model, "qa")).toThrow(/unknown tier "qa"; declared tiers: dev, test/);
  });

  it("derives the runtime environment a service of a tier starts with", async () => {
    const model = await loadModel(fixtureRepo);
    expect(runtimeEnvironment(model, "prod")).toEqual({
      TIERS_TIER: "prod",
      TIERS_MARKER: "🜄",
      TIERS_RUNTIME: "kubernetes",
      TIERS_LOG_LEVEL: "info",
      TIERS_LOG_FORMAT: "json",
      TIERS_MTLS: "true",
      TIERS_MTLS_PROVIDER: "mesh",
      TIERS_HOT_RELOAD: "false",
      TIERS_DEBUG: "false",
      NODE_ENV: "production",
      // observability and flags (core/observability/runtime-environment.ts)
      TIERS_METRICS_ENABLED: "true",
      TIERS_METRICS_PATH: "/metrics",
      TIERS_TRACING_ENABLED: "true",
      TIERS_TRACING_ENDPOINT: "env:OTEL_EXPORTER_OTLP_ENDPOINT",
      TIERS_TRACING_SAMPLE_RATE: "0.05",
      TIERS_LOG_DESTINATION: "cloudwatch",
      TIERS_FLAG_PAUSE_ENQUEUE: "false",
      TIERS_FLAG_VERBOSE_ERRORS: "false",
    });
  });

  it("validateSources is pure: the same strings give the same model", () => {
    const a = validateSources(asSources(fixtureFiles()));
    const b = validateSources(asSources(fixtureFiles()));
    expect(a).toEqual(b);
  });
});

describe("loading from a repository root", () => {
  it("loadModel throws a ConfigError (a TiersError) listing every located problem", async () => {
    const dir = copyOfRepository();
    writeFileSync(
      join(dir, "environments/prod.yaml"),
      fixtureFiles()["prod.yaml"]!.replace("mtls: true", "mtls: false"),
    );
    const error = await loadModel(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(TiersError);
    const config = error as ConfigError;
    expect(config.exitCode).toBe(1);
    expect(config.problems).toHaveLength(1);
    expect(config.message).toMatch(
      /^environment configuration has 1 problem:\nenvironments\/prod\.yaml:\d+:\d+: prod requires mtls/,
    );
  });

  it("a repository without environments/ reports the missing files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tiers-env-"));
    temps.push(dir);
    const { model, problems } = await validateRepository(dir);
    expect(model).toBeUndefined();
    expect(problems.map((p) => p.rule)).toEqual(["files/missing", "files/missing"]);
  });
});

describe("helpers other areas use", () => {
  it("imageRepository strips tag and digest from a given image, keeping a registry port", async () => {
    const files = fixtureFiles();
    files["dev.yaml"] = `${files["dev.yaml"]}\n`.replace(
      "  worker:\n    build: { target: development }",
      `  worker:\n    build: { target: development }\n  metrics:\n    image: 127.0.0.1:5000/tools/metrics:v1@sha256:${"b".repeat(64)}\n    ports: { http: 9102 }\n    health: { liveness: /m, readiness: /m }\n    resources: { requests: { cpu: 10m, memory: 32Mi }, limits: { cpu: 50m, memory: 64Mi } }\n    replicas: 1\n    autoscaling: { enabled: false, min: 1, max: 1, target_cpu: 80 }`,
    );
    const { model, problems } = validateSources(asSources(files));
    expect(problems).toEqual([]);
    expect(imageRepository(model!, "dev", "metrics")).toBe("127.0.0.1:5000/tools/metrics");
    expect(() => imageRepository(model!, "dev", "cache")).toThrow(
      /unknown service "cache" in dev; declared: api, worker, metrics/,
    );
  });

  it("secretSource tells references from literals", () => {
    expect(secretSource({ ref: "vault:kv/tiers/prod/database#url" })).toEqual({
      reference: { scheme: "vault", path: "kv/tiers/prod/database#url" },
    });
    expect(secretSource("env:DATABASE_URL")).toEqual({
      reference: { scheme: "env", path: "DATABASE_URL" },
    });
    expect(secretSource("postgresql://tiers:tiers@postgres/tiers")).toEqual({
      literal: "postgresql://tiers:tiers@postgres/tiers",
    });
    expect(secretSource({ value: "s3cret" })).toEqual({ literal: "s3cret" });
  });
});
