/**
 * The per-tier parts of the CI templates, derived from the promotion chain: the tier after the
 * chain start is promoted into on every push to main (test verdict recorded, passage signed,
 * signature verified); every later tier gets an on-demand job in the CI vendor's protected
 * environment named after it, whose required reviewers are the tier's approvals. A tier that
 * declares infrastructure (`infra:` in its config) with remote state gets an infrastructure job
 * (infra-plan, then infra-apply of that saved plan) that its promotion waits for, so the
 * sequence is infrastructure → application. Pure; the blocks are spliced into the files by
 * blocks.ts.
 */
import { imageRepository } from "../artefact.ts";
import type { EnvironmentModel } from "../environment/model.ts";
import type { Tier } from "../environment/schema.ts";
import { promotableServices } from "../repository/consistency.ts";

export type CiVendor = "github" | "gitlab";

/** The CI files tiers generates blocks in, by vendor. */
export const ciFiles: Readonly<Record<CiVendor, string>> = {
  github: ".github/workflows/release.yml",
  gitlab: ".gitlab-ci.yml",
};

const gh = (expression: string) => `\${{ ${expression} }}`;

/** What each vendor hands a `dagger call`: its variables, secrets as `env:` references. */
const values: Record<CiVendor, Record<string, string | undefined>> = {
  github: {
    commit: gh("github.sha"),
    registry: gh("vars.TIERS_REGISTRY"),
    "registry-username": gh("vars.TIERS_REGISTRY_USERNAME || github.actor"),
    "registry-password": "env:REGISTRY_PASSWORD",
    "oidc-token": "env:SIGSTORE_ID_TOKEN",
    "git-remote": `https://github.com/${gh("github.repository")}`,
    "git-token": "env:GIT_TOKEN",
    "git-username": undefined,
    kubeconfig: "env:KUBECONFIG_DATA",
    actor: gh("github.actor"),
    "aws-access-key-id": "env:AWS_ACCESS_KEY_ID",
    "aws-secret-access-key": "env:AWS_SECRET_ACCESS_KEY",
  },
  gitlab: {
    commit: '"$CI_COMMIT_SHA"',
    registry: '"$CI_REGISTRY"',
    "registry-username": '"$CI_REGISTRY_USER"',
    "registry-password": "env:CI_REGISTRY_PASSWORD",
    "oidc-token": "env:SIGSTORE_ID_TOKEN",
    "git-remote": '"$CI_PROJECT_URL.git"',
    "git-token": "env:TIERS_GIT_TOKEN",
    "git-username": "oauth2",
    kubeconfig: "env:KUBECONFIG_DATA",
    actor: '"$GITLAB_USER_LOGIN"',
    "aws-access-key-id": "env:AWS_ACCESS_KEY_ID",
    "aws-secret-access-key": "env:AWS_SECRET_ACCESS_KEY",
  },
};

export interface DaggerCallStep {
  fn:
    | "record-tests"
    | "publish"
    | "record-scan"
    | "plan"
    | "promote"
    | "verify"
    | "infra-plan"
    | "infra-apply";
  tier?: Tier;
  /** Pin this commit (the push's); on-demand jobs promote whatever passed the tier before. */
  commit?: boolean;
  /** promote: sign the passage keyless and deploy (Kubernetes tiers). */
  promote?: { sign: boolean; ciEnvironment: boolean };
  /** plan's output format; absent = the human-readable plan. */
  format?: "json";
  /** infra-apply: pass the CI environment the approvals gate reads. */
  ciEnvironment?: boolean;
  /** record-scan: the service whose image of the commit was scanned, and the report file. */
  scan?: { service: string; report: string };
}

/** Where a CI job keeps the plan directory infra-plan returns, for infra-apply to take back. */
export function infraPlanDir(tier: Tier): string {
  return `.tiers/infra/${tier.tier}`;
}

