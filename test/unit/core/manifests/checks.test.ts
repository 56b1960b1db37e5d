import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type EnvironmentModel,
  loadModel,
  runtimeEnvironment,
} from "../../../../pipelines/src/core/environment/index.ts";
import type { Tier } from "../../../../pipelines/src/core/environment/schema.ts";
import {
  checkDrift,
  checkPolicies,
  checkRendered,
  formatFinding,
  type KubeObject,
  type ManifestFinding,
  parseManifests,
  remoteRefOf,
  renderManifests,
  validateSchemas,
} from "../../../../pipelines/src/core/manifests/index.ts";
import { clone, digest, fixtureObjects, get } from "./fixture.ts";

// The fixture repository, not the shipped sample: these checks hold for any tier model.
const root = fileURLToPath(new URL("../../../fixtures/repo/", import.meta.url));
let model: EnvironmentModel;
let staging: Tier;
let prod: Tier;
const fixture = (tier: Tier) => fixtureObjects(tier, runtimeEnvironment(model, tier.tier));
const rules = (findings: ManifestFinding[]) => [...new Set(findings.map((f) => f.rule))].sort();

beforeAll(async () => {
  model = await loadModel(root);
  staging = model.tiers.staging!;
  prod = model.tiers.prod!;
});

describe("a correct overlay", () => {
  it("passes schema, policies and drift for staging and prod", () => {
    for (const tier of [staging, prod]) {
      const findings = checkRendered(fixture(tier), tier, {
        runtimeEnvironment: runtimeEnvironment(model, tier.tier),
      });
      expect(findings.map(formatFinding)).toEqual([]);
    }
  });

  it("survives a round trip through YAML", () => {
    const objects = fixture(prod);
    expect(parseManifests(renderManifests(objects), "test")).toEqual(objects);
  });
});

describe("Kubernetes schema validation (offline)", () => {
  it("rejects a wrong type with the object and JSON path", () => {
    const objects = fixture(staging);
    const deployment = get(objects, "Deployment", "tiers-staging-api");
    deployment.spec.template.spec.containers[0].ports[0].containerPort = "eighty";
    const findings = validateSchemas(objects);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      object: "Deployment/tiers-staging-api",
      path: "/spec/template/spec/containers/0/ports/0/containerPort",
    });
  });

  it("rejects a malformed resource quantity", () => {
    const objects = fixture(staging);
    get(
      objects,
      "Deployment",
      "tiers-staging-api",
    ).spec.template.spec.containers[0].resources.limits.cpu = "lots";
    expect(validateSchemas(objects).map((f) => f.path)).toContain(
      "/spec/template/spec/containers/0/resources/limits/cpu",
    );
  });

  it("rejects a missing required field and an unknown kind", () => {
    const objects = fixture(staging);
    delete get(objects, "Deployment", "tiers-staging-worker").spec.selector;
    objects.push({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } });
    const findings = validateSchemas(objects);
    expect(findings.some((f) => f.object === "Deployment/tiers-staging-worker")).toBe(true);
    expect(findings.some((f) => f.object === "Widget/w" && /no schema/.test(f.message))).toBe(true);
  });

  it("checks External Secrets against the fields the overlays use", () => {
    const objects = fixture(staging);
    get(objects, "ExternalSecret", "tiers-staging-database-url").spec.data[0].remoteRef = {};
    expect(validateSchemas(objects).map((f) => f.object)).toEqual([
      "ExternalSecret/tiers-staging-database-url",
    ]);
  });
});

