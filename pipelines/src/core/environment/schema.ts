/**
 * The schema of a merged tier: `environments/base.yaml` deep-merged with one tier file.
 * Objects are strict so a typo is an error, never a silent default. YAML keys are snake_case
 * and the inferred TypeScript types keep them as such, so a reader can grep one name across
 * YAML, code and docs.
 */
import { z } from "../zod.ts";
import { alertingSchema, flagsSchema, observabilitySchema } from "./observability-schema.ts";
import { performanceIssues, testsSchema } from "./performance-schema.ts";
import {
  promotionCriteriaSchema,
  promotionOverridesSchema,
  verifySchema,
  windowsSchema,
} from "./time-schema.ts";

/** Secret manager schemes a reference may use: `<scheme>:<path>`. */
export const secretSchemes = ["env", "file", "vault", "aws-sm", "gcp-sm", "azure-kv"] as const;
export type SecretScheme = (typeof secretSchemes)[number];

const secretRefPattern = new RegExp(`^(${secretSchemes.join("|")}):\\S+$`);

/** A reference to a secret held elsewhere, e.g. `vault:kv/tiers/prod#database_url`. */
export const secretRef = z
  .string()
  .regex(
    secretRefPattern,
    `expected a secret reference "<scheme>:<path>" with scheme one of ${secretSchemes.join(", ")}`,
  );

/** True when `text` is a reference (`env:NAME`, `vault:path`, ...) rather than a literal value. */
export function isSecretRef(text: string): boolean {
  return secretRefPattern.test(text);
}

/** A secret reference split into its scheme and the path inside that store. */
export interface SecretReference {
  scheme: SecretScheme;
  path: string;
}

/**
 * What a `secrets.<name>` entry points at: `{ reference }` for `"vault:..."` or `{ ref }`, or
 * `{ literal }` for a value written in the file (dev and test only; policy rejects it elsewhere).
 */
export function secretSource(
  entry: string | { ref?: string; value?: string },
): { reference: SecretReference } | { literal: string } {
  const text = typeof entry === "string" ? entry : entry.ref;
  if (text !== undefined && isSecretRef(text)) {
    const colon = text.indexOf(":");
    return {
      reference: { scheme: text.slice(0, colon) as SecretScheme, path: text.slice(colon + 1) },
    };
  }
  return { literal: typeof entry === "string" ? entry : (entry.value ?? "") };
}

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, "expected a lower-case name: letters, digits and '-'");
const port = z.number().int().min(1).max(65535);
const positiveInt = z.number().int().min(1);
const cpu = z.string().regex(/^\d+(\.\d+)?m?$/, 'expected a CPU quantity such as "250m" or "1"');
const memory = z
  .string()
  .regex(/^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'expected a memory quantity such as "256Mi"');