/**
 * Whether a tier gets an infrastructure job: it declares infrastructure, with remote state. A
 * CI runner's local state file is gone when the job ends, so a local-state tier is planned and
 * applied from a workstation (`tiers infra plan|apply`), not from CI.
 */
export function hasCiInfra(tier: Tier): boolean {
  return tier.infra !== undefined && tier.infra.state.backend !== "local";
}

/**
 * THE one place a tier job's `dagger call` is spelled, as words. The module's shared settings
 * (registry and its credentials, git remote and token) are constructor flags and come before the
 * function (`--registry R --git-token env:T promote --env prod …`, pipelines/src/index.ts); the
 * function's own flags follow it. Every template line that calls Dagger comes from here, and the
 * template tests parse each against the module's declared flags.
 */
export function daggerCall(vendor: CiVendor, step: DaggerCallStep): string[] {
  const v = values[vendor];
  const settings: string[] = [];
  const call: string[] = [step.fn];
  const flag = (words: string[], name: string, value?: string) => {
    if (value === undefined) words.push(`--${name}`);
    else words.push(`--${name}`, value);
  };
  const fromVendor = (words: string[], ...names: string[]) => {
    for (const name of names) if (v[name] !== undefined) flag(words, name, v[name]);
  };
  const kubernetes = step.tier?.runtime === "kubernetes";
  const promote = step.fn === "promote";
  const infra = step.fn === "infra-plan" || step.fn === "infra-apply";
  // record-tests and infra only push records to git; verify only talks to the registry.
  // publish pushes its evidence commit (SBOM, provenance), record-scan the scan's.
  if (step.fn !== "record-tests" && !infra) {
    fromVendor(settings, "registry", "registry-username", "registry-password");
  }
  if (step.fn !== "verify") {
    fromVendor(settings, "git-remote", "git-token", "git-username");
  }
  if (step.tier) flag(call, "env", step.tier.tier);
  if (step.commit) flag(call, "commit", v.commit);
  if (promote && kubernetes) flag(call, "deploy");
  if (step.fn === "plan" && step.format) flag(call, "format", step.format);
  if (promote && step.promote?.sign) fromVendor(call, "oidc-token");
  if (promote && kubernetes) fromVendor(call, "kubeconfig");
  if (step.scan) {
    flag(call, "service", step.scan.service);
    flag(call, "report", step.scan.report);
  }
  if (promote || ["record-tests", "publish", "record-scan"].includes(step.fn)) {
    fromVendor(call, "actor");
  }
  if (promote && step.promote?.ciEnvironment && step.tier) {
    flag(call, "ci-environment", step.tier.tier);
  }
  if (infra && step.tier) {
    if (step.fn === "infra-apply") flag(call, "plan", infraPlanDir(step.tier));
    fromVendor(call, "aws-access-key-id", "aws-secret-access-key");
    if (step.fn === "infra-apply" && step.ciEnvironment)
      flag(call, "ci-environment", step.tier.tier);
    // infra-plan returns the plan directory: exported where infra-apply reads it.
    if (step.fn === "infra-plan") call.push("export", "--path", infraPlanDir(step.tier));
  }
  return [...settings, ...call];
}

/** The chain split the way CI runs it: promoted on push, then promoted on demand. */
export function ciTiers(model: EnvironmentModel): { onPush?: Tier; onDemand: Tier[] } {
  const tiers = model.order.map((name) => model.tiers[name]!);
  return { onPush: tiers[1], onDemand: tiers.slice(2) };
}

/**
 * The grype every CI vendor scans with: the version anchore/scan-action v7.4.0 pins
 * (GrypeVersion.js of anchore/scan-action at e1165082), passed to the action as grype-version
 * and used as the GitLab image's tag, so both vendors' reports come from one scanner version.
 */
export const grypeVersion = "v0.110.0";

/** The images CI scans after publish: every built service's, tagged with the commit. */
export function scannedServices(model: EnvironmentModel): string[] {
  return promotableServices(model.tiers[model.order[0]!]!).sort();
}

