/**
 * The tiers pipeline as a Dagger module: `dagger call <function>` runs the same stages as the
 * `tiers` CLI, in containers, on a laptop or in any CI vendor.
 *
 * Every decision (labels, tags, which services, gates, plans, argument vectors) comes from the
 * core and tool modules the CLI uses. This file only declares the functions, their flags and
 * their documentation (what `dagger functions` and `dagger call <fn> --help` print); the bodies
 * call the builders in engines/dagger/. Settings many functions share are constructor
 * arguments, given before the function: `dagger call --registry R --git-token env:T promote
 * --env prod`. Functions with side effects are never cached.
 */

import {
  argument,
  type Container,
  check,
  type Directory,
  type File,
  func,
  type GitRepository,
  object,
  type Secret,
  type Service,
} from "@dagger.io/dagger";
import { isBuildTarget } from "./core/artefact.ts";
import { UsageError } from "./core/errors.ts";
import {
  devStack,
  ephemeralLoadTest,
  runTests,
  testRunners,
  validateRepositoryWithDagger,
} from "./engines/dagger/checks.ts";
import { infraPipelineStep, savedPlan } from "./engines/dagger/infra.ts";
import { builtService, DaggerPipeline } from "./engines/dagger/pipeline.ts";
import {
  evidenceStep,
  planFormatFlags,
  scanStep,
  selection,
  testReport,
} from "./engines/dagger/promotion.ts";
import {
  deployWithDagger,
  passage,
  publishImages,
  publishPlan,
  signingSecrets,
  signPassage,
  verifyPassage,
} from "./engines/dagger/release.ts";
import { caSecret } from "./engines/dagger/stages.ts";

@object()
export class Tiers {
  /** The repository, filtered by the ignore list. */
  source: Directory;
  /** The checkout's .git/config and nothing else, read for the origin remote. */
  gitConfig: Directory;
  /** Registry host (default: environments/base.yaml registry.host). */
  registry?: string;
  /** Registry user (default: anonymous). */
  registryUsername?: string;
  /** Registry password or token. */
  registryPassword?: Secret;
  /** Git remote promotions clone and push. */
  gitRemote?: string;
  /** Token allowed to push to the git remote. */
  gitToken?: Secret;
  /** User name sent with the git token. */
  gitUsername: string;
  /** Branch pins and records live on. */
  branch: string;

  constructor(
    /**
     * The repository to build and deliver (default: the checkout this module lives in).
     * Dependencies, build output, .git, machine-local .tiers/, secrets (.env*) and Terraform
     * state are left out: they would invalidate the cache or leak into the engine.
     */
    @argument({
      defaultPath: "/",
      ignore: [
        ".git",
        ".tiers",
        "pipelines/sdk",
        "**/node_modules",
        "**/dist",
        "**/coverage",
        "**/*.log",
        "**/.env",
        "**/.env.*",
        "**/*.tfstate",
        "**/*.tfstate.*",
        "**/.terraform",
        "**/*.tfplan",
        "**/.tiers",
      ],
    })
    source: Directory,
    /**
     * The checkout's .git/config only, read for the origin remote when --git-remote is not
     * given (default: the checkout's own; empty in a git worktree, whose .git is a file).
     */
    @argument({ defaultPath: "/", ignore: ["*", "!.git/config"] })
    gitConfig: Directory,
    /** Registry host to publish to and read from (default: environments/base.yaml registry.host). */
    registry?: string,
    /** Registry user (default: anonymous). */
    registryUsername?: string,
    /** Registry password or token, as a Dagger secret (e.g. env:REGISTRY_PASSWORD). */
    registryPassword?: Secret,
    /** Git remote promotions and test records are pushed to (default: origin of the checkout's .git/config). */
    gitRemote?: string,
    /** Token allowed to push to the git remote, as a Dagger secret (e.g. env:GIT_TOKEN). */
    gitToken?: Secret,
    /** User name sent with the git token (GitHub: x-access-token; GitLab: oauth2). */
    gitUsername = "x-access-token",
    /** Branch the pins and records live on. */
    branch = "main",
  ) {
    this.source = source;
    this.gitConfig = gitConfig;
    this.registry = registry;
    this.registryUsername = registryUsername;
    this.registryPassword = registryPassword;
    this.gitRemote = gitRemote;
    this.gitToken = gitToken;
    this.gitUsername = gitUsername;
    this.branch = branch;
  }

  /**
   * Validates every tier file (schema, policies, promotion chain) and reports each problem
   * with its file, line and column, then checks Terraform formatting. Fails when anything is
   * wrong; changes nothing. A check: `dagger check` runs it.
   */
  @func()
  @check()
  async validate(): Promise<string> {
    return validateRepositoryWithDagger(this.pipeline());
  }

