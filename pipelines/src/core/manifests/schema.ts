/**
 * Kubernetes schema validation, offline. The `kubernetes-models` package ships the API's
 * OpenAPI schemas compiled to validators (ajv), so every built-in object is checked for types,
 * required fields, enums and quantity/format rules without an API server. Custom resources the
 * overlays use are checked too: the Prometheus Operator's ServiceMonitor and PrometheusRule
 * against their real CRD schemas (@kubernetes-models/prometheus-operator compiles them from the
 * operator's CRDs), External Secrets and Kyverno's admission policy against local schemas of
 * the fields we rely on (admission-schema.ts cites Kyverno's CRD).
 *
 * Limit, stated plainly: like kubeconform without `-strict`, the compiled schemas accept
 * unknown fields, so a misspelt optional field is not caught here. The tier policies and the
 * drift checks read the fields that matter by name and fail when they are missing.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { z } from "../zod.ts";
import {
  imageValidatingPolicySchema,
  kyvernoPolicyApiVersion,
  kyvernoPolicyKind,
} from "./admission-schema.ts";
import { type KubeObject, objectId } from "./documents.ts";

/** One schema violation, located by object and JSON path. */
export interface SchemaFinding {
  rule: "schema/kubernetes";
  /** `Kind/name` of the object. */
  object: string;
  /** JSON pointer inside the object, e.g. `/spec/template/spec/containers/0/ports/0`. */
  path: string;
  message: string;
}

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data?: unknown): { validate(): void };
}

function isModelClass(value: unknown): value is ModelClass {
  return (
    typeof value === "function" &&
    typeof (value as Partial<ModelClass>).apiVersion === "string" &&
    typeof (value as Partial<ModelClass>).kind === "string"
  );
}

/** The API groups a deployable overlay uses. */
const modelGroups = [
  "kubernetes-models/v1",
  "kubernetes-models/apps/v1",
  "kubernetes-models/autoscaling/v2",
  "kubernetes-models/batch/v1",
  "kubernetes-models/networking.k8s.io/v1",
  "kubernetes-models/policy/v1",
  "kubernetes-models/rbac.authorization.k8s.io/v1",
] as const;

let modelIndex: Map<string, ModelClass> | undefined;

/**
 * `apiVersion/kind` -> compiled model, loaded on first use: the schemas take about a second to
 * load, and every CLI command that merely imports this module (plan, promote, status...) would
 * otherwise pay for it before doing anything.
 */
function models(): Map<string, ModelClass> {
  if (!modelIndex) {
    const load = createRequire(import.meta.url);
    modelIndex = new Map();
    for (const group of modelGroups) {
      for (const value of Object.values(load(group) as Record<string, unknown>)) {
        if (isModelClass(value)) modelIndex.set(`${value.apiVersion}/${value.kind}`, value);
      }
    }
    // ESM-only package whose exports offer no "require" condition: resolve the file, then
    // load it synchronously (require of an ES module without top-level await, Node >= 20.19).
    for (const kind of customResourceModels) {
      const file = fileURLToPath(import.meta.resolve(`${prometheusOperatorModels}/${kind}`));
      const value = (load(file) as Record<string, unknown>)[kind];
      if (isModelClass(value)) modelIndex.set(`${value.apiVersion}/${value.kind}`, value);
    }
  }
  return modelIndex;
}

/** Custom resources with real CRD schemas: the overlays' monitoring objects. */
const prometheusOperatorModels = "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
const customResourceModels = ["ServiceMonitor", "PrometheusRule"] as const;

/** The External Secrets fields our overlays use (external-secrets.io/v1 ExternalSecret). */
const externalSecret = z.object({
  apiVersion: z.literal("external-secrets.io/v1"),
  kind: z.literal("ExternalSecret"),
  metadata: z.object({ name: z.string().min(1) }).loose(),
  spec: z.strictObject({
    refreshInterval: z.string().regex(/^\d+(s|m|h)$/, 'expected a duration such as "1h"'),
    secretStoreRef: z.strictObject({
      kind: z.enum(["SecretStore", "ClusterSecretStore"]),
      name: z.string().min(1),
    }),
    target: z.strictObject({
      name: z.string().min(1),
      creationPolicy: z.enum(["Owner", "Orphan", "Merge", "None"]).optional(),
    }),
    data: z
      .array(
        z.strictObject({
          secretKey: z.string().min(1),
          remoteRef: z.strictObject({
            key: z.string().min(1),
            property: z.string().min(1).optional(),
            version: z.string().optional(),
          }),
        }),
      )
      .min(1),
  }),
});

const customSchemas = new Map<string, z.ZodType>([
  ["external-secrets.io/v1/ExternalSecret", externalSecret],
  // The admission policy: a schema of the fields we write, cited to Kyverno's CRD and types.
  [`${kyvernoPolicyApiVersion}/${kyvernoPolicyKind}`, imageValidatingPolicySchema],
]);

/** True when this module can validate objects of `apiVersion`/`kind`. */
export function canValidate(apiVersion: string, kind: string): boolean {
  const key = `${apiVersion}/${kind}`;
  return customSchemas.has(key) || models().has(key);
}

/** Validates every object; an object of an unknown apiVersion/kind is itself a finding. */
export function validateSchemas(objects: readonly KubeObject[]): SchemaFinding[] {
  const findings: SchemaFinding[] = [];
  for (const object of objects) {
    const key = `${object.apiVersion}/${object.kind}`;
    const id = objectId(object);
    const custom = customSchemas.get(key);
    if (custom) {
      const result = custom.safeParse(object);
      if (!result.success) {
        for (const issue of result.error.issues) {
          findings.push({
            rule: "schema/kubernetes",
            object: id,
            path: `/${issue.path.map(String).join("/")}`,
            message: issue.message,
          });
        }
      }
      continue;
    }
    const Model = models().get(key);
    if (!Model) {
      findings.push({
        rule: "schema/kubernetes",
        object: id,
        path: "",
        message: `no schema for ${key}: it is not a Kubernetes API kind this pipeline knows`,
      });
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      const errors = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
      if (!errors?.length) {
        findings.push({
          rule: "schema/kubernetes",
          object: id,
          path: "",
          message: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      // ajv reports every branch of a oneOf; keep one line per path so the report stays short.
      const byPath = new Map<string, string[]>();
      for (const e of errors) {
        const path = e.instancePath ?? "";
        const list = byPath.get(path) ?? [];
        if (e.message && !list.includes(e.message)) list.push(e.message);
        byPath.set(path, list);
      }
      for (const [path, messages] of byPath) {
        findings.push({
          rule: "schema/kubernetes",
          object: id,
          path,
          message: messages.join("; "),
        });
      }
    }
  }
  return findings;
}
