/**
 * The infra stage's pure decisions. Action lists and `before` values follow terraform's JSON
 * plan format (https://developer.hashicorp.com/terraform/internals/json-format, "Change
 * Representation"); test/integration/infra.test.ts reads them from the real terraform.
 */
import { describe, expect, it } from "vitest";
import {
  backendConfig,
  type ChangeLike,
  effectOf,
  protectionOf,
  secretNameDrift,
  summarise,
} from "../../../../pipelines/src/core/infra/plan.ts";
import { parseProviderDownloadFailure } from "../../../../pipelines/src/tools/terraform.ts";

const change = (over: Partial<ChangeLike>): ChangeLike => ({
  address: "x.y",
  type: "x",
  module: "",
  actions: ["delete"],
  before: {},
  ...over,
});

describe("plan summary", () => {
  it("maps terraform's action lists, both replace orders included", () => {
    expect(effectOf(["create"])).toBe("add");
    expect(effectOf(["update"])).toBe("change");
    expect(effectOf(["delete"])).toBe("destroy");
    expect(effectOf(["delete", "create"])).toBe("replace");
    expect(effectOf(["create", "delete"])).toBe("replace");
    expect(() => effectOf(["forget"])).toThrow(/unknown terraform plan action list \[forget\]/);
  });

  it("marks removals of state, deletion-protected and Object Lock resources as protected", () => {
    expect(protectionOf(change({ module: "module.state" }))).toMatch(/Terraform state/);
    expect(
      protectionOf(change({ type: "aws_db_instance", before: { deletion_protection: true } })),
    ).toMatch(/deletion protection/);
    expect(
      protectionOf(
        change({ type: "aws_dynamodb_table", before: { deletion_protection_enabled: true } }),
      ),
    ).toMatch(/deletion protection/);
    expect(
      protectionOf(change({ type: "aws_s3_bucket", before: { object_lock_enabled: true } })),
    ).toMatch(/Object Lock bucket/);
    expect(protectionOf(change({ type: "aws_s3_bucket_object_lock_configuration" }))).toMatch(
      /Object Lock configuration/,
    );
    expect(
      protectionOf(change({ type: "aws_db_instance", before: { deletion_protection: false } })),
    ).toBeUndefined();
  });

  it("counts per effect, leaves reads and no-ops out, flags only removals", () => {
    const s = summarise(
      [
        change({ address: "a", actions: ["create"], module: "module.state", before: null }),
        change({ address: "b", actions: ["update"], before: { deletion_protection: true } }),
        change({
          address: "c",
          actions: ["delete", "create"],
          before: { deletion_protection: true },
        }),
        change({ address: "d", actions: ["no-op"] }),
        change({ address: "e", actions: ["read"] }),
      ],
      { budget_monthly_usd: 500, budget_alert_thresholds: [50, 100] },
    );
    expect(s.counts).toEqual({ add: 1, change: 1, destroy: 0, replace: 1 });
    expect(s.resources.map((r) => [r.address, r.effect, r.protected !== null])).toEqual([
      ["a", "add", false],
      ["b", "change", false],
      ["c", "replace", true],
    ]);
    expect(s.budget).toEqual({ monthly_usd: 500, alert_thresholds: [50, 100] });
  });
});

describe("backend and consistency", () => {
  it("passes S3 bucket, key, region, lock table and encryption; a local path absolute", () => {
    expect(
      backendConfig(
        {
          state: {
            backend: "s3",
            bucket: "tiers-prod-state",
            key: "tiers/prod.tfstate",
            region: "eu-west-1",
            lock_table: "tiers-prod-state-lock",
            encrypt: true,
          },
        },
        "/repo",
      ),
    ).toEqual({
      bucket: "tiers-prod-state",
      key: "tiers/prod.tfstate",
      region: "eu-west-1",
      dynamodb_table: "tiers-prod-state-lock",
      encrypt: "true",
    });
    expect(
      backendConfig({ state: { backend: "local", path: ".tiers/infra/dev.tfstate" } }, "/repo/"),
    ).toEqual({ path: "/repo/.tiers/infra/dev.tfstate" });
  });

  it("secret names must equal the tier config's secret keys, order aside", () => {
    expect(secretNameDrift(["b", "a"], ["a", "b"])).toBeUndefined();
    expect(secretNameDrift(["a"], ["a", "b"])).toMatch(
      /\[a\] differ from the tier config's secrets \[a, b\]/,
    );
    expect(secretNameDrift(undefined, ["a"])).toMatch(/missing/);
  });
});

describe("terraform init without registry access", () => {
  it("names the provider from terraform's own message (captured on this machine)", () => {
    // Real stderr of `terraform init` in terraform/live here; message text from terraform's
    // internal/command/init.go ("Could not retrieve the list of available versions for provider").
    const stderr = `Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider hashicorp/aws:
could not connect to registry.terraform.io: failed to request discovery
document: Get "https://registry.terraform.io/.well-known/terraform.json":
dial tcp: lookup registry.terraform.io on 10.255.255.53:53: no such host`;
    expect(parseProviderDownloadFailure(stderr)).toEqual(["hashicorp/aws"]);
    expect(parseProviderDownloadFailure("Error: Invalid backend configuration")).toEqual([]);
    expect(
      parseProviderDownloadFailure(
        "Error while installing hashicorp/random v3.6.0: checksum mismatch",
      ),
    ).toEqual(["hashicorp/random"]);
  });
});
