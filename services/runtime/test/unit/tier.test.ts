import { describe, expect, it } from "vitest";
import { assertTier, TierError, tierInfo } from "../../src/index.ts";

/** Settings a prod pod gets from its overlay: tier, runtime, NODE_ENV and mTLS certificates. */
const prodPod = {
  TIERS_TIER: "prod",
  TIERS_RUNTIME: "kubernetes",
  NODE_ENV: "production",
  KUBERNETES_SERVICE_HOST: "10.0.0.1",
  TIERS_TLS_CERT_FILE: "/run/tls/tls.crt",
  TIERS_TLS_KEY_FILE: "/run/tls/tls.key",
  TIERS_TLS_CA_FILE: "/run/tls/ca.crt",
};
const devLaptop = { TIERS_TIER: "dev", TIERS_RUNTIME: "compose", NODE_ENV: "development" };
const plain = { execArgv: [] as string[] };

function refusal(run: () => unknown): TierError {
  try {
    run();
  } catch (error) {
    if (error instanceof TierError) return error;
    throw error;
  }
  throw new Error("expected a TierError, but the tier was accepted");
}

describe("tierInfo reads the tier from the environment", () => {
  it("reads tier, marker, runtime and logging", () => {
    expect(tierInfo({ ...prodPod, TIERS_LOG_LEVEL: "warn" })).toMatchObject({
      tier: "prod",
      marker: "🜄",
      runtime: "kubernetes",
      nodeEnv: "production",
      logLevel: "warn",
      logFormat: "json",
    });
    expect(tierInfo({ TIERS_TIER: "dev" })).toMatchObject({
      marker: "🜂",
      logFormat: "pretty",
      logLevel: "info",
    });
  });

  it("an unset TIERS_TIER is refused, saying how to set it", () => {
    expect(refusal(() => tierInfo({})).message).toBe(
      "refusing to start:\n  - TIERS_TIER is not set; set it to one of dev, test, staging, prod (TIERS_TIER=dev for a local run)",
    );
  });

  it("an unknown tier is refused with the known ones and a suggestion", () => {
    expect(refusal(() => tierInfo({ TIERS_TIER: "production" })).contradictions).toEqual([
      "TIERS_TIER=production is not a known tier (known: dev, test, staging, prod); did you mean prod?",
    ]);
  });

  it("a tier named in TIERS_KNOWN_TIERS is accepted", () => {
    expect(tierInfo({ TIERS_TIER: "qa", TIERS_KNOWN_TIERS: "qa" })).toMatchObject({
      tier: "qa",
      marker: "▸",
    });
  });

  it("bad logging settings are refused", () => {
    expect(
      refusal(() =>
        tierInfo({ TIERS_TIER: "test", TIERS_LOG_LEVEL: "verbose", TIERS_LOG_FORMAT: "xml" }),
      ).contradictions,
    ).toEqual([
      "TIERS_LOG_LEVEL=verbose is not one of debug, info, warn, error",
      "TIERS_LOG_FORMAT=xml is not one of json, pretty",
    ]);
  });
});

