/**
 * The admission policy generated from a tier's signing block, on the observability fixture's
 * tier model (test/fixtures/observability/environments: dev → test → staging → prod, staging
 * and prod on kubernetes, keyless), edited per case. What each field means to Kyverno comes
 * from its source at kyverno/kyverno@v1.19.0, cited where the test relies on it. No cluster
 * here: the policy is generated, schema-checked and policy-checked, never admitted.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  admissionFile,
  admissionFiles,
  admissionPolicy,
  checkAdmissionDrift,
  checkPolicies,
  type KubeObject,
  migrationPrerequisitesOf,
  namespaceOf,
  publicKeyConfigMap,
  requiresAdmissionPolicy,
  validateSchemas,
} from "../../../../pipelines/src/core/manifests/index.ts";
import { passageAnnotations } from "../../../../pipelines/src/core/promotion/evidence.ts";
import { edit } from "../environment/fixtures.ts";
import { model } from "../observability/fixture-model.ts";

const keyless = `  mode: keyless
  identity:
    subject: https://github.com/tiers-dev/tiers/.github/workflows/release.yml@refs/heads/main
    issuer: https://token.actions.githubusercontent.com
`;

/** The fixture with staging's signing block replaced by `signing` (YAML under `signing:`). */
function withStagingSigning(signing: string) {
  return model((files) => {
    files["staging.yaml"] = edit(files["staging.yaml"]!, `  required: true\n${keyless}`, signing);
  });
}

/** The policy as kustomize renders it into the tier's namespace with the overlay's prefix. */
function rendered(tier: Parameters<typeof admissionPolicy>[0]): KubeObject {
  const policy = admissionPolicy(tier)!;
  return {
    ...structuredClone(policy),
    metadata: { name: `${tier.project}-${tier.tier}-admission`, namespace: namespaceOf(tier) },
  };
}