describe("tier policies", () => {
  const broken = (mutate: (objects: KubeObject[]) => void) => {
    const objects = fixture(staging);
    mutate(objects);
    return rules(checkPolicies(objects));
  };
  const api = (objects: KubeObject[]) =>
    get(objects, "Deployment", "tiers-staging-api").spec.template.spec.containers[0];
  const pod = (objects: KubeObject[]) =>
    get(objects, "Deployment", "tiers-staging-api").spec.template.spec;

  it.each<[string, (objects: KubeObject[]) => void]>([
    [
      "policy/image-digest",
      (o) => {
        api(o).image = "127.0.0.1:5000/tiers/api:latest";
      },
    ],
    [
      "policy/image-digest",
      (o) => {
        api(o).image = "127.0.0.1:5000/tiers/api:abc123";
      },
    ],
    [
      "policy/non-root",
      (o) => {
        pod(o).securityContext.runAsNonRoot = false;
      },
    ],
    [
      "policy/non-root",
      (o) => {
        api(o).securityContext.runAsUser = 0;
      },
    ],
    [
      "policy/read-only-root",
      (o) => {
        delete api(o).securityContext.readOnlyRootFilesystem;
      },
    ],
    [
      "policy/no-privilege-escalation",
      (o) => {
        api(o).securityContext.allowPrivilegeEscalation = true;
      },
    ],
    [
      "policy/no-privileged",
      (o) => {
        api(o).securityContext.privileged = true;
      },
    ],
    [
      "policy/drop-all-capabilities",
      (o) => {
        api(o).securityContext.capabilities = { drop: ["NET_RAW"] };
      },
    ],
    [
      "policy/drop-all-capabilities",
      (o) => {
        api(o).securityContext.capabilities.add = ["SYS_ADMIN"];
      },
    ],
    [
      "policy/seccomp",
      (o) => {
        delete pod(o).securityContext.seccompProfile;
      },
    ],
    [
      "policy/no-host-path",
      (o) => {
        pod(o).volumes = [{ name: "docker", hostPath: { path: "/var/run" } }];
      },
    ],
    [
      "policy/no-host-namespaces",
      (o) => {
        pod(o).hostNetwork = true;
      },
    ],
    [
      "policy/probes",
      (o) => {
        delete api(o).readinessProbe;
      },
    ],
    [
      "policy/resources",
      (o) => {
        delete api(o).resources.limits.memory;
      },
    ],
    [
      "policy/namespace",
      (o) => {
        delete get(o, "Service", "tiers-staging-api").metadata.namespace;
      },
    ],
    [
      "policy/no-literal-secrets",
      (o) => {
        api(o).env = [{ name: "DATABASE_URL", value: "postgresql://u:p@h/db" }];
      },
    ],
    [
      "policy/no-literal-secrets",
      (o) =>
        void o.push({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "s", namespace: "tiers-staging" },
          stringData: { password: "hunter2" },
        }),
    ],
    [
      "policy/default-deny",
      (o) =>
        void o.splice(
          o.findIndex((x) => x.metadata.name.endsWith("default-deny")),
          1,
        ),
    ],
  ])("%s fires", (rule, mutate) => {
    expect(broken(mutate)).toContain(rule);
  });

  it("accepts an image pinned by digest only", () => {
    expect(
      broken((o) => {
        api(o).image = `registry.example/tiers/api@${digest}`;
      }),
    ).toEqual([]);
  });
});

