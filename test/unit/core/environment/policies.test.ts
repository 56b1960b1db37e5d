import { describe, expect, it } from "vitest";
import { type Problem, validateSources } from "../../../../pipelines/src/core/environment/index.ts";
import { asSources, edit, fixtureFiles, locate, removeLine } from "./fixtures.ts";

/** Validates the fixture repository's files with `change` applied, returning the problems. */
function problemsAfter(change: (files: Record<string, string>) => void): Problem[] {
  const files = fixtureFiles();
  change(files);
  return validateSources(asSources(files)).problems;
}

describe("tier policies (each violation is located in the file the value came from)", () => {
  it("the fixture repository's environments pass every policy", () => {
    expect(validateSources(asSources(fixtureFiles())).problems).toEqual([]);
  });

  it("staging may not enable hot reload", () => {
    let staging = "";
    const problems = problemsAfter((f) => {
      staging = f["staging.yaml"] = edit(
        f["staging.yaml"]!,
        "hot_reload: false",
        "hot_reload: true",
      );
    });
    expect(problems).toEqual([
      {
        file: "environments/staging.yaml",
        ...locate(staging, "hot_reload: true", "true"),
        path: "features.hot_reload",
        rule: "policy/no-dev-features",
        tier: "staging",
        message:
          "staging may not enable hot_reload: it runs the promoted release image unchanged; set features.hot_reload: false",
      },
    ]);
  });

  it("prod may not enable debug ports", () => {
    let prod = "";
    const problems = problemsAfter((f) => {
      prod = f["prod.yaml"] = edit(f["prod.yaml"]!, "debug_ports: false", "debug_ports: true");
    });
    expect(problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(prod, "debug_ports: true", "true"),
        path: "features.debug_ports",
        rule: "policy/no-dev-features",
        tier: "prod",
        message:
          "prod may not enable debug_ports: an open inspector port runs arbitrary code; set features.debug_ports: false",
      },
    ]);
  });

  it("a dev feature inherited from base.yaml is reported at base.yaml, once per release tier", () => {
    let base = "";
    const problems = problemsAfter((f) => {
      base = f["base.yaml"] = `${f["base.yaml"]}\nfeatures:\n  hot_reload: true\n`;
      // staging and prod no longer say hot_reload themselves, so they inherit base's value.
      f["staging.yaml"] = removeLine(f["staging.yaml"]!, "  hot_reload: false");
      f["prod.yaml"] = removeLine(f["prod.yaml"]!, "  hot_reload: false");
    });
    const at = locate(base, "hot_reload: true", "true");
    expect(problems.map((p) => [p.file, p.line, p.column, p.rule, p.tier])).toEqual([
      ["environments/base.yaml", at.line, at.column, "policy/no-dev-features", "prod"],
      ["environments/base.yaml", at.line, at.column, "policy/no-dev-features", "staging"],
    ]);
  });

  it("staging and prod may not run the development build target", () => {
    let prod = "";
    const problems = problemsAfter((f) => {
      prod = f["prod.yaml"] = edit(
        f["prod.yaml"]!,
        "  worker:\n    replicas: 2",
        "  worker:\n    build: { target: development }\n    replicas: 2",
      );
    });
    expect(problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(prod, "build: { target: development }", "development"),
        path: "services.worker.build.target",
        rule: "policy/no-dev-features",
        tier: "prod",
        message: "prod may not run the development build of worker; use target: production",
      },
    ]);
  });

  it("prod requires mTLS", () => {
    let prod = "";
    const problems = problemsAfter((f) => {
      prod = f["prod.yaml"] = edit(f["prod.yaml"]!, "mtls: true", "mtls: false");
    });
    expect(problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(prod, "mtls: false", "false"),
        path: "features.mtls",
        rule: "policy/prod-mtls",
        tier: "prod",
        message:
          "prod requires mtls: traffic between services must be mutually authenticated; set features.mtls: true",
      },
    ]);
  });

  it("prod requires persistence", () => {
    let prod = "";
    const problems = problemsAfter((f) => {
      prod = f["prod.yaml"] = edit(f["prod.yaml"]!, "persistence: true", "persistence: false");
    });
    expect(problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(prod, "persistence: false", "false"),
        path: "features.persistence",
        rule: "policy/prod-persistence",
        tier: "prod",
        message:
          "prod requires persistence: its data must survive a restart; set features.persistence: true",
      },
    ]);
  });

  it("staging may not run an image by a mutable tag, even one inherited from base.yaml", () => {
    const files = fixtureFiles();
    const base = files["base.yaml"]!;
    files["staging.yaml"] = edit(
      files["staging.yaml"]!,
      "    provided_by: managed # provisioned by terraform/ with staging.tfvars\n    image: null",
      "    provided_by: container",
    );
    expect(validateSources(asSources(files)).problems).toEqual([
      {
        file: "environments/base.yaml",
        ...locate(base, "image: postgres:15-bookworm", "postgres:15"),
        path: "dependencies.postgres.image",
        rule: "policy/immutable-image",
        tier: "staging",
        message:
          'staging may not run image "postgres:15-bookworm" by a mutable tag; pin it by digest (postgres@sha256:<digest>) or build it here so the pipeline promotes its digest',
      },
    ]);
  });

  const extraService = (image: string) => `
  metrics:
    image: ${image}
    ports: { http: 9102 }
    health: { liveness: /metrics, readiness: /metrics }
    resources:
      requests: { cpu: 10m, memory: 32Mi }
      limits: { cpu: 50m, memory: 64Mi }
    replicas: 1
    autoscaling: { enabled: false, min: 1, max: 1, target_cpu: 80 }`;

  it("prod may not run a service image by tag, but may by digest", () => {
    const tagged = "127.0.0.1:5000/tiers/metrics:v0.26.0";
    let prod = "";
    const problems = problemsAfter((f) => {
      prod = f["prod.yaml"] = edit(
        f["prod.yaml"]!,
        "services:",
        `services:${extraService(tagged)}`,
      );
    });
    expect(problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(prod, `image: ${tagged}`, tagged),
        path: "services.metrics.image",
        rule: "policy/immutable-image",
        tier: "prod",
        message: `prod may not run image "${tagged}" by a mutable tag; pin it by digest (127.0.0.1:5000/tiers/metrics@sha256:<digest>) or build it here so the pipeline promotes its digest`,
      },
    ]);

    const pinned = `127.0.0.1:5000/tiers/metrics@sha256:${"a".repeat(64)}`;
    expect(
      problemsAfter((f) => {
        f["prod.yaml"] = edit(f["prod.yaml"]!, "services:", `services:${extraService(pinned)}`);
      }),
    ).toEqual([]);
  });

  it("prod may not hold a secret as a literal string", () => {
    let prod = "";
    const problems = problemsAfter((f) => {
      prod = f["prod.yaml"] = edit(
        f["prod.yaml"]!,
        'database_url: { ref: "vault:kv/tiers/prod/database#url" }',
        'database_url: "postgresql://tiers:hunter2@db:5432/tiers"',
      );
    });
    expect(problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(prod, "database_url: ", '"postgresql'),
        path: "secrets.database_url",
        rule: "policy/secret-reference",
        tier: "prod",
        message:
          'prod may not hold secret "database_url" as a literal value; reference it instead, e.g. { ref: "vault:kv/tiers/prod/database_url" } (schemes: env, file, vault, aws-sm, gcp-sm, azure-kv)',
      },
    ]);
  });

  it("staging may not hold a secret as { value }, while dev may hold a throwaway literal", () => {
    let staging = "";
    const problems = problemsAfter((f) => {
      staging = f["staging.yaml"] = edit(
        f["staging.yaml"]!,
        'database_url: { ref: "vault:kv/tiers/staging/database#url" }',
        'database_url: { value: "s3cret" }',
      );
    });
    expect(problems).toEqual([
      expect.objectContaining({
        file: "environments/staging.yaml",
        ...locate(staging, "database_url: { value", "{ value"),
        rule: "policy/secret-reference",
        tier: "staging",
      }),
    ]);
    // dev.yaml holds a literal local password; the fixture files pass (first test).
    expect(fixtureFiles()["dev.yaml"]).toContain('database_url: "postgresql://tiers:tiers@');
  });

  it("a string secret that names a known scheme counts as a reference", () => {
    expect(
      problemsAfter((f) => {
        f["prod.yaml"] = edit(
          f["prod.yaml"]!,
          'database_url: { ref: "vault:kv/tiers/prod/database#url" }',
          'database_url: "aws-sm:tiers/prod/database_url"',
        );
      }),
    ).toEqual([]);
  });
});