/** `<registry>/<namespace>/<service>:<commit>` in the vendor's expressions. */
function scannedImage(model: EnvironmentModel, vendor: CiVendor, service: string): string {
  const v = values[vendor];
  const namespace = model.tiers[model.order[0]!]!.registry.namespace;
  const unquote = (value: string | undefined) => (value ?? "").replace(/^"|"$/g, "");
  return `${imageRepository(unquote(v.registry), namespace, service)}:${unquote(v.commit)}`;
}

function approvalsComment(tier: Tier, indent: string, where: string): string[] {
  const { required, source } = tier.approvals;
  if (required === 0) return [`${indent}# ${tier.tier}: no approvals (approvals.required: 0)`];
  const who =
    source === "ci-environment"
      ? `${required} required reviewer(s) of the protected environment "${tier.tier}" (${where})`
      : `${required} approval(s) recorded with \`tiers approve\` (approvals.source: record)`;
  return [`${indent}# ${tier.tier}: ${who}`];
}

// ---------------------------------------------------------------- GitHub Actions

const action = {
  checkout: "actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2",
  dagger: "dagger/dagger-for-github@456fc3af63a2ba6f9789af9c55045b459115541b # v8.3.0",
  script: "actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea # v7.0.1",
  scan: "anchore/scan-action@e1165082ffb1fe366ebaf02d8526e7c4989ea9d2 # v7.4.0",
};

/** A dagger-for-github step; the whole call on one line, as `dagger call` takes it. */
function githubStep(name: string, step: DaggerCallStep): string[] {
  return [
    "",
    `      - name: ${name}`,
    `        uses: ${action.dagger}`,
    "        with:",
    `          version: ${gh("env.DAGGER_VERSION")}`,
    `          call: ${daggerCall("github", step).join(" ")}`,
  ];
}

const checkoutStep = ["      - name: Check out", `        uses: ${action.checkout}`];
const oidcStep = [
  "",
  "      - name: Request the OIDC token for keyless signing",
  `        uses: ${action.script}`,
  "        with:",
  "          script: |",
  '            const token = await core.getIDToken("sigstore");',
  "            core.setSecret(token);",
  '            core.exportVariable("SIGSTORE_ID_TOKEN", token);',
];

/**
 * Per built service: grype (anchore/scan-action) scans the image the publish step pushed, by
 * the commit's tag straight from the registry, writing grype's JSON without failing the job
 * (the security-scan gate judges it, by each tier's criteria); record-scan commits it for the
 * digest the registry serves for that tag, and refuses a report of any other digest.
 */
function githubScanSteps(model: EnvironmentModel): string[] {
  return scannedServices(model).flatMap((service) => {
    const report = `${gh("runner.temp")}/${service}.grype.json`;
    return [
      "",
      `      - name: Scan the published ${service} image with grype (its JSON report)`,
      `        uses: ${action.scan}`,
      "        env:",
      `          GRYPE_REGISTRY_AUTH_AUTHORITY: ${gh("vars.TIERS_REGISTRY")}`,
      `          GRYPE_REGISTRY_AUTH_USERNAME: ${gh("vars.TIERS_REGISTRY_USERNAME || github.actor")}`,
      `          GRYPE_REGISTRY_AUTH_PASSWORD: ${gh("env.REGISTRY_PASSWORD")}`,
      "        with:",
      `          image: registry:${scannedImage(model, "github", service)}`,
      `          grype-version: ${grypeVersion}`,
      "          fail-build: false",
      "          output-format: json",
      `          output-file: ${report}`,
      ...githubStep(`Record the ${service} scan in git (what the security-scan gate reads)`, {
        fn: "record-scan",
        commit: true,
        scan: { service, report },
      }),
    ];
  });
}