describe("assertTier refuses a tier that contradicts where the process runs", () => {
  it("accepts a prod pod with its settings and a dev laptop with the inspector and watch", () => {
    expect(assertTier(prodPod, plain).tier).toBe("prod");
    expect(assertTier(devLaptop, { execArgv: ["--watch", "--inspect=0.0.0.0:9229"] }).tier).toBe(
      "dev",
    );
  });

  it("tier dev started with prod settings", () => {
    const error = refusal(() => assertTier({ ...prodPod, TIERS_TIER: "dev" }, plain));
    expect(error.message).toBe(
      [
        "refusing to start as tier dev:",
        "  - NODE_ENV=production contradicts tier dev, which runs with NODE_ENV=development",
        "  - TIERS_RUNTIME=kubernetes contradicts tier dev, which runs on compose",
        "  - this process runs in a Kubernetes pod (KUBERNETES_SERVICE_HOST is set), but tier dev runs on compose",
      ].join("\n"),
    );
  });

  it("tier prod with the inspector enabled", () => {
    expect(
      refusal(() => assertTier(prodPod, { execArgv: ["--inspect=0.0.0.0:9229"] })).contradictions,
    ).toEqual([
      "the Node inspector is enabled (--inspect=0.0.0.0:9229), but tier prod has no debug ports; remove the flag or run as tier dev",
    ]);
    expect(
      refusal(() => assertTier({ ...prodPod, NODE_OPTIONS: "--inspect-brk" }, plain))
        .contradictions,
    ).toEqual([
      "the Node inspector is enabled (NODE_OPTIONS --inspect), but tier prod has no debug ports; remove the flag or run as tier dev",
    ]);
  });

  it("tier staging with hot reload", () => {
    const staging = { TIERS_TIER: "staging", NODE_ENV: "production", TIERS_RUNTIME: "kubernetes" };
    expect(refusal(() => assertTier(staging, { execArgv: ["--watch"] })).contradictions).toEqual([
      "hot reload is enabled (--watch), but tier staging runs its release image unchanged; remove the flag or run as tier dev",
    ]);
    expect(
      refusal(() => assertTier({ ...staging, TIERS_HOT_RELOAD: "true" }, plain)).contradictions,
    ).toEqual(["TIERS_HOT_RELOAD=true contradicts tier staging, which has no hot reload"]);
  });

  it("tier prod without TLS settings", () => {
    const { TIERS_TLS_KEY_FILE: _, TIERS_TLS_CA_FILE: __, ...withoutKeys } = prodPod;
    expect(refusal(() => assertTier(withoutKeys, plain)).contradictions).toEqual([
      "tier prod requires mTLS, but TIERS_TLS_KEY_FILE, TIERS_TLS_CA_FILE are not set; mount the certificates and set them, or set TIERS_MTLS_PROVIDER=mesh when a service mesh terminates mTLS",
    ]);
    expect(assertTier({ ...withoutKeys, TIERS_MTLS_PROVIDER: "mesh" }, plain).tier).toBe("prod");
    expect(
      refusal(() => assertTier({ ...prodPod, TIERS_MTLS: "false" }, plain)).contradictions,
    ).toEqual(["TIERS_MTLS=false contradicts tier prod, which requires mTLS"]);
  });

  it("tier prod without NODE_ENV (libraries would run in development mode)", () => {
    const { NODE_ENV: _, ...withoutNodeEnv } = prodPod;
    expect(refusal(() => assertTier(withoutNodeEnv, plain)).contradictions).toEqual([
      "NODE_ENV is not set, but prod runs with NODE_ENV=production (libraries default to development mode)",
    ]);
  });

  it("the test tier refuses the inspector, since its configuration has no debug ports", () => {
    const test = { TIERS_TIER: "test", NODE_ENV: "test", TIERS_RUNTIME: "ephemeral" };
    expect(assertTier(test, plain).tier).toBe("test");
    expect(
      refusal(() => assertTier(test, { execArgv: ["--inspect"] })).contradictions,
    ).toHaveLength(1);
  });

  it("an extra tier gets the generic checks from its settings", () => {
    const qa = {
      TIERS_TIER: "qa",
      TIERS_KNOWN_TIERS: "qa",
      TIERS_DEBUG: "false",
      TIERS_MTLS: "true",
    };
    expect(refusal(() => assertTier(qa, { execArgv: ["--inspect"] })).contradictions).toEqual([
      "the Node inspector is enabled (--inspect), but tier qa has no debug ports; remove the flag or run as tier dev",
      "tier qa requires mTLS, but TIERS_TLS_CERT_FILE, TIERS_TLS_KEY_FILE, TIERS_TLS_CA_FILE are not set; mount the certificates and set them, or set TIERS_MTLS_PROVIDER=mesh when a service mesh terminates mTLS",
    ]);
  });
});
