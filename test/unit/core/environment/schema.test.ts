import { describe, expect, it } from "vitest";
import { type Problem, validateSources } from "../../../../pipelines/src/core/environment/index.ts";
import { asSources, edit, fixtureFiles, locate, removeLine } from "./fixtures.ts";

function validateWith(change: (files: Record<string, string>) => void) {
  const files = fixtureFiles();
  change(files);
  return { files, result: validateSources(asSources(files)) };
}

function only(problems: Problem[]): Problem {
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

describe("schema errors name the original file:line:col, the key path and what was expected", () => {
  it("an unknown key is reported at the key, with a suggestion when it is a likely typo", () => {
    const { files, result } = validateWith((f) => {
      f["staging.yaml"] = edit(f["staging.yaml"]!, "    replicas: 2", "    replica: 2");
    });
    expect(result.model).toBeUndefined();
    expect(only(result.problems)).toEqual({
      file: "environments/staging.yaml",
      ...locate(files["staging.yaml"]!, "    replica: 2", "replica"),
      path: "services.api.replica",
      rule: "schema/unknown-key",
      tier: "staging",
      message: 'unknown key "replica" in services.api (did you mean "replicas"?)',
    });
  });

  it("an unknown key with no close match lists the keys that are allowed there", () => {
    const { files, result } = validateWith((f) => {
      f["test.yaml"] = edit(f["test.yaml"]!, "logging:\n", "logging:\n  colour: always\n");
    });
    expect(only(result.problems)).toMatchObject({
      file: "environments/test.yaml",
      ...locate(files["test.yaml"]!, "colour: always", "colour"),
      path: "logging.colour",
      message: 'unknown key "colour" in logging; expected one of: level, format',
    });
  });

  it("an unknown top-level key in base.yaml is reported once, at base.yaml, for all tiers", () => {
    const { files, result } = validateWith((f) => {
      f["base.yaml"] = edit(f["base.yaml"]!, "project: tiers", "project: tiers\nregistri: {}");
    });
    expect(only(result.problems)).toEqual({
      file: "environments/base.yaml",
      ...locate(files["base.yaml"]!, "registri: {}", "registri"),
      path: "registri",
      rule: "schema/unknown-key",
      message: 'unknown key "registri" at the top level (did you mean "registry"?)',
    });
  });

  it("a wrong type says what was expected and what was found", () => {
    const { files, result } = validateWith((f) => {
      f["prod.yaml"] = edit(f["prod.yaml"]!, "    replicas: 3", '    replicas: "three"');
    });
    expect(only(result.problems)).toEqual({
      file: "environments/prod.yaml",
      ...locate(files["prod.yaml"]!, 'replicas: "three"', '"three"'),
      path: "services.api.replicas",
      rule: "schema/type",
      tier: "prod",
      message: 'services.api.replicas: expected a number, got the string "three"',
    });
  });

  it("a value outside an enumeration lists the allowed values and suggests the closest", () => {
    const { files, result } = validateWith((f) => {
      f["prod.yaml"] = edit(f["prod.yaml"]!, "strategy: blue-green", "strategy: blue_green");
    });
    expect(only(result.problems)).toMatchObject({
      file: "environments/prod.yaml",
      ...locate(files["prod.yaml"]!, "strategy: blue_green", "blue_green"),
      path: "deploy.strategy",
      rule: "schema/invalid-value",
      message:
        'deploy.strategy: expected one of recreate, rolling, blue-green, got the string "blue_green" (did you mean "blue-green"?)',
    });
  });

  it("a missing key is reported in the tier file that should add it", () => {
    const { files, result } = validateWith((f) => {
      f["test.yaml"] = removeLine(f["test.yaml"]!, "runtime: ephemeral");
    });
    expect(only(result.problems)).toEqual({
      file: "environments/test.yaml",
      // The tier file's top-level mapping starts at its first key.
      ...locate(files["test.yaml"]!, "tier: test"),
      path: "runtime",
      rule: "schema/required",
      tier: "test",
      message: 'missing required key "runtime" (expected one of compose, ephemeral, kubernetes)',
    });
  });

  it("a cross-field rule (signing mode keyless without identity) is located at the mapping", () => {
    const { files, result } = validateWith((f) => {
      f["staging.yaml"] = edit(
        f["staging.yaml"]!,
        "  identity:\n    subject: https://github.com/tiers-dev/tiers/.github/workflows/release.yml@refs/heads/main\n    issuer: https://token.actions.githubusercontent.com\n",
        "",
      );
    });
    expect(only(result.problems)).toMatchObject({
      file: "environments/staging.yaml",
      ...locate(files["staging.yaml"]!, "  required: true", "required"),
      path: "signing.identity",
      message: 'signing.identity: mode "keyless" needs identity: { subject, issuer }',
    });
  });

  it("mTLS on needs a provider (mesh or files)", () => {
    const { files, result } = validateWith((f) => {
      f["prod.yaml"] = edit(f["prod.yaml"]!, "mtls_provider: mesh", "mtls_provider: none");
    });
    expect(only(result.problems)).toEqual({
      file: "environments/prod.yaml",
      ...locate(files["prod.yaml"]!, "mtls_provider: none", "none"),
      path: "network.mtls_provider",
      rule: "schema/invalid-value",
      tier: "prod",
      message:
        'network.mtls_provider: features.mtls is on, so say who provides it: "mesh" or "files"',
    });
  });

  it("a secret reference with an unknown scheme names the accepted schemes", () => {
    const { files, result } = validateWith((f) => {
      f["prod.yaml"] = edit(f["prod.yaml"]!, '{ ref: "vault:kv/', '{ ref: "hashi:kv/');
    });
    expect(only(result.problems)).toMatchObject({
      file: "environments/prod.yaml",
      ...locate(files["prod.yaml"]!, '{ ref: "hashi:kv/', '"hashi'),
      path: "secrets.database_url.ref",
      rule: "schema/invalid-value",
      message:
        'secrets.database_url.ref: expected a secret reference "<scheme>:<path>" with scheme one of env, file, vault, aws-sm, gcp-sm, azure-kv, got the string "hashi:kv/tiers/prod/database#url"',
    });
  });

  it("a YAML syntax error names the file, line and column and stops only that file", () => {
    const { result } = validateWith((f) => {
      f["dev.yaml"] = edit(f["dev.yaml"]!, "runtime: compose", "runtime: [compose");
    });
    const problem = only(result.problems);
    expect(problem).toMatchObject({ file: "environments/dev.yaml", rule: "yaml/syntax" });
    expect(problem.message).toMatch(/^YAML syntax error: /);
    // The parser notices the unclosed list on the line after it starts.
    const runtimeLine = locate(fixtureFiles()["dev.yaml"]!, "runtime: compose").line;
    expect(problem.line).toBeGreaterThanOrEqual(runtimeLine);
    expect(problem.line).toBeLessThanOrEqual(runtimeLine + 1);
  });

  it("a duplicate key is a YAML error at the second occurrence", () => {
    const { files, result } = validateWith((f) => {
      f["prod.yaml"] = edit(
        f["prod.yaml"]!,
        "runtime: kubernetes",
        "runtime: kubernetes\nruntime: compose",
      );
    });
    expect(only(result.problems)).toEqual({
      file: "environments/prod.yaml",
      ...locate(files["prod.yaml"]!, "runtime: compose"),
      path: "",
      rule: "yaml/syntax",
      message: "YAML syntax error: map keys must be unique",
      tier: "prod",
    });
  });

  it("a tier file that is not a mapping says so", () => {
    const { result } = validateWith((f) => {
      f["test.yaml"] = "- tier: test\n";
    });
    expect(only(result.problems)).toEqual({
      file: "environments/test.yaml",
      line: 1,
      column: 1,
      path: "",
      rule: "schema/type",
      message: "expected a mapping of keys at the top of environments/test.yaml, got a list",
      tier: "test",
    });
  });

  it("every problem is reported in one pass, sorted by file and line", () => {
    const { result } = validateWith((f) => {
      f["prod.yaml"] = edit(f["prod.yaml"]!, "mtls: true", "mtls: nope");
      f["dev.yaml"] = edit(f["dev.yaml"]!, "level: debug", "level: loud");
      f["staging.yaml"] = edit(f["staging.yaml"]!, "hot_reload: false", "hot_reload: true");
    });
    expect(result.problems.map((p) => [p.file, p.rule])).toEqual([
      ["environments/dev.yaml", "schema/invalid-value"],
      ["environments/prod.yaml", "schema/type"],
      ["environments/staging.yaml", "policy/no-dev-features"],
    ]);
  });
});

describe("tier files", () => {
  it("a tier file's tier: must match its file name", () => {
    const { files, result } = validateWith((f) => {
      f["staging.yaml"] = edit(f["staging.yaml"]!, "tier: staging", "tier: stage");
    });
    expect(only(result.problems)).toEqual({
      file: "environments/staging.yaml",
      ...locate(files["staging.yaml"]!, "tier: stage", "stage"),
      path: "tier",
      rule: "tier/name-mismatch",
      tier: "staging",
      message:
        'tier is the string "stage" but the file is environments/staging.yaml; a tier file is named after its tier, so set tier: staging or rename the file',
    });
  });

  it("the marker defaults from core/markers.ts when a tier file leaves it out", () => {
    const { result } = validateWith((f) => {
      f["test.yaml"] = edit(f["test.yaml"]!, "marker: 🜁\n", "");
    });
    expect(result.problems).toEqual([]);
    expect(result.model?.tiers.test?.marker).toBe("🜁");
  });

  it("a tier without a default marker must declare one", () => {
    const { files, result } = validateWith((f) => {
      f["qa.yaml"] = edit(f["test.yaml"]!, "tier: test\nmarker: 🜁\n", "tier: qa\n");
      f["staging.yaml"] = edit(f["staging.yaml"]!, "from: test", "from: qa");
      f["qa.yaml"] = edit(f["qa.yaml"]!, "from: dev", "from: test");
    });
    expect(only(result.problems)).toMatchObject({
      file: "environments/qa.yaml",
      ...locate(files["qa.yaml"]!, "tier: qa"),
      path: "marker",
      rule: "schema/required",
      message:
        'missing required key "marker" (expected a string); tier "qa" has no default marker, so set one, e.g. marker: "◆"',
    });
  });

  it("base.yaml may not declare keys that describe one tier", () => {
    const { files, result } = validateWith((f) => {
      f["base.yaml"] = `${f["base.yaml"]}promotion:\n  from: null\n`;
    });
    expect(only(result.problems)).toEqual({
      file: "environments/base.yaml",
      ...locate(files["base.yaml"]!, "promotion:"),
      path: "promotion",
      rule: "tier/key-in-base",
      message:
        '"promotion" describes one tier, so it belongs in each tier file, not in environments/base.yaml',
    });
  });

  it("a tier file may not rename the project", () => {
    const { files, result } = validateWith((f) => {
      f["prod.yaml"] = `project: tiers-prod\n${f["prod.yaml"]}`;
    });
    expect(only(result.problems)).toEqual({
      file: "environments/prod.yaml",
      ...locate(files["prod.yaml"]!, "project: tiers-prod", "project"),
      path: "project",
      rule: "tier/key-in-tier-file",
      tier: "prod",
      message:
        '"project" is the same for every tier (resource names and images derive from it), so set it in environments/base.yaml only',
    });
  });

  it("a missing base.yaml is reported", () => {
    const files = fixtureFiles();
    delete files["base.yaml"];
    const problems = validateSources(asSources(files)).problems;
    expect(problems).toContainEqual(
      expect.objectContaining({ file: "environments/base.yaml", rule: "files/missing" }),
    );
  });
});

describe("YAML features inside one file", () => {
  it("anchors and merge keys work, and a value from an anchor is located at its definition", () => {
    const files = fixtureFiles();
    files["base.yaml"] = edit(
      files["base.yaml"]!,
      "    resources:\n      requests: { cpu: 100m, memory: 128Mi }\n      limits: { cpu: 500m, memory: 256Mi }\n",
      "    resources: &api_resources\n      requests: { cpu: 100m, memory: 128Mi }\n      limits: { cpu: 500m, memory: 256Mi }\n",
    );
    files["prod.yaml"] = edit(
      files["prod.yaml"]!,
      "  worker:\n    replicas: 2\n",
      "  worker:\n    resources:\n      <<: *api_resources\n      limits: { cpu: 1x, memory: 512Mi }\n    replicas: 2\n",
    );
    // An alias cannot reach across files, so prod's merge key fails to resolve there.
    expect(validateSources(asSources(files)).problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(files["prod.yaml"]!, "<<: *api_resources", "*api_resources"),
        path: "",
        rule: "yaml/syntax",
        message:
          "YAML alias *api_resources refers to no anchor &api_resources in this file (anchors do not reach across files)",
        tier: "prod",
      },
    ]);

    const local = fixtureFiles();
    local["prod.yaml"] = edit(
      local["prod.yaml"]!,
      "services:\n  api:\n    resources:\n      requests: { cpu: 250m, memory: 256Mi }",
      "services:\n  api:\n    resources: &big\n      requests: { cpu: 250m, memory: 256Mi }",
    );
    local["prod.yaml"] = edit(
      local["prod.yaml"]!,
      "  worker:\n    replicas: 2\n",
      "  worker:\n    resources:\n      <<: *big\n      limits: { cpu: 1x, memory: 512Mi }\n    replicas: 2\n",
    );
    const result = validateSources(asSources(local));
    expect(result.problems).toEqual([
      expect.objectContaining({
        file: "environments/prod.yaml",
        ...locate(local["prod.yaml"]!, "limits: { cpu: 1x", "1x"),
        path: "services.worker.resources.limits.cpu",
        rule: "schema/invalid-value",
      }),
    ]);
    // A bad value inside the anchored mapping is reported once, where the anchor defines it.
    const anchored = local["prod.yaml"]!.replace("cpu: 1x", 'cpu: "2"');
    const inAnchor = anchored.replace(
      "requests: { cpu: 250m, memory: 256Mi }",
      "requests: { cpu: 250m, memory: 256MB }",
    );
    expect(validateSources(asSources({ ...local, "prod.yaml": inAnchor })).problems).toEqual([
      expect.objectContaining({
        ...locate(inAnchor, "requests: { cpu: 250m, memory: 256MB }", "256MB"),
        path: "services.api.resources.requests.memory",
      }),
      expect.objectContaining({
        ...locate(inAnchor, "requests: { cpu: 250m, memory: 256MB }", "256MB"),
        path: "services.worker.resources.requests.memory",
      }),
    ]);
    local["prod.yaml"] = anchored;
    const fixed = validateSources(asSources(local));
    expect(fixed.problems).toEqual([]);
    expect(fixed.model?.tiers.prod?.services.worker?.resources).toEqual({
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "2", memory: "512Mi" },
    });
  });

  it("a .yml file is reported, not silently ignored", () => {
    const files = fixtureFiles();
    const sources = [...asSources(files), { file: "environments/qa.yml", text: "tier: qa\n" }];
    expect(validateSources(sources).problems).toEqual([
      {
        file: "environments/qa.yml",
        line: 1,
        column: 1,
        path: "",
        rule: "files/name",
        message:
          "environment files end in .yaml; rename environments/qa.yml to environments/qa.yaml",
      },
    ]);
  });
});