/** The two infrastructure steps of a tier: plan with its own state, then apply that plan. */
function githubInfraSteps(tier: Tier, ciEnvironment: boolean): string[] {
  return [
    ...githubStep(
      `Plan ${tier.marker} ${tier.tier} infrastructure (saved plan and summary, budget, run recorded)`,
      { fn: "infra-plan", tier },
    ),
    ...githubStep(`Apply that plan (approvals gate; refuses destroying protected resources)`, {
      fn: "infra-apply",
      tier,
      ciEnvironment,
    }),
  ];
}

const githubCloudEnv = [
  `      AWS_ACCESS_KEY_ID: ${gh("secrets.AWS_ACCESS_KEY_ID")}`,
  `      AWS_SECRET_ACCESS_KEY: ${gh("secrets.AWS_SECRET_ACCESS_KEY")}`,
];

/** A tier's infrastructure job: build → infrastructure → application, so promotion needs it. */
function githubInfraJob(tier: Tier): string[] {
  const ciEnvironment = tier.approvals.source === "ci-environment";
  return [
    "",
    `  infra-${tier.tier}:`,
    `    name: infrastructure of ${tier.tier} (${tier.marker})`,
    `    if: github.event_name == 'workflow_dispatch' && inputs.tier == '${tier.tier}'`,
    "    runs-on: ubuntu-24.04",
    "    timeout-minutes: 60",
    ...approvalsComment(tier, "    ", "Settings → Environments"),
    `    environment: ${tier.tier}`,
    "    permissions:",
    "      contents: write # each infra run is recorded under releases/infra/",
    "    env:",
    `      GIT_TOKEN: ${gh("secrets.GITHUB_TOKEN")}`,
    ...githubCloudEnv,
    "    steps:",
    ...checkoutStep,
    ...githubInfraSteps(tier, ciEnvironment),
  ];
}

function githubPublishJob(model: EnvironmentModel, into: Tier): string[] {
  const start = model.tiers[model.order[0]!]!;
  return [
    "  publish:",
    `    name: test, publish, sign (${start.marker} → ${into.marker})`,
    "    if: github.event_name == 'push'",
    "    runs-on: ubuntu-24.04",
    "    timeout-minutes: 60",
    "    permissions:",
    `      contents: write # promotion records for the ${into.tier} tier are committed to releases/`,
    "      packages: write # push to the registry with the workflow token",
    "      id-token: write # keyless signing",
    "    env:",
    `      REGISTRY_PASSWORD: ${gh("secrets.TIERS_REGISTRY_PASSWORD || secrets.GITHUB_TOKEN")}`,
    `      GIT_TOKEN: ${gh("secrets.GITHUB_TOKEN")}`,
    ...(into.runtime === "kubernetes"
      ? [`      KUBECONFIG_DATA: ${gh("secrets.KUBECONFIG")}`]
      : []),
    ...(hasCiInfra(into) ? githubCloudEnv : []),
    "    steps:",
    ...checkoutStep,
    ...githubStep("Test tier, verdict recorded in git (what the tests-passed gate reads)", {
      fn: "record-tests",
      commit: true,
    }),
    ...githubStep("Publish images (tag = commit SHA; SBOM and provenance recorded in git)", {
      fn: "publish",
      commit: true,
    }),
    ...githubScanSteps(model),
    ...(hasCiInfra(into) ? githubInfraSteps(into, false) : []),
    ...oidcStep,
    ...githubStep(
      `Promote into ${into.marker} ${into.tier} — records the passage and signs it keyless`,
      { fn: "promote", tier: into, commit: true, promote: { sign: true, ciEnvironment: false } },
    ),
    ...githubStep(`Verify the passage signature (the identity the next tier will require)`, {
      fn: "verify",
      tier: into,
      commit: true,
    }),
  ];
}

