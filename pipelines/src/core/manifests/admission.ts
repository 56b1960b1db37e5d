/**
 * The admission policy of a Kubernetes tier whose config requires signatures: the third point
 * of verification after promotion and deploy. The cluster itself (Kyverno's admission webhook)
 * refuses a pod whose image from our registry is not signed by the tier's signer with the
 * passage annotation `<project>.tier=<previous tier>`, i.e. a digest that did not pass the
 * tier before. Generated from the tier's `signing` block, written by
 * `tiers admission generate` into k8s/overlays/<tier>/admission-policy.yaml, and held to the
 * config by the drift checks (here for rendered overlays, core/repository/consistency.ts for
 * `tiers validate`). Pure. Why Kyverno and how to install it: docs/k8s.md#admission.
 *
 * What it mirrors, from Kyverno's source (kyverno/kyverno@v1.19.0):
 * - `NamespacedImageValidatingPolicy` is evaluated only for requests in its own namespace
 *   (pkg/cel/policies/ivpol/engine/predicate.go, NamespacedPolicy), so the overlay's
 *   `namespace:` scopes it to the tier, and two tiers sharing a cluster keep their own signers.
 * - `cosign.annotations`: every pair must equal the signature payload's annotation
 *   (pkg/image/verifiers/ivpol/cosign/certs.go, checkSignatureAnnotations).
 * - `cosign.keyless.identities[]` become cosign's `Identity{Issuer, Subject}`, `key.kms` goes
 *   to sigstore's `PublicKeyFromKeyRefWithHashAlgo`, `key.expression` yields the PEM
 *   (pkg/image/verifiers/ivpol/cosign/opts.go, checkOptions;
 *   pkg/image/verification/variables/attestors.go).
 * - `verifyImageSignatures` returns 0 for an image outside `matchImageReferences`
 *   (pkg/cel/libs/imageverify/impl.go), so the validation only counts our own images, and
 *   `validationConfigurations.required` refuses a matched image nobody verified.
 * - Pods' images come from `images.containers`, `images.initContainers` and
 *   `images.ephemeralContainers` (pkg/cel/compiler/images.go).
 */
import { isDeepStrictEqual } from "node:util";
import { stringify } from "yaml";
import { imageRepository } from "../artefact.ts";
import type { Tier } from "../environment/schema.ts";
import { admissionWebhookSeconds } from "../limits.ts";
import { previousTier } from "../promotion/chain.ts";
import { passageAnnotations } from "../promotion/evidence.ts";
import { parseKeyRef } from "../promotion/signing-key.ts";
import {
  type ImageValidatingPolicy,
  kyvernoPolicyApiVersion,
  kyvernoPolicyKind,
} from "./admission-schema.ts";
import { type KubeObject, objectId } from "./documents.ts";
import type { ManifestFinding } from "./findings.ts";

/** The Kyverno release the policy is written for (docs/k8s.md says how to install it). */
export const kyverno = {
  version: "v1.19.0",
  commit: "ee97ce09538b09b6f1b03853cc41a62654d6a58f",
  /** The Helm chart of that release (kyverno/kyverno, charts/kyverno, tag kyverno-chart-3.9.0). */
  chart: "3.9.0",
} as const;

/** File the overlay's admission policy is written to (k8s/overlays/<tier>/). */
export const admissionFile = "admission-policy.yaml";
/** The policy's name before kustomize's `namePrefix`. */
export const admissionPolicyName = "admission";
/**
 * Key mode with a file or environment key: the public key is not in the tier config (it names
 * the private key), so the policy reads it from this ConfigMap in the tier's namespace, which
 * the operator creates from cosign.pub (docs/k8s.md#admission). Absent, the policy fails closed.
 */
export const publicKeyConfigMap = { name: "cosign-public-key", key: "cosign.pub" } as const;

/** The attestor's name in CEL (`attestors.passage`): a fixed identifier, tier names may not be. */
const attestorName = "passage";
const regenerate = "run `tiers admission generate` to regenerate it";

/** True for the tiers whose overlay carries an admission policy: kubernetes, signatures required. */
export function requiresAdmissionPolicy(tier: Tier): boolean {
  return tier.runtime === "kubernetes" && tier.signing.required;
}

/** The tier a digest must have passed to enter `tier`: the one chain rule, on this tier alone. */
function passedTier(tier: Tier): string | undefined {
  return previousTier(
    { project: tier.project, order: [tier.tier], tiers: { [tier.tier]: tier } },
    tier.tier,
  );
}