  /**
   * Builds one service's image from its Dockerfile with the pipeline's labels and returns the
   * container, so it can be chained: `dagger call build --service api terminal`.
   */
  @func()
  async build(
    /** Service to build, as named in compose/compose.yaml (e.g. api, worker). */
    service: string,
    /** The checkout's git history, read for HEAD, its time and uncommitted changes. */
    @argument({ defaultPath: "/" }) repo: GitRepository,
    /** Dockerfile target: production (promotable), development (dev tier) or test. */
    target = "production",
    /** The commit CI was triggered for; refused unless it is HEAD of the checkout. */
    commit?: string,
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml build.base_image). */
    baseImage?: string,
    /**
     * Extra CA bundle for package installs behind a TLS-intercepting proxy, given to the build
     * as the BuildKit secret `ca`, never stored in a layer.
     */
    extraCaBundle?: Secret,
  ): Promise<Container> {
    if (!isBuildTarget(target)) {
      throw new UsageError(`--target must be production, development or test, got "${target}"`);
    }
    const pipeline = this.pipeline();
    const context = await pipeline.context({ baseImage });
    const revision = await pipeline.revision(repo, commit);
    const spec = builtService(await pipeline.stack(context, "compose", revision.commit), service);
    return pipeline.image(context, spec, target, revision, await caSecret(extraCaBundle));
  }

  /**
   * The test tier: builds each service's test target and runs its tests against a fresh
   * PostgreSQL bound as a Dagger service. As compose/compose.test.yaml says, the API's runner
   * first loads migrations and fixtures with `node src/migrate.ts --fixtures`. Returns the test
   * output; fails when any suite fails. Cached by its inputs; records nothing (see
   * record-tests). A check: `dagger check` runs it. Add --interactive to open a shell where it
   * failed.
   */
  @func()
  @check()
  async test(
    /** The checkout's git history, read for HEAD, its time and uncommitted changes. */
    @argument({ defaultPath: "/" }) repo: GitRepository,
    /** Only this service (default: every service compose builds). */
    service?: string,
    /** The commit CI was triggered for; refused unless it is HEAD of the checkout. */
    commit?: string,
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml). */
    baseImage?: string,
    /** Extra CA bundle for package installs, given to builds as the BuildKit secret `ca`. */
    extraCaBundle?: Secret,
  ): Promise<string> {
    const options = {
      repo,
      service,
      commit,
      baseImage,
      extraCaBundle: await caSecret(extraCaBundle),
    };
    const pipeline = this.pipeline();
    return (await runTests(await testRunners(pipeline, options), await ephemeralLoadTest(pipeline)))
      .output;
  }

  /**
   * Runs the test tier and, when every suite passed, records the verdict in git
   * (releases/tests/<commit>.yaml, what the tests-passed gate reads) with `tiers record-tests`
   * and pushes it to the git remote (needs --git-token). Never cached.
   */
  @func({ cache: "never" })
  async recordTests(
    /** The checkout's git history, read for HEAD, its time and uncommitted changes. */
    @argument({ defaultPath: "/" }) repo: GitRepository,
    /** The commit CI was triggered for; refused unless it is HEAD of the checkout. */
    commit?: string,
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml). */
    baseImage?: string,
    /** Extra CA bundle for package installs, given to builds as the BuildKit secret `ca`. */
    extraCaBundle?: Secret,
    /** Who ran the tests, for the record (CI: the actor who triggered the run). */
    actor?: string,
  ): Promise<string> {
    const pipeline = this.pipeline();
    const options = { repo, commit, baseImage, extraCaBundle: await caSecret(extraCaBundle) };
    const tested = await runTests(
      await testRunners(pipeline, options),
      await ephemeralLoadTest(pipeline),
    );
    const revision = await pipeline.revision(repo, commit);
    const report = testReport(revision.commit, tested.services, tested.performance);
    const step = await pipeline.promotion(["record-tests", "--report", report.path], {
      actor,
      files: { [report.path]: report.text },
      push: true,
    });
    return `${tested.output}\n${(await pipeline.conclude(step, "record-tests")).trimEnd()}\n`;
  }

  /**
   * The dev stack (development targets, PostgreSQL, every service of compose/compose.dev.yaml)
   * as one service forwarding the ports the dev override publishes:
   * `dagger call dev up --ports 8080:8080,9229:9229`.
   */
  @func()
  async dev(
    /** The checkout's git history, read for HEAD, its time and uncommitted changes. */
    @argument({ defaultPath: "/" }) repo: GitRepository,
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml). */
    baseImage?: string,
    /** Extra CA bundle for package installs, given to builds as the BuildKit secret `ca`. */
    extraCaBundle?: Secret,
  ): Promise<Service> {
    return devStack(this.pipeline(), {
      repo,
      baseImage,
      extraCaBundle: await caSecret(extraCaBundle),
    });
  }

  /**
   * Builds every service's production image once for HEAD, pushes it to --registry tagged
   * with the commit SHA, records each digest's SBOM and SLSA provenance in git with `tiers
   * record-evidence` (releases/sboms/, releases/provenance/; attested with --cosign-key) and
   * pushes that commit to the git remote (needs --git-token). Returns the artefact record
   * (JSON: the digests later stages promote and CI scans). Refuses a working tree with
   * uncommitted changes. Never cached.
   */
  @func({ cache: "never" })
  async publish(
    /** The checkout's git history, read for HEAD, its time and uncommitted changes. */
    @argument({ defaultPath: "/" }) repo: GitRepository,
    /** The commit CI was triggered for; refused unless it is HEAD of the checkout. */
    commit?: string,
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml). */
    baseImage?: string,
    /** Extra CA bundle for package installs, given to builds as the BuildKit secret `ca`. */
    extraCaBundle?: Secret,
    /** Attest the SBOM and provenance with this cosign private key, as a Dagger secret. */
    cosignKey?: Secret,
    /** The password of the cosign key, as a Dagger secret. */
    cosignPassword?: Secret,
    /** Who published, for the evidence commit (CI: the actor who triggered the run). */
    actor?: string,
  ): Promise<string> {
    const pipeline = this.pipeline();
    const options = { repo, commit, baseImage, extraCaBundle: await caSecret(extraCaBundle) };
    const plan = await publishPlan(pipeline, options);
    const startedOn = new Date().toISOString();
    const record = await publishImages(plan);
    const finishedOn = new Date().toISOString();
    const evidence = evidenceStep({ commit: plan.commit, text: record }, { startedOn, finishedOn });
    const step = await pipeline.promotion(evidence.args, {
      ...{ actor, cosignKey, cosignPassword, files: evidence.files },
      push: true,
    });
    await pipeline.conclude(step, "record-evidence");
    return record;
  }

  /**
   * Records a vulnerability scanner's report of a published digest in git with `tiers
   * record-scan` (releases/scans/, what the security-scan gate reads) and pushes it to the git
   * remote (needs --git-token); attested to --repository@digest with --cosign-key. The scan
   * runs where the scanner reaches its data (a CI step); this only records its report.
   * Never cached.
   */
  @func({ cache: "never" })
  async recordScan(
    /** The scanner's report, exactly as it wrote it (e.g. `grype <ref> -o json`). */
    report: File,
    /** The published digest the report is about (sha256:…); or --commit with --service. */
    digest?: string,
    /** With --service: the published commit whose image of that service was scanned. */
    commit?: string,
    /** With --commit: the service whose image was scanned (e.g. scanned by the commit's tag). */
    service?: string,
    /** Report format (grype). */
    format = "grype",
    /** The digest's repository (<registry>/<namespace>/<service>), to attest the report to. */
    repository?: string,
    /** Attest the report with this cosign private key, as a Dagger secret. */
    cosignKey?: Secret,
    /** The password of the cosign key, as a Dagger secret. */
    cosignPassword?: Secret,
    /** Who recorded the scan, for the record (CI: the actor who triggered the run). */
    actor?: string,
  ): Promise<string> {
    const scan = scanStep({ digest, commit, service, format, repository });
    const pipeline = this.pipeline();
    const step = await pipeline.promotion(scan.args, {
      ...{ commit: scan.commit, actor, cosignKey, cosignPassword },
      uploads: { [scan.path]: report },
      push: true,
    });
    return pipeline.conclude(step, "record-scan");
  }

  /**
   * Signs the published images of a commit as the passage of a tier: a cosign signature bound
   * to each digest and annotated with the tier, made the way the tier's signing policy says
   * (key or keyless). Never cached.
   */
  @func({ cache: "never" })
  async sign(
    /** Tier whose passage the signatures evidence (e.g. dev right after publish). */
    env: string,
    /** The checkout's git history, read for HEAD when --commit is not given. */
    @argument({ defaultPath: "/" }) repo: GitRepository,
    /** Published commit whose images to sign (default: HEAD of the checkout). */
    commit?: string,
    /** Key mode: the cosign private key, as a Dagger secret (e.g. file:./cosign.key). */
    cosignKey?: Secret,
    /** Key mode: the password of the cosign key, as a Dagger secret. */
    cosignPassword?: Secret,
    /** Keyless mode: the CI's OIDC identity token for Sigstore, as a Dagger secret. */
    oidcToken?: Secret,
  ): Promise<string> {
    const secrets = signingSecrets({ cosignKey, cosignPassword, oidcToken });
    return signPassage(env, await passage(this.pipeline(), env, { repo, commit, secrets }));
  }

  /**
   * Verifies that the published images of a commit carry the tier's passage signature, by the
   * key or identity in the tier's signing policy. Fails on unsigned, wrong signer or a moved
   * digest. Never cached: signatures live in the registry, not in the inputs.
   */
  @func({ cache: "never" })
  async verify(
    /** Tier whose passage signature must be present. */
    env: string,
    /** The checkout's git history, read for HEAD when --commit is not given. */
    @argument({ defaultPath: "/" }) repo: GitRepository,
    /** Published commit whose images to verify (default: HEAD of the checkout). */
    commit?: string,
    /** Key mode: the cosign public key, as a Dagger secret (default: the policy's key reference). */
    cosignPublicKey?: Secret,
  ): Promise<string> {
    const secrets = signingSecrets({ cosignPublicKey });
    return verifyPassage(env, await passage(this.pipeline(), env, { repo, commit, secrets }));
  }

  /**
   * Deploys a Kubernetes tier from its overlay: render, check, apply server-side, wait for the
   * rollouts, smoke-check health endpoints, switch colours (blue-green) and roll back by itself
   * when a check fails. Never cached.
   */
  @func({ cache: "never" })
  async deploy(
    /** Tier to deploy (its runtime must be kubernetes: staging or prod). */
    env: string,
    /** kubeconfig for the tier's cluster, as a Dagger secret (e.g. file:~/.kube/staging). */
    kubeconfig?: Secret,
    /** kubeconfig context to use (default: the file's current context). */
    kubeContext?: string,
    /** Render, check and plan only; no cluster is contacted (the pins are still verified). */
    dryRun = false,
    /** Key mode: the cosign public key the pins' signatures are verified with, as a Dagger secret. */
    cosignPublicKey?: Secret,
  ): Promise<string> {
    return deployWithDagger(this.pipeline(), {
      env,
      kubeconfig,
      kubeContext,
      dryRun,
      cosignPublicKey,
    });
  }

  /**
   * Previews a promotion into a tier: digest from → to, the overlay diff, and every gate with
   * pass or fail and why. Changes nothing. Runs the same `tiers plan` as a laptop, in a toolbox
   * built from the pinned images, on a fresh clone of the git remote. Never cached: it reads
   * live state.
   */
  @func({ cache: "never" })
  async plan(
    /** Tier to promote into (e.g. staging, prod). */
    env: string,
    /** Plan every image of this published commit (default: what passed the previous tier). */
    commit?: string,
    /** Plan this digest only (sha256:…). */
    digest?: string,
    /** Only this service. */
    service?: string,
    /** Output format: text or json. */
    format = "text",
  ): Promise<string> {
    const args = ["plan", "--env", env, ...selection({ commit, digest, service })];
    const pipeline = this.pipeline();
    const step = await pipeline.promotion([...args, ...planFormatFlags(format)], { commit });
    return pipeline.conclude(step, "plan");
  }

  /**
   * Promotes into a tier: computes the plan, refuses unless every gate passes, pins the digest
   * in the tier's overlay, records the promotion in git and pushes it, then (with --deploy)
   * deploys. Idempotent; concurrent runs lose cleanly. Never cached.
   */
  @func({ cache: "never" })
  async promote(
    /** Tier to promote into (e.g. test, staging, prod). */
    env: string,
    /** Promote every image of this published commit (default: what passed the previous tier). */
    commit?: string,
    /** Promote this digest only (sha256:…). */
    digest?: string,
    /** Only this service. */
    service?: string,
    /** Deploy the tier after pinning (Kubernetes tiers; needs --kubeconfig). */
    deploy = false,
    /** kubeconfig for the deploy step, as a Dagger secret. */
    kubeconfig?: Secret,
    /** Who promotes, for the records (CI: the actor who triggered the run). */
    actor?: string,
    /**
     * The CI environment this job runs in (GitHub environment / GitLab protected environment),
     * whose protection rules are the approvals of tiers with approvals.source ci-environment.
     */
    ciEnvironment?: string,
    /** Keyless signing: the CI's OIDC identity token for Sigstore, as a Dagger secret. */
    oidcToken?: Secret,
    /** Key signing: the cosign private key, as a Dagger secret. */
    cosignKey?: Secret,
    /** Key signing: the password of the cosign key, as a Dagger secret. */
    cosignPassword?: Secret,
  ): Promise<string> {
    const deployFlag = deploy ? [] : ["--no-deploy"];
    const args = ["promote", "--env", env, "--yes", ...deployFlag];
    const pipeline = this.pipeline();
    const step = await pipeline.promotion([...args, ...selection({ commit, digest, service })], {
      ...{ commit, kubeconfig, actor, ciEnvironment, oidcToken, cosignKey, cosignPassword },
      push: true,
    });
    return pipeline.conclude(step, "promote");
  }

  /**
   * Rolls a Kubernetes tier back to an earlier pin (default: the previous one), records it as a
   * rollback in git and pushes it, then (with --deploy) deploys. Never cached.
   */
  @func({ cache: "never" })
  async rollback(
    /** Tier to roll back (staging or prod). */
    env: string,
    /** A digest pinned earlier, or an overlay commit (default: the previous distinct pins). */
    to?: string,
    /** Why, kept in the history record and the commit message. */
    reason?: string,
    /** Deploy the restored pin (needs --kubeconfig). */
    deploy = false,
    /** kubeconfig for the deploy step, as a Dagger secret. */
    kubeconfig?: Secret,
    /** Who rolls back, for the records. */
    actor?: string,
  ): Promise<string> {
    const args = ["rollback", "--env", env, ...(to ? ["--to", to] : [])];
    const more = [...(reason ? ["--reason", reason] : []), ...(deploy ? [] : ["--no-deploy"])];
    const pipeline = this.pipeline();
    const step = await pipeline.promotion([...args, ...more], { kubeconfig, actor, push: true });
    return pipeline.conclude(step, "rollback");
  }

  /**
   * Plans a tier's infrastructure (`tiers infra plan --env <tier>`) on a fresh clone of the git
   * remote and pushes the run's record. Returns the saved plan, its summary and the printed
   * output, which infra-apply takes back. Never cached.
   */
  @func({ cache: "never" })
  async infraPlan(
    /** Tier whose infrastructure to plan (a tier with `infra` in its config). */
    env: string,
    /** Cloud credentials for terraform, as a Dagger secret (bound as AWS_ACCESS_KEY_ID). */
    awsAccessKeyId?: Secret,
    /** Bound as AWS_SECRET_ACCESS_KEY. */
    awsSecretAccessKey?: Secret,
  ): Promise<Directory> {
    const pipeline = this.pipeline();
    const step = await infraPipelineStep(pipeline, "plan", env, {
      awsAccessKeyId,
      awsSecretAccessKey,
    });
    const printed = await pipeline.conclude(step, `infra plan --env ${env}`);
    return savedPlan(step.cli, env, printed);
  }

  /**
   * Applies the plan infra-plan returned, only after the tier's approvals gate passes
   * (`tiers infra apply --env <tier>`), and pushes the run's record. Never cached.
   */
  @func({ cache: "never" })
  async infraApply(
    /** Tier whose infrastructure to apply. */
    env: string,
    /** The directory infra-plan returned: the saved plan and its summary. */
    plan: Directory,
    /** Cloud credentials for terraform, as a Dagger secret (bound as AWS_ACCESS_KEY_ID). */
    awsAccessKeyId?: Secret,
    /** Bound as AWS_SECRET_ACCESS_KEY. */
    awsSecretAccessKey?: Secret,
    /** The CI environment this job runs in, whose protection rules are the tier's approvals. */
    ciEnvironment?: string,
  ): Promise<string> {
    const pipeline = this.pipeline();
    const step = await infraPipelineStep(pipeline, "apply", env, {
      awsAccessKeyId,
      awsSecretAccessKey,
      ciEnvironment,
      plan,
    });
    return pipeline.conclude(step, `infra apply --env ${env}`);
  }

  /**
   * The shared inputs of every function, from the constructor state. Not a Dagger function
   * (no @func): `dagger functions` does not list it; the offline tests replace it.
   */
  pipeline(): DaggerPipeline {
    return new DaggerPipeline({
      source: this.source,
      gitConfig: this.gitConfig,
      registry: this.registry,
      registryUsername: this.registryUsername,
      registryPassword: this.registryPassword,
      gitRemote: this.gitRemote,
      gitToken: this.gitToken,
      gitUsername: this.gitUsername,
      branch: this.branch,
    });
  }
}