function githubPromoteJob(tier: Tier): string[] {
  const ciEnvironment = tier.approvals.source === "ci-environment";
  return [
    "",
    `  promote-${tier.tier}:`,
    `    name: promote into ${tier.tier} (${tier.marker})`,
    `    if: github.event_name == 'workflow_dispatch' && inputs.tier == '${tier.tier}'`,
    ...(hasCiInfra(tier) ? [`    needs: [infra-${tier.tier}]`] : []),
    "    runs-on: ubuntu-24.04",
    "    timeout-minutes: 30",
    ...approvalsComment(tier, "    ", "Settings → Environments"),
    `    environment: ${tier.tier}`,
    "    permissions:",
    "      contents: write # the overlay pin and the promotion record are commits",
    "      id-token: write # the passage signature is keyless",
    "    env:",
    `      REGISTRY_PASSWORD: ${gh("secrets.TIERS_REGISTRY_PASSWORD || secrets.GITHUB_TOKEN")}`,
    `      GIT_TOKEN: ${gh("secrets.GITHUB_TOKEN")}`,
    ...(tier.runtime === "kubernetes"
      ? [`      KUBECONFIG_DATA: ${gh("secrets.KUBECONFIG")}`]
      : []),
    "    steps:",
    ...checkoutStep,
    ...oidcStep,
    ...githubStep("Plan (what would change, every gate with its reason)", { fn: "plan", tier }),
    ...githubStep(
      tier.runtime === "kubernetes"
        ? `Promote and deploy${tier.deploy.strategy === "blue-green" ? " (blue-green)" : ""}`
        : "Promote",
      { fn: "promote", tier, promote: { sign: true, ciEnvironment } },
    ),
  ];
}

// ---------------------------------------------------------------- GitLab CI

const gitlabLine = (step: DaggerCallStep) =>
  `    - dagger call ${daggerCall("gitlab", step).join(" ")}`;

/**
 * Per built service, on the job's Docker daemon: grype's image scans the published image by the
 * commit's tag, straight from the registry (credentials from the job's variables, never in the
 * command line), and record-scan commits the JSON report for the digest the tag names.
 */
function gitlabScanLines(model: EnvironmentModel): string[] {
  return scannedServices(model).flatMap((service) => {
    const report = `/tmp/${service}.grype.json`;
    const auth = ["AUTHORITY", "USERNAME", "PASSWORD"].map((k) => `-e GRYPE_REGISTRY_AUTH_${k}`);
    return [
      `    - docker run --rm ${auth.join(" ")} anchore/grype:${grypeVersion} "registry:${scannedImage(model, "gitlab", service)}" -o json > ${report}`,
      gitlabLine({ fn: "record-scan", commit: true, scan: { service, report } }),
    ];
  });
}

function gitlabPushJob(model: EnvironmentModel, into: Tier): string[] {
  return [
    `# Records the test verdict and a grype scan of each published image, then promotes into ${into.tier}:`,
    "# the passage is recorded and signed keyless (GitLab's OIDC token), and verified against the",
    "# identity the next tier requires.",
    `promote-${into.tier}:`,
    "  extends: [.release, .keyless]",
    `  stage: promote-${into.tier}`,
    "  variables:",
    "    GRYPE_REGISTRY_AUTH_AUTHORITY: $CI_REGISTRY",
    "    GRYPE_REGISTRY_AUTH_USERNAME: $CI_REGISTRY_USER",
    "    GRYPE_REGISTRY_AUTH_PASSWORD: $CI_REGISTRY_PASSWORD",
    "  script:",
    gitlabLine({ fn: "record-tests", commit: true }),
    ...gitlabScanLines(model),
    ...(hasCiInfra(into)
      ? [
          gitlabLine({ fn: "infra-plan", tier: into }),
          gitlabLine({ fn: "infra-apply", tier: into }),
        ]
      : []),
    gitlabLine({
      fn: "promote",
      tier: into,
      commit: true,
      promote: { sign: true, ciEnvironment: false },
    }),
    gitlabLine({ fn: "verify", tier: into, commit: true }),
  ];
}