describe("drift between the overlay and the tier config", () => {
  const drift = (
    tier: Tier,
    mutate: (objects: KubeObject[]) => void,
    tierEdit?: (t: Tier) => void,
  ) => {
    const objects = fixture(tier);
    mutate(objects);
    const edited = clone(tier);
    tierEdit?.(edited);
    return checkDrift(objects, edited, {
      runtimeEnvironment: runtimeEnvironment(model, tier.tier),
    });
  };
  const container = (o: KubeObject[], name = "tiers-staging-api") =>
    get(o, "Deployment", name).spec.template.spec.containers[0];

  it("replicas: a Deployment that scales differently from services.<svc>.replicas", () => {
    const findings = drift(staging, (o) => {
      get(o, "Deployment", "tiers-staging-api").spec.replicas = 5;
    });
    expect(findings.map((f) => [f.rule, f.object, f.path])).toEqual([
      ["drift/replicas", "Deployment/tiers-staging-api", "spec.replicas"],
    ]);
    expect(findings[0]!.message).toMatch(/services\.api\.replicas says 2/);
  });

  it("replicas: the config changes and the overlay does not", () => {
    const findings = drift(
      staging,
      () => {},
      (t) => {
        t.services.worker!.replicas = 4;
      },
    );
    expect(rules(findings)).toEqual(["drift/replicas"]);
  });

  it("resources, ports and probe paths", () => {
    expect(
      rules(
        drift(staging, (o) => {
          container(o).resources.requests.memory = "1Gi";
        }),
      ),
    ).toEqual(["drift/resources"]);
    expect(
      rules(
        drift(staging, (o) => {
          container(o).ports[0].containerPort = 9090;
        }),
      ),
    ).toEqual(["drift/ports"]);
    expect(
      rules(
        drift(staging, (o) => {
          container(o).livenessProbe.httpGet.path = "/health";
        }),
      ),
    ).toEqual(["drift/probes"]);
    expect(
      rules(
        drift(staging, (o) => {
          get(o, "Service", "tiers-staging-worker").spec.ports[0].port = 80;
        }),
      ),
    ).toEqual(["drift/ports"]);
  });

  it("PORT is the port the service serves on", () => {
    const findings = drift(staging, (o) => {
      container(o, "tiers-staging-worker").env[0].value = "8080";
    });
    expect(findings.map((f) => f.message)).toEqual([
      "is 8080, the service listens on ports.health: 8081",
    ]);
  });

  it("probe timings follow deploy.health_check", () => {
    const findings = drift(
      staging,
      () => {},
      (t) => {
        t.deploy.health_check.interval_seconds = 30;
      },
    );
    expect(
      findings.every(
        (f) => f.rule === "drift/probes" && /interval_seconds says 30/.test(f.message),
      ),
    ).toBe(true);
    expect(findings).toHaveLength(4); // liveness + readiness of api and worker
  });

  it("namespace and names follow <project>-<tier>", () => {
    expect(
      rules(
        drift(staging, (o) => {
          get(o, "Service", "tiers-staging-api").metadata.namespace = "default";
        }),
      ),
    ).toEqual(["drift/namespace"]);
    const renamed = drift(staging, (o) => {
      get(o, "Deployment", "tiers-staging-api").metadata.name = "api";
    });
    expect(
      renamed.some(
        (f) => f.rule === "drift/workload" && f.object === "Deployment/tiers-staging-api",
      ),
    ).toBe(true);
  });

  it("tier labels on every object", () => {
    const findings = drift(staging, (o) => {
      delete get(o, "Service", "tiers-staging-api").metadata.labels!["tiers/tier"];
    });
    expect(findings.map((f) => [f.rule, f.path])).toEqual([
      ["drift/labels", "metadata.labels.tiers/tier"],
    ]);
  });

  it("image repository follows the registry config", () => {
    expect(
      rules(
        drift(staging, (o) => {
          container(o).image = `docker.io/someone/api@${digest}`;
        }),
      ),
    ).toEqual(["drift/image"]);
  });

  it("autoscaling: an autoscaler whose bounds drift, or one the config does not ask for", () => {
    const findings = drift(prod, (o) => {
      get(o, "HorizontalPodAutoscaler", "tiers-prod-worker").spec.maxReplicas = 60;
    });
    expect(findings.map((f) => [f.rule, f.object])).toEqual([
      ["drift/autoscaling", "HorizontalPodAutoscaler/tiers-prod-worker"],
    ]);
    const off = drift(
      prod,
      () => {},
      (t) => {
        t.services.worker!.autoscaling.enabled = false;
      },
    );
    expect(rules(off)).toEqual(["drift/autoscaling", "drift/replicas"]);
    const missing = drift(
      prod,
      (o) =>
        void o.splice(
          o.findIndex((x) => x.kind === "HorizontalPodAutoscaler"),
          1,
        ),
    );
    expect(rules(missing)).toEqual(["drift/autoscaling"]);
    const fought = drift(prod, (o) => {
      get(o, "Deployment", "tiers-prod-worker").spec.replicas = 2;
    });
    expect(fought.map((f) => f.message)).toEqual([
      expect.stringMatching(/autoscaler owns the replica count/),
    ]);
  });

  it("strategy: colours only in blue-green tiers, and both colours in prod", () => {
    expect(
      rules(
        drift(staging, (o) => {
          get(o, "Deployment", "tiers-staging-api").metadata.labels!.color = "blue";
        }),
      ),
    ).toEqual(["drift/strategy"]);
    const oneColour = drift(
      prod,
      (o) =>
        void o.splice(
          o.findIndex((x) => x.metadata.name === "tiers-prod-api-green"),
          1,
        ),
    );
    expect(oneColour.map((f) => f.object)).toContain("Deployment/tiers-prod-api-green");
    const noSelector = drift(prod, (o) => {
      delete get(o, "Service", "tiers-prod-api").spec.selector.color;
    });
    expect(rules(noSelector)).toEqual(["drift/strategy"]);
    const notBlueGreen = drift(
      prod,
      () => {},
      (t) => {
        t.deploy.strategy = "rolling";
      },
    );
    expect(rules(notBlueGreen)).toContain("drift/strategy");
  });

  it("revision history follows rollback.keep_revisions", () => {
    expect(
      rules(
        drift(
          prod,
          () => {},
          (t) => {
            t.deploy.rollback.keep_revisions = 3;
          },
        ),
      ),
    ).toEqual(["drift/history"]);
  });

  it("secrets: by reference, from the path the tier config names", () => {
    const moved = drift(prod, (o) => {
      get(o, "ExternalSecret", "tiers-prod-database-url").spec.data[0].remoteRef.key =
        "kv/tiers/staging/database";
    });
    expect(moved.map((f) => f.rule)).toEqual(["drift/secret"]);
    const literal = drift(
      prod,
      () => {},
      (t) => {
        t.secrets.database_url = { value: "postgresql://x" };
      },
    );
    expect(rules(literal)).toEqual(["drift/secret"]);
    const unwired = drift(prod, (o) => {
      container(o, "tiers-prod-worker").env = [];
    });
    expect(unwired.map((f) => f.path)).toEqual([
      "spec.template.spec.containers[worker].env.DATABASE_URL",
      "spec.template.spec.containers[worker].env.PORT",
    ]);
  });

  it("runtime settings, mTLS and monitoring", () => {
    const configMap = (o: KubeObject[]) =>
      o.find((x) => x.kind === "ConfigMap")! as KubeObject & { data: Record<string, string> };
    expect(
      rules(
        drift(prod, (o) => {
          configMap(o).data.TIERS_LOG_LEVEL = "debug";
        }),
      ),
    ).toEqual(["drift/runtime"]);
    expect(
      rules(
        drift(prod, (o) => {
          delete get(o, "Namespace", "tiers-prod").metadata.annotations;
        }),
      ),
    ).toEqual(["drift/mtls"]);
    expect(
      rules(
        drift(
          staging,
          () => {},
          (t) => {
            t.features.monitoring = false;
          },
        ),
      ),
    ).toEqual(["drift/monitoring"]);
  });

  it("mTLS: meshed pods must reach the mesh control plane through default-deny egress", () => {
    const findings = drift(prod, (o) => {
      o.splice(
        o.findIndex((x) => x.metadata.name.endsWith("allow-mesh-control-plane")),
        1,
      );
    });
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/egress to the mesh control plane \(namespace linkerd\)/),
    ]);
  });

  it("each service's serving port is open through the default-deny ingress", () => {
    const findings = drift(staging, (o) => {
      get(o, "NetworkPolicy", "tiers-staging-worker-ingress").spec.ingress[0].ports[0].port = 9999;
    });
    expect(findings.map((f) => f.message)).toEqual([
      "no NetworkPolicy allows ingress to worker on ports.health (8081)",
    ]);
  });

  it("managed dependencies need an egress rule on their port", () => {
    const findings = drift(
      staging,
      () => {},
      (t) => {
        t.dependencies.postgres!.port = 6432;
      },
    );
    expect(rules(findings)).toEqual(["drift/network"]);
  });
});

describe("secret references", () => {
  it("maps secret-manager references to External Secrets remote refs", () => {
    expect(remoteRefOf("vault:kv/tiers/prod/database#url")).toEqual({
      key: "kv/tiers/prod/database",
      property: "url",
    });
    expect(remoteRefOf("aws-sm:tiers/prod/db")).toEqual({ key: "tiers/prod/db" });
    expect(remoteRefOf("env:DATABASE_URL")).toBeUndefined();
    expect(remoteRefOf("file:/run/secrets/db")).toBeUndefined();
  });
});