describe("which tiers the policies bind comes from the model, not from tier names", () => {
  /** The fixture with `from` renamed to `to` (file, tier: and every promotion.from). */
  const renamed = (files: Record<string, string>, from: string, to: string) => {
    files[`${to}.yaml`] = files[`${from}.yaml`]!.replace(`tier: ${from}`, `tier: ${to}`);
    delete files[`${from}.yaml`];
    for (const name of Object.keys(files)) {
      files[name] = files[name]!.replace(`from: ${from} `, `from: ${to} `);
    }
  };

  it("the end of the chain is the production tier, whatever it is called", () => {
    const problems = problemsAfter((f) => {
      renamed(f, "prod", "live");
      f["live.yaml"] = edit(f["live.yaml"]!, "mtls: true", "mtls: false");
    });
    expect(problems.map((p) => [p.tier, p.rule])).toEqual([["live", "policy/prod-mtls"]]);
  });

  it("every Kubernetes tier is a release tier, and a compose tier is not", () => {
    const problems = problemsAfter((f) => {
      renamed(f, "staging", "qa");
      f["qa.yaml"] = edit(f["qa.yaml"]!, "hot_reload: false", "hot_reload: true");
    });
    expect(problems.map((p) => [p.tier, p.rule])).toEqual([["qa", "policy/no-dev-features"]]);
    // dev is the chain's start on compose: hot reload is its point, not a violation.
    expect(fixtureFiles()["dev.yaml"]).toContain("hot_reload: true");
  });
});