/** A tier's infrastructure job, in the tier's stage; its promotion needs it. */
function gitlabInfraJob(tier: Tier, previous: Tier | undefined, last: boolean): string[] {
  const ciEnvironment = tier.approvals.source === "ci-environment";
  return [
    `infra-${tier.tier}:`,
    ...approvalsComment(tier, "  ", "Settings → CI/CD → Protected environments"),
    "  extends: .release",
    `  stage: ${tier.tier}`,
    "  rules:",
    '    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE != "merge_request_event"',
    "      when: manual",
    `  resource_group: ${tier.tier}`,
    ...(previous ? [`  needs: [promote-${previous.tier}]`] : []),
    "  environment:",
    `    name: ${tier.tier}`,
    `    deployment_tier: ${deploymentTier(tier, last)}`,
    "  script:",
    gitlabLine({ fn: "infra-plan", tier }),
    gitlabLine({ fn: "infra-apply", tier, ciEnvironment }),
    "",
  ];
}

function gitlabPromoteJob(tier: Tier, previous: Tier | undefined, last: boolean): string[] {
  const ciEnvironment = tier.approvals.source === "ci-environment";
  const needs = [
    ...(previous ? [`promote-${previous.tier}`] : []),
    ...(hasCiInfra(tier) ? [`infra-${tier.tier}`] : []),
  ];
  return [
    ...(hasCiInfra(tier) ? gitlabInfraJob(tier, previous, last) : []),
    `promote-${tier.tier}:`,
    ...approvalsComment(tier, "  ", "Settings → CI/CD → Protected environments"),
    "  extends: [.release, .keyless]",
    `  stage: ${tier.tier}`,
    "  rules:",
    '    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE != "merge_request_event"',
    "      when: manual",
    `  resource_group: ${tier.tier}`,
    ...(needs.length ? [`  needs: [${needs.join(", ")}]`] : []),
    "  environment:",
    `    name: ${tier.tier}`,
    `    deployment_tier: ${deploymentTier(tier, last)}`,
    "  script:",
    gitlabLine({ fn: "plan", tier }),
    gitlabLine({ fn: "promote", tier, promote: { sign: true, ciEnvironment } }),
  ];
}

/**
 * GitLab's deployment tiers are a fixed list (production, staging, testing, development, other:
 * https://docs.gitlab.com/ci/environments/#deployment-tier-of-environments): the end of the
 * chain is production, the other tiers go by the NODE_ENV they run with.
 */
function deploymentTier(tier: Tier, last: boolean): string {
  if (last) return "production";
  return { production: "staging", test: "testing", development: "development" }[tier.node_env];
}

/** Every generated block of `vendor`'s file, by block name. */
export function generatedBlocks(model: EnvironmentModel, vendor: CiVendor): Record<string, string> {
  const { onPush, onDemand } = ciTiers(model);
  const lastName = model.order[model.order.length - 1];
  if (vendor === "github") {
    return {
      "dispatch-tiers": onDemand.map((t) => `          - ${t.tier}`).join("\n"),
      "publish-job": onPush ? githubPublishJob(model, onPush).join("\n") : "",
      "promotion-jobs": onDemand
        .flatMap((t) => [...(hasCiInfra(t) ? githubInfraJob(t) : []), ...githubPromoteJob(t)])
        .join("\n"),
    };
  }
  return {
    stages: [...(onPush ? [`promote-${onPush.tier}`] : []), ...onDemand.map((t) => t.tier)]
      .map((stage) => `  - ${stage}`)
      .join("\n"),
    "promote-jobs": [
      ...(onPush ? [...gitlabPushJob(model, onPush), ""] : []),
      "# Protected environments (Settings → CI/CD → Protected environments) hold the approvals that",
      "# environments/<tier>.yaml asks for (approvals.source: ci-environment).",
      ...onDemand.flatMap((tier, i) => [
        ...(i > 0 ? [""] : []),
        ...gitlabPromoteJob(tier, onDemand[i - 1], tier.tier === lastName),
      ]),
    ].join("\n"),
  };
}