describe("the admission policy of a tier (generated from its signing block)", () => {
  it("keyless: the tier's identity and issuer, and the annotation of the tier it promotes from", () => {
    const prod = model().tiers.prod!;
    const policy = admissionPolicy(prod)!;
    expect(policy.apiVersion).toBe("policies.kyverno.io/v1");
    expect(policy.kind).toBe("NamespacedImageValidatingPolicy");
    expect(policy.spec.attestors).toEqual([
      {
        name: "passage",
        cosign: {
          keyless: {
            identities: [
              {
                subject:
                  "https://github.com/tiers-dev/tiers/.github/workflows/release.yml@refs/heads/main",
                issuer: "https://token.actions.githubusercontent.com",
              },
            ],
          },
          // prod's promotion.from is staging: a digest enters prod only with a staging passage.
          annotations: { "tiers.tier": "staging" },
        },
      },
    ]);
    expect(policy.spec.variables).toBeUndefined();
  });

  it("the annotation is the one cosign signing writes (passageAnnotations, one definition)", () => {
    const staging = model().tiers.staging!;
    const annotations = admissionPolicy(staging)!.spec.attestors[0]!.cosign.annotations;
    expect(annotations).toEqual(passageAnnotations(staging.project, "test"));
  });

  it("key mode with a key file: the public key comes from a ConfigMap in the pod's namespace", () => {
    const staging = withStagingSigning(
      "  required: true\n  mode: key\n  key: file:/run/secrets/cosign.key\n",
    ).tiers.staging!;
    const spec = admissionPolicy(staging)!.spec;
    // Kyverno's conformance test standard/notary-configmap-cert reads its key material the
    // same way: a `resource.get` variable, then an `expression` on the attestor.
    expect(spec.variables).toEqual([
      {
        name: "publicKey",
        expression: `resource.get("v1", "configmaps", object.metadata.namespace, "${publicKeyConfigMap.name}")`,
      },
    ]);
    expect(spec.attestors[0]!.cosign).toEqual({
      key: { expression: `variables.publicKey.data["cosign.pub"]` },
      annotations: { "tiers.tier": "test" },
    });
    // The refusal never carries a machine's key path (it would differ per checkout).
    expect(JSON.stringify(spec)).not.toContain("/run/secrets");
  });

  it("key mode with a KMS key: Kyverno reads the same public key cosign verifies with", () => {
    const staging = withStagingSigning(
      "  required: true\n  mode: key\n  key: vault:transit/tiers-staging\n",
    ).tiers.staging!;
    // cosign names Vault transit keys hashivault:// (core/promotion/signing-key.ts); Kyverno
    // hands `kms` to sigstore's PublicKeyFromKeyRefWithHashAlgo (ivpol/cosign/opts.go).
    expect(admissionPolicy(staging)!.spec.attestors[0]!.cosign.key).toEqual({
      kms: "hashivault://transit/tiers-staging",
    });
  });

  it("a kubernetes tier without required signatures gets no policy and no file", () => {
    const staging = withStagingSigning("  required: false\n  mode: none\n").tiers.staging!;
    expect(requiresAdmissionPolicy(staging)).toBe(false);
    expect(admissionPolicy(staging)).toBeUndefined();
    expect(admissionFiles(staging)).toEqual({});
  });

  it("tiers not on kubernetes get none, whatever their signing says", () => {
    const m = model();
    for (const name of ["dev", "test"]) {
      expect(m.tiers[name]!.runtime).not.toBe("kubernetes");
      expect(admissionPolicy(m.tiers[name]!)).toBeUndefined();
    }
  });

  it("fails closed: refuses pods, on any image of the tier's registry namespace, tag or digest", () => {
    const spec = admissionPolicy(model().tiers.prod!)!.spec;
    expect(spec.validationActions).toEqual(["Deny"]);
    expect(spec.failurePolicy).toBe("Fail");
    expect(spec.webhookConfiguration.timeoutSeconds).toBeGreaterThan(0);
    expect(spec.matchConstraints.resourceRules[0]!.resources).toEqual(["pods"]);
    expect(spec.matchImageReferences).toEqual([{ glob: "127.0.0.1:5000/tiers/*" }]);
    expect(spec.validationConfigurations).toEqual({
      mutateDigest: false,
      verifyDigest: true,
      required: true,
    });
    // An image outside matchImageReferences counts 0 (pkg/cel/libs/imageverify/impl.go), so
    // the validation filters to ours; init and ephemeral containers are checked too.
    expect(spec.validations[0]!.expression).toBe(
      '(images.containers + images.initContainers + images.ephemeralContainers).filter(image, image.startsWith("127.0.0.1:5000/tiers/")).all(image, verifyImageSignatures(image, [attestors.passage]) > 0)',
    );
    expect(spec.validations[0]!.message).toContain("it has not passed staging");
  });

  it("passes the offline schema check and the tier policies as kustomize renders it (no cluster here: not admitted)", () => {
    const m = model();
    for (const name of ["staging", "prod"]) {
      const object = rendered(m.tiers[name]!);
      expect(validateSchemas([object])).toEqual([]);
      expect(checkPolicies([object]).filter((f) => f.object.includes("admission"))).toEqual([]);
    }
  });

  it("the schema check refuses a policy Kyverno's CRD would not type (missing attestors, bad enum)", () => {
    const object = rendered(model().tiers.prod!) as KubeObject & {
      spec: Record<string, unknown>;
    };
    delete object.spec.attestors;
    object.spec.failurePolicy = "Sometimes";
    expect(validateSchemas([object]).map((f) => f.path)).toEqual([
      "/spec/failurePolicy",
      "/spec/attestors",
    ]);
  });

  it("the deploy applies it with the migration Job's prerequisites, so the Job's image is verified too", () => {
    const object = rendered(model().tiers.prod!);
    expect(migrationPrerequisitesOf([object])).toEqual([object]);
  });

  it("the file is the policy as YAML, under a generated-file header", () => {
    const prod = model().tiers.prod!;
    const text = admissionFiles(prod)[admissionFile]!;
    expect(text.split("\n")[0]).toBe(
      "# Generated from environments/prod.yaml (signing, promotion.from) by tiers admission generate; do not edit.",
    );
    expect(parse(text)).toEqual(admissionPolicy(prod));
  });
});

describe("admission drift in a rendered overlay", () => {
  it("none when the rendered policy is the generated one", () => {
    const prod = model().tiers.prod!;
    expect(checkAdmissionDrift([rendered(prod)], prod)).toEqual([]);
  });

  it("a policy edited by hand (another identity) is drift", () => {
    const prod = model().tiers.prod!;
    const object = rendered(prod);
    (object.spec as { attestors: { cosign: { keyless: unknown } }[] })
      .attestors[0]!.cosign.keyless = {
      identities: [{ subject: "someone@example.com", issuer: "https://accounts.example" }],
    };
    expect(
      checkAdmissionDrift([object], prod).map((f) => `${f.rule} ${f.object} ${f.path}`),
    ).toEqual(["drift/admission NamespacedImageValidatingPolicy/tiers-prod-admission spec"]);
  });

  it("a missing policy is drift for a tier that requires signatures", () => {
    const prod = model().tiers.prod!;
    const [finding] = checkAdmissionDrift([], prod);
    expect(finding?.object).toBe("overlay prod");
    expect(finding?.message).toContain('no NamespacedImageValidatingPolicy "tiers-prod-admission"');
  });

  it("a leftover policy is drift for a tier that no longer requires signatures", () => {
    const signed = model().tiers.staging!;
    const unsigned = withStagingSigning("  required: false\n  mode: none\n").tiers.staging!;
    expect(checkAdmissionDrift([rendered(signed)], unsigned).map((f) => f.message)).toEqual([
      "is not derived from the tier config (signing.required is off); run `tiers admission generate` to regenerate it",
    ]);
  });
});