/** The cosign attestor of the tier's signing block: keyless identity, KMS key or ConfigMap key. */
function attestor(tier: Tier): {
  cosign: ImageValidatingPolicy["spec"]["attestors"][number]["cosign"];
  variables?: ImageValidatingPolicy["spec"]["variables"];
  /** The signer in the refusal message; never a key file's path, which differs per machine. */
  signer: string;
} {
  const { signing } = tier;
  if (signing.mode === "keyless" && signing.identity) {
    const { subject, issuer } = signing.identity;
    return {
      cosign: { keyless: { identities: [{ subject, issuer }] } },
      signer: `identity ${subject} (${issuer})`,
    };
  }
  if (signing.mode === "key" && signing.key) {
    const key = parseKeyRef(signing.key);
    if (key.kind === "kms") return { cosign: { key: { kms: key.uri } }, signer: `key ${key.uri}` };
    // Read in the pod's namespace, as Kyverno's own conformance test reads a ConfigMap
    // (test/conformance/chainsaw/image-validating-policies/standard/notary-configmap-cert).
    return {
      variables: [
        {
          name: "publicKey",
          expression: `resource.get("v1", "configmaps", object.metadata.namespace, "${publicKeyConfigMap.name}")`,
        },
      ],
      cosign: { key: { expression: `variables.publicKey.data["${publicKeyConfigMap.key}"]` } },
      signer: `the key in ConfigMap ${publicKeyConfigMap.name}`,
    };
  }
  // The tier schema refuses `required: true` without a key or identity; never guess one.
  throw new Error(
    `environments/${tier.tier}.yaml: signing.required is true but signing names no key or identity`,
  );
}

/**
 * The tier's admission policy, un-prefixed and un-namespaced like every overlay object
 * (kustomize adds both); undefined for a tier that needs none.
 */
export function admissionPolicy(tier: Tier): ImageValidatingPolicy | undefined {
  if (!requiresAdmissionPolicy(tier)) return undefined;
  const from = passedTier(tier);
  if (from === undefined) return undefined; // a chain start is published into, never promoted
  const ours = imageRepository(tier.registry.host, tier.registry.namespace, "");
  const { cosign, variables, signer } = attestor(tier);
  const annotations = passageAnnotations(tier.project, from);
  const annotated = Object.entries(annotations)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  const images = "images.containers + images.initContainers + images.ephemeralContainers";
  return {
    apiVersion: kyvernoPolicyApiVersion,
    kind: kyvernoPolicyKind,
    metadata: { name: admissionPolicyName },
    spec: {
      validationActions: ["Deny"],
      failurePolicy: "Fail",
      webhookConfiguration: { timeoutSeconds: admissionWebhookSeconds },
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [""],
            apiVersions: ["v1"],
            operations: ["CREATE", "UPDATE"],
            resources: ["pods"],
          },
        ],
      },
      // Every image of our registry namespace, by tag or digest: a tag is not a way around it.
      matchImageReferences: [{ glob: `${ours}/*` }],
      // Overlays pin digests already; a tag is refused (verifyDigest), never rewritten.
      validationConfigurations: { mutateDigest: false, verifyDigest: true, required: true },
      ...(variables ? { variables } : {}),
      attestors: [
        {
          name: attestorName,
          cosign: { ...cosign, annotations },
        },
      ],
      validations: [
        {
          expression: `(${images}).filter(image, image.startsWith("${ours}/")).all(image, verifyImageSignatures(image, [attestors.${attestorName}]) > 0)`,
          message: `an image of ${ours}/ has no signature by ${signer} annotated ${annotated}: it has not passed ${from}; promote its digest with \`tiers promote --env ${tier.tier}\``,
        },
      ],
    },
  };
}

const generatedNote = (tier: Tier) =>
  `Generated from environments/${tier.tier}.yaml (signing, promotion.from) by tiers admission generate; do not edit.\n# Needs Kyverno ${kyverno.version} (chart ${kyverno.chart}) in the cluster: docs/k8s.md#admission`;

/** The overlay file of `tier`'s admission policy, by name relative to its overlay; {} if none. */
export function admissionFiles(tier: Tier): Record<string, string> {
  const policy = admissionPolicy(tier);
  if (!policy) return {};
  return { [admissionFile]: `# ${generatedNote(tier)}\n${stringify(policy, { lineWidth: 0 })}` };
}

/**
 * Drift between a rendered overlay and the tier's signing policy: the policy kustomize renders
 * (prefixed `<project>-<tier>-`) has exactly the derived spec; there is none when the tier
 * needs none.
 */
export function checkAdmissionDrift(objects: readonly KubeObject[], tier: Tier): ManifestFinding[] {
  const want = admissionPolicy(tier);
  const name = `${tier.project}-${tier.tier}-${admissionPolicyName}`;
  const rendered = objects.filter((o) => o.kind === kyvernoPolicyKind);
  const findings: ManifestFinding[] = [];
  if (want) {
    const got = rendered.find((o) => o.metadata.name === name);
    if (!got) {
      findings.push({
        rule: "drift/admission",
        object: `overlay ${tier.tier}`,
        path: "",
        message: `no ${kyvernoPolicyKind} "${name}": signing.required is on, so the cluster must verify passages too; list ${admissionFile} in resources and ${regenerate}`,
      });
    } else if (!isDeepStrictEqual(got.spec, want.spec)) {
      findings.push({
        rule: "drift/admission",
        object: objectId(got),
        path: "spec",
        message: `differs from what environments/${tier.tier}.yaml says (signing, promotion.from); ${regenerate}`,
      });
    }
  }
  for (const got of rendered) {
    if (want && got.metadata.name === name) continue;
    findings.push({
      rule: "drift/admission",
      object: objectId(got),
      path: "",
      message: `is not derived from the tier config${want ? "" : " (signing.required is off)"}; ${regenerate}`,
    });
  }
  return findings;
}