const urlPath = z.string().regex(/^\//, 'expected an HTTP path starting with "/"');

export const runtimes = ["compose", "ephemeral", "kubernetes"] as const;
export const strategies = ["recreate", "rolling", "blue-green"] as const;
export const approvalSources = ["none", "ci-environment", "record"] as const;
export const logLevels = ["debug", "info", "warn", "error"] as const;
export const logFormats = ["json", "pretty"] as const;
export const nodeEnvs = ["development", "test", "production"] as const;
export const mtlsProviders = ["none", "mesh", "files"] as const;
/** Gates a promotion into a tier checks, in this order; see docs/environments/index.md. */
export const gateNames = [
  "passage",
  "signature",
  "not-rejected",
  "no-dev-image",
  "approvals",
  "expand-contract",
  // Judges the digest's recorded vulnerability report by promotion.criteria.security.
  "security-scan",
  "performance",
] as const;

const resources = z.strictObject({
  requests: z.strictObject({ cpu, memory }),
  limits: z.strictObject({ cpu, memory }),
});

const autoscaling = z
  .strictObject({
    enabled: z.boolean(),
    min: positiveInt,
    max: positiveInt,
    /** Target average CPU utilisation in percent. */
    target_cpu: z.number().int().min(1).max(100),
  })
  .superRefine((value, ctx) => {
    if (value.min > value.max) {
      ctx.addIssue({
        code: "custom",
        path: ["min"],
        message: `min (${value.min}) is larger than max (${value.max})`,
      });
    }
  });

const build = z.strictObject({
  /** Build context, relative to the repository root. */
  context: z.string().min(1),
  /** Dockerfile, relative to the repository root. */
  dockerfile: z.string().min(1),
  /** Dockerfile stage: `production` for promoted images, `development` for the dev tier. */
  target: z.string().min(1),
});

const service = z
  .strictObject({
    /** Built by the pipeline from this repository; the digest it gets is what is promoted. */
    build: build.optional(),
    /** Run as-is from a registry (staging/prod require a digest, see policy/immutable-image). */
    image: z.string().min(1).optional(),
    ports: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, "expected a port name"), port),
    health: z.strictObject({ liveness: urlPath, readiness: urlPath }),
    resources,
    replicas: z.number().int().min(0),
    autoscaling,
  })
  .superRefine((value, ctx) => {
    if ((value.build === undefined) === (value.image === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message:
          value.build === undefined
            ? "a service needs either build (built here) or image (pulled), and has neither"
            : "a service has either build or image, not both",
      });
    }
  });

const dependency = z
  .strictObject({
    engine: z.enum(["postgresql"]),
    version: z.string().min(1),
    port,
    database: z.string().min(1),
    /** `container`: run `image` next to the services; `managed`: provisioned by Terraform. */
    provided_by: z.enum(["container", "managed"]),
    /** Container image when provided_by is container; null (or absent) when managed. */
    image: z.string().min(1).nullable().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.provided_by === "container" && (value.image ?? null) === null) {
      ctx.addIssue({
        code: "custom",
        path: ["image"],
        message: "provided_by: container needs an image to run",
      });
    }
    if (value.provided_by === "managed" && (value.image ?? null) !== null) {
      ctx.addIssue({
        code: "custom",
        path: ["image"],
        message: "provided_by: managed runs no container, so set image: null",
      });
    }
  });

/** A secret entry: a reference string, `{ ref }`, or (dev/test only) a literal `{ value }`. */
const secret = z.union([
  z.string(),
  z.strictObject({ ref: secretRef, description: z.string().optional() }),
  z.strictObject({ value: z.string(), description: z.string().optional() }),
]);

const signing = z
  .strictObject({
    /** When true, promotion into this tier refuses an artefact without a valid signature. */
    required: z.boolean(),
    mode: z.enum(["none", "key", "keyless"]),
    /** Key mode: reference to the cosign key, e.g. `file:/run/secrets/cosign.key`. */
    key: secretRef.optional(),
    /** Keyless mode: the OIDC identity a signature must carry. */
    identity: z.strictObject({ subject: z.string().min(1), issuer: z.url() }).optional(),
  })
  .superRefine((value, ctx) => {
    if (value.required && value.mode === "none") {
      ctx.addIssue({
        code: "custom",
        path: ["mode"],
        message: 'signing.required is true, so mode must be "key" or "keyless", not "none"',
      });
    }
    if (value.mode === "key" && value.key === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["key"],
        message: 'mode "key" needs key: <secret reference to the cosign key>',
      });
    }
    if (value.mode === "keyless" && value.identity === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["identity"],
        message: 'mode "keyless" needs identity: { subject, issuer }',
      });
    }
  });

const approvals = z
  .strictObject({
    /** How many distinct approvals a promotion into this tier needs. */
    required: z.number().int().min(0),
    /** Who records them: nobody, the CI vendor's protected environment, or a record in git. */
    source: z.enum(approvalSources),
  })
  .superRefine((value, ctx) => {
    if (value.required > 0 && value.source === "none") {
      ctx.addIssue({
        code: "custom",
        path: ["source"],
        message: `approvals.required is ${value.required}, so source must be ci-environment or record, not none`,
      });
    }
  });

