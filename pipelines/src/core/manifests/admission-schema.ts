/**
 * The offline schema of the admission policy the overlays carry: Kyverno's
 * `NamespacedImageValidatingPolicy` (policies.kyverno.io/v1), reduced to the fields
 * core/manifests/admission.ts writes. There is no npm models package for Kyverno, and vendoring
 * its 2,000-line CRD for a dozen fields would hide what we rely on, so this is a small zod
 * schema written from Kyverno's own definitions:
 * - CRD: kyverno/kyverno@v1.19.0 (ee97ce09538b09b6f1b03853cc41a62654d6a58f)
 *   config/crds/policies.kyverno.io/policies.kyverno.io_namespacedimagevalidatingpolicies.yaml,
 *   version `v1` (served since v1.17; v1beta1 is the stored version, v1alpha1 is deprecated):
 *   `spec.required: [attestors, validations]`, `attestors[].required: [name]`,
 *   `keyless.required: [identities]`, `variables[].required: [name, expression]`,
 *   `validations[].required: [expression]`, the enums of `validationActions` and `failurePolicy`.
 * - Go types: kyverno/api api/policies.kyverno.io/v1beta1/imagevalidating_policy.go (the v1
 *   CRD is generated from the same `ImageValidatingPolicySpec`, `Attestor`, `Cosign`, `Key`,
 *   `Keyless`, `Identity`, `MatchImageReference` and `ValidationConfiguration` types).
 *
 * Stricter than the CRD on purpose (strict objects, a cosign key that names exactly one
 * source): a field we do not mean to write is a mistake here, not an extension.
 */
import { z } from "../zod.ts";

export const kyvernoPolicyApiVersion = "policies.kyverno.io/v1";
export const kyvernoPolicyKind = "NamespacedImageValidatingPolicy";

const nonEmpty = z.string().min(1);

/** `Key`: "A Key must specify only one of CEL, Data or KMS" (the type's doc comment). */
const cosignKey = z
  .strictObject({
    data: nonEmpty.optional(),
    kms: nonEmpty.optional(),
    expression: nonEmpty.optional(),
  })
  .refine(
    (key) => [key.data, key.kms, key.expression].filter((v) => v !== undefined).length === 1,
    "a cosign key names exactly one of data, kms or expression",
  );

const identity = z.strictObject({ subject: nonEmpty, issuer: z.url() });

const cosign = z
  .strictObject({
    key: cosignKey.optional(),
    keyless: z.strictObject({ identities: z.array(identity).min(1) }).optional(),
    /** "Every specified key-value pair must exist and match in the verified payload." */
    annotations: z.record(nonEmpty, nonEmpty).optional(),
  })
  .refine(
    (c) => (c.key === undefined) !== (c.keyless === undefined),
    "a cosign attestor is either key or keyless",
  );

/** The spec of the admission policy, as the CRD's openAPIV3Schema types it. */
export const imageValidatingPolicySchema = z.strictObject({
  apiVersion: z.literal(kyvernoPolicyApiVersion),
  kind: z.literal(kyvernoPolicyKind),
  metadata: z.object({ name: nonEmpty, namespace: nonEmpty.optional() }).loose(),
  spec: z.strictObject({
    validationActions: z.array(z.enum(["Deny", "Audit", "Warn"])).min(1),
    failurePolicy: z.enum(["Ignore", "Fail"]),
    // The API server bounds admission webhooks to 1..30 s (admissionregistration/v1).
    webhookConfiguration: z.strictObject({ timeoutSeconds: z.number().int().min(1).max(30) }),
    matchConstraints: z.strictObject({
      resourceRules: z
        .array(
          z.strictObject({
            apiGroups: z.array(z.string()).min(1),
            apiVersions: z.array(nonEmpty).min(1),
            operations: z.array(z.enum(["CREATE", "UPDATE", "DELETE", "CONNECT", "*"])).min(1),
            resources: z.array(nonEmpty).min(1),
          }),
        )
        .min(1),
    }),
    matchImageReferences: z.array(z.strictObject({ glob: nonEmpty })).min(1),
    validationConfigurations: z.strictObject({
      mutateDigest: z.boolean(),
      verifyDigest: z.boolean(),
      required: z.boolean(),
    }),
    variables: z.array(z.strictObject({ name: nonEmpty, expression: nonEmpty })).optional(),
    attestors: z.array(z.strictObject({ name: nonEmpty, cosign })).min(1),
    validations: z.array(z.strictObject({ expression: nonEmpty, message: nonEmpty })).min(1),
  }),
});

/** The admission policy object as core/manifests/admission.ts writes it. */
export type ImageValidatingPolicy = z.infer<typeof imageValidatingPolicySchema>;
