import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  environmentFileJsonSchema,
  jsonSchemaFile,
} from "../../../../pipelines/src/core/environment/json-schema.ts";
import { rules } from "../../../../pipelines/src/core/environment/problems.ts";
import { repoRoot } from "./fixtures.ts";

const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

describe("docs/environments/index.md", () => {
  it("the index documents every rule id", () => {
    const index = read("docs/environments/index.md");
    for (const rule of Object.values(rules)) expect(index).toContain(`\`${rule}\``);
  });
});

describe("the JSON Schema editors use", () => {
  it("docs/environments/tier-file.schema.json is what `tiers validate --print-schema` prints", () => {
    expect(
      JSON.parse(read(jsonSchemaFile)),
      "regenerate it: npx tiers validate --print-schema > docs/environments/tier-file.schema.json",
    ).toEqual(JSON.parse(environmentFileJsonSchema()));
  });

  it("rejects unknown keys and leaves every key optional, since a file holds part of a tier", () => {
    const schema = JSON.parse(environmentFileJsonSchema());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toBeUndefined();
    expect(schema.properties.features.additionalProperties).toBe(false);
    expect(schema.properties.runtime.enum).toEqual(["compose", "ephemeral", "kubernetes"]);
  });
});