/** Everything `environments/base.yaml` and one tier file together must define. */
// --- Infrastructure stage (issue 14): where `tiers infra` keeps each tier's Terraform state. ---

/** Local state (dev): a file under `.tiers/infra/`, never committed. */
const localState = z.strictObject({
  backend: z.literal("local"),
  /** State file, relative to the repository root. */
  path: z
    .string()
    .regex(/^\.tiers\/infra\/[^\s]+\.tfstate$/, "expected .tiers/infra/<name>.tfstate"),
});

/**
 * S3 state with DynamoDB locking and server-side encryption (terraform/modules/state creates the
 * bucket and table; terraform's s3 backend docs: developer.hashicorp.com/terraform/language/backend/s3).
 */
const s3State = z.strictObject({
  backend: z.literal("s3"),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "expected an S3 bucket name"),
  key: z
    .string()
    .regex(/^[^\s/][^\s]*\.tfstate$/, "expected a state key such as tiers/prod.tfstate"),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-[0-9]$/, "expected a region such as eu-west-1"),
  lock_table: z.string().min(3),
  /** Always on: state holds resource attributes that must not sit unencrypted. */
  encrypt: z.literal(true),
});

/**
 * Who applies the tier's saved plan. `separate` (the default): its own `tiers infra apply` job,
 * ahead of promotion, as CI does. `with-deploy`: `tiers deploy` (and promotion's deploy step)
 * applies the saved plan of the current commit after the migration Job and before the rollout,
 * the design's order; a deploy with no saved plan leaves the infrastructure as it is.
 */
export const infraApplyModes = ["separate", "with-deploy"] as const;

export const infraSchema = z.strictObject({
  state: z.discriminatedUnion("backend", [localState, s3State]),
  apply: z.enum(infraApplyModes).optional(),
});
export type InfraSettings = z.infer<typeof infraSchema>;

export const tierSchema = z
  .strictObject({
    project: name,
    registry: z.strictObject({
      /** `host[:port]` of the OCI registry images are pushed to. */
      host: z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'expected "host" or "host:port"'),
      namespace: name,
      /** Plain HTTP (a local registry on 127.0.0.1); never for a registry across a network. */
      insecure: z.boolean(),
    }),
    build: z.strictObject({
      /** Base image of every service Dockerfile (a build argument; a tag is fine here). */
      base_image: z.string().min(1),
      /** Extra CA bundle handed to builds as a BuildKit secret, never baked into an image. */
      extra_ca_bundle: z.string().min(1).nullable(),
    }),
    services: z.record(name, service),
    dependencies: z.record(name, dependency),

    tier: name,
    /** Leads every line printed about this tier; defaults come from core/markers.ts. */
    marker: z.string().min(1),
    description: z.string().min(1),
    runtime: z.enum(runtimes),
    /** Value of NODE_ENV the services run with in this tier. */
    node_env: z.enum(nodeEnvs),
    promotion: z
      .strictObject({
        /** The tier an artefact must have passed before it may enter this one; null = start. */
        from: name.nullable(),
        gates: z.array(z.enum(gateNames)),
        /** Time criteria (issue 16): how long a digest must have soaked in the tier below. */
        criteria: promotionCriteriaSchema.optional(),
        /** Time gates a recorded approval with a reason may waive in this tier (none by default). */
        overrides: promotionOverridesSchema.optional(),
      })
      // security-scan judges against a threshold: listing it without one is a tier-file error.
      .superRefine((promotion, ctx) => {
        if (promotion.gates.includes("security-scan") && !promotion.criteria?.security) {
          ctx.addIssue({
            code: "custom",
            path: ["gates"],
            message:
              "security-scan needs a threshold: set promotion.criteria.security.max_severity (negligible|low|medium|high|critical)",
          });
        }
      }),
    /** When promotion, bless and deploy may run (allow/deny recurrences); none = always. */
    windows: windowsSchema.optional(),
    /** Whether windows also refuse a rollback; off by default, so a freeze never blocks the way back. */
    windows_apply_to_rollback: z.boolean().optional(),
    features: z.strictObject({
      hot_reload: z.boolean(),
      debug_ports: z.boolean(),
      mtls: z.boolean(),
      ephemeral: z.boolean(),
      fixtures: z.boolean(),
      persistence: z.boolean(),
      monitoring: z.boolean(),
    }),
    network: z.strictObject({
      /** Address published ports bind to (127.0.0.1 keeps debug ports off the network). */
      bind_address: z.string().min(1),
      /** Run on a network of its own, unreachable from other tiers. */
      isolated: z.boolean(),
      /**
       * Who provides mTLS when features.mtls is on: `mesh` (a service mesh proxy terminates it)
       * or `files` (each service loads TIERS_TLS_CERT_FILE, _KEY_FILE, _CA_FILE). Unused when off.
       */
      mtls_provider: z.enum(mtlsProviders),
    }),
    deploy: z.strictObject({
      strategy: z.enum(strategies),
      health_check: z.strictObject({
        initial_delay_seconds: z.number().int().min(0),
        interval_seconds: positiveInt,
        timeout_seconds: positiveInt,
        failure_threshold: positiveInt,
      }),
      rollback: z.strictObject({
        /** Roll back without asking when health or smoke checks fail after a deploy. */
        automatic: z.boolean(),
        on: z.array(z.enum(["health", "smoke"])),
        /** Previous revisions kept so a rollback has somewhere to go. */
        keep_revisions: positiveInt,
      }),
      /**
       * A verification period after each deploy (issue 16): the checks keep running, and when
       * it passes the pins are recorded as this tier's last verified release.
       */
      verify: verifySchema.optional(),
    }),
    approvals,
    secrets: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, "expected a secret name"), secret),
    signing,
    logging: z.strictObject({ level: z.enum(logLevels), format: z.enum(logFormats) }),
    retention: z.strictObject({
      // Log retention is observability.logs.retention_days: one number for logs, not two.
      artefacts_days: positiveInt,
      /** How many promotion records of this tier stay listed (git keeps them all anyway). */
      releases_kept: positiveInt,
    }),
    /** Tiers with infrastructure under terraform/ (terraform/live/<tier>.tfvars). */
    infra: infraSchema.optional(),
    /** What an ephemeral tier's test run does besides the suites: the load test (performance-schema.ts). */
    tests: testsSchema.optional(),

    // Observability, alerting and feature flags (observability-schema.ts, docs/environments).
    observability: observabilitySchema,
    alerting: alertingSchema,
    flags: flagsSchema,
  })
  .superRefine((tier, ctx) => {
    for (const issue of performanceIssues(tier)) ctx.addIssue({ code: "custom", ...issue });
    // Only one way round: a provider left set on a tier without mTLS is unused, not wrong.
    if (tier.features.mtls && tier.network.mtls_provider === "none") {
      ctx.addIssue({
        code: "custom",
        path: ["network", "mtls_provider"],
        message: 'features.mtls is on, so say who provides it: "mesh" or "files"',
      });
    }
    // A tier a Prometheus scrapes must have something to scrape.
    if (tier.features.monitoring && !tier.observability.metrics.enabled) {
      ctx.addIssue({
        code: "custom",
        path: ["observability", "metrics", "enabled"],
        message:
          "features.monitoring is on, so the services must serve metrics: set observability.metrics.enabled: true",
      });
    }
  });

/** One tier, merged over the base and validated. */
export type Tier = z.infer<typeof tierSchema>;
export type Service = Tier["services"][string];
export type Dependency = Tier["dependencies"][string];
export type Features = Tier["features"];
export type SecretEntry = Tier["secrets"][string];

/** Keys only base.yaml may set: one value for the whole project. */
export const baseOnlyKeys = ["project"] as const;

/** Keys only a tier file may set: they describe one tier, so base.yaml must not. */
export const tierOnlyKeys = ["tier", "marker", "promotion"] as const;
