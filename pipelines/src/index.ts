/**
 * The tiers pipeline as a Dagger module: `dagger call <function>` runs the same stages as the
 * `tiers` CLI, in containers, on a laptop or in any CI vendor.
 *
 * Every decision (labels, tags, which services, gates, plans, argument vectors) comes from the
 * core and tool modules the CLI uses; this class only gathers inputs the Dagger way (the
 * repository as a Directory, credentials as Secrets) and expresses each step as containers
 * (engines/dagger). Functions with side effects are never cached.
 *
 * Run `dagger functions` for the list and `dagger call <function> --help` for the flags; the
 * doc comments below are what those commands print.
 */

import { statSync } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  argument,
  type Container,
  type Directory,
  dag,
  func,
  type GitRepository,
  object,
  type Secret,
  type Service,
} from "@dagger.io/dagger";
import {
  type ArtefactRecord,
  type BuildTarget,
  imageBuildArgs,
  imageLabels,
  imageRepository,
  imageTag,
  isBuildTarget,
  isPromotableTag,
  ociLabel,
  type PublishedImage,
  type Revision,
  serializeArtefactRecord,
} from "./core/artefact.ts";
import {
  type EnvironmentModel,
  formatProblem,
  loadModel,
  tierOf,
  validateRepository,
} from "./core/environment/index.ts";
import { TiersError, UsageError } from "./core/errors.ts";
import { memorySink, Reporter } from "./core/log.ts";
import {
  type PassageSubject,
  passageSigningPolicy,
  type SigningPolicy,
} from "./core/promotion/evidence.ts";
import { parseImageRef } from "./core/promotion/refs.ts";
import { type ComposeTier, composeFilesFor } from "./core/topology.ts";
import { DaggerCosignEvidence, signingSecretNames } from "./engines/dagger/evidence.ts";
import { infraStep, savedPlan } from "./engines/dagger/infra.ts";
import {
  type DaggerRunOptions,
  freshRunId,
  registryAuth,
  runDagger,
} from "./engines/dagger/run.ts";
import { type DaggerSecrets, daggerSecrets } from "./engines/dagger/secrets.ts";
import {
  mergedCompose,
  type StackService,
  stackFront,
  stackServices,
  stackServicesAsDagger,
  withBindings,
} from "./engines/dagger/stack.ts";
import { buildImage, caSecret } from "./engines/dagger/stages.ts";
import { gitAuthHeader, pushBranch, runCli, toolbox } from "./engines/dagger/toolbox.ts";
import { materialize } from "./engines/dagger/workspace.ts";
import { buildSettings, tierVariables } from "./engines/host/build.ts";
import { deployTier } from "./engines/host/deploy.ts";
import type { Invocation, ToolResult } from "./tools/invocation.ts";
import { defaultKubeconfigSecret } from "./tools/kubectl.ts";
import * as registryTool from "./tools/registry.ts";
import * as terraformTool from "./tools/terraform.ts";

/** What a stage needs about the project, read once from the repository's own files. */
export interface StageContext {
  /** Local copy of the filtered repository, for core loaders. */
  root: string;
  model: EnvironmentModel;
  project: string;
  registry: string;
  namespace: string;
  baseImage: string;
  postgresImage: string;
}

@object()
export class Tiers {
  /** The repository, filtered by the ignore list. */
  source: Directory;
  /** The repository's git history. */
  repo: GitRepository;

  constructor(
    /**
     * The repository to build and deliver (default: the repository this module lives in).
     * Dependencies, build output, .git and machine-local .tiers/ are left out so they never
     * invalidate the cache.
     */
    @argument({
      defaultPath: "/",
      ignore: [
        "**/node_modules",
        "**/dist",
        "**/coverage",
        "**/*.log",
        "**/.env",
        ".git",
        ".tiers",
        "pipelines/sdk",
      ],
    })
    source: Directory,
    /**
     * The repository's git history, read for the commit (and its time) that images are
     * labelled and tagged with, and for the remote promotions push to (default: the repository
     * this module lives in).
     */
    @argument({ defaultPath: "/" })
    repo: GitRepository,
  ) {
    this.source = source;
    this.repo = repo;
  }

  // ---------------------------------------------------------------------------------------
  // Functions

  /**
   * Validates every tier file (schema, policies, promotion chain) and reports each problem
   * with its file, line and column. Fails when anything is wrong; changes nothing.
   */
  @func()
  async validate(): Promise<string> {
    const root = await this.workspace();
    const { model, problems } = await validateRepository(root);
    if (!model || problems.length > 0) {
      throw new TiersError(
        `environments are invalid:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`,
        { where: "environments/", hint: "fix the files above, then run `dagger call validate`" },
      );
    }
    const lines = [`environments valid: ${model.order.join(" → ")} (${model.order.length} tiers)`];
    // Infrastructure code is checked in the pinned terraform image: formatting needs no provider.
    if (await exists(join(root, "terraform"))) {
      const invocation = terraformTool.fmtCheck("terraform");
      const result = await this.execute(invocation, { source: this.source });
      if (result.exitCode !== 0) {
        const files = terraformTool.parseFmtCheck(result.stdout);
        throw new TiersError(
          `terraform files are not canonically formatted: ${files.join(", ") || result.stderr.trim()}`,
          {
            where: "terraform/",
            hint: "run `terraform fmt -recursive terraform/` and commit the result",
          },
        );
      }
      lines.push("terraform formatting canonical (terraform fmt -check)");
    }
    return `${lines.join("\n")}\n`;
  }

  /**
   * Builds one service's image from its Dockerfile with the pipeline's labels and returns the
   * container, so it can be chained: `dagger call build --service api terminal`.
   */
  @func()
  async build(
    /** Service to build, as named in compose/compose.yaml (e.g. api, worker). */
    service: string,
    /** Dockerfile target: production (promotable), development (dev tier) or test. */
    target = "production",
    /** Commit to label the image with (default: HEAD of the repository). */
    commit?: string,
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml build.base_image). */
    baseImage?: string,
    /**
     * Extra CA bundle for package installs behind a TLS-intercepting proxy, given to the build
     * as the BuildKit secret `ca`, never stored in a layer.
     */
    extraCaBundle?: Secret,
  ): Promise<Container> {
    const buildTarget = asTarget(target);
    const context = await this.context({ baseImage });
    const revision = await this.revision(commit);
    const spec = builtService(await this.stack(context, "dev", revision.commit), service);
    return this.image(context, spec, buildTarget, revision, await caSecret(extraCaBundle));
  }

  /**
   * The test tier: builds each service's test target and runs its tests against a fresh
   * PostgreSQL bound as a Dagger service. As compose/compose.test.yaml says, the API's runner
   * first loads migrations and fixtures with `node src/migrate.ts --fixtures`, and its fixture
   * contract test checks them. Returns the test output; fails when any suite fails. Add
   * --interactive to open a shell where it failed.
   */
  @func()
  async test(
    /** Only this service (default: every service compose builds). */
    service?: string,
    /** Commit to label the test images with (default: HEAD of the repository). */
    commit?: string,
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml). */
    baseImage?: string,
    /** Extra CA bundle for package installs, given to builds as the BuildKit secret `ca`. */
    extraCaBundle?: Secret,
    /**
     * After every suite passed, record the verdict in git (releases/tests/<commit>.yaml, what
     * the tests-passed gate reads) with `tiers record-tests`, and push it. Needs --git-token.
     */
    record = false,
    /** Who ran the tests, for the record (CI: the actor who triggered the run). */
    actor?: string,
    /** Git remote the record is pushed to (default: the repository's origin URL). */
    gitRemote?: string,
    /** Branch the record is committed on. */
    branch = "main",
    /** Token allowed to push to the git remote, as a Dagger secret. */
    gitToken?: Secret,
    /** User name sent with the git token (GitHub: x-access-token; GitLab: oauth2). */
    gitUsername = "x-access-token",
  ): Promise<string> {
    const runners = await this.testRunners({
      service,
      commit,
      baseImage,
      extraCaBundle: await caSecret(extraCaBundle),
    });
    const reports: string[] = [];
    for (const [name, runner] of Object.entries(runners)) {
      // The compose command when compose.test.yaml gives one (the API's: fixtures, then its
      // suite), else the test target's own CMD: nothing here names a suite or a loader.
      const command = await runner.defaultArgs();
      const output = await runner.withExec(command, { useEntrypoint: true }).stdout();
      reports.push(`🜁 ${name}: tests passed\n${output.trimEnd()}`);
    }
    if (record) {
      const revision = await this.revision(commit);
      const report = testReport(revision.commit, Object.keys(runners));
      const box = await this.promotion(["record-tests", "--report", report.path], {
        branch,
        gitRemote,
        gitToken,
        gitUsername,
        actor,
        files: { [report.path]: report.text },
        push: true,
      });
      reports.push((await this.conclude(box, "record-tests")).trimEnd());
    }
    return `${reports.join("\n\n")}\n`;
  }

  /**
   * The dev stack (development targets, PostgreSQL, every service of compose/compose.dev.yaml)
   * as one service forwarding the ports the dev override publishes:
   * `dagger call dev up --ports 8080:8080,9229:9229`.
   */
  @func()
  async dev(
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml). */
    baseImage?: string,
    /** Extra CA bundle for package installs, given to builds as the BuildKit secret `ca`. */
    extraCaBundle?: Secret,
  ): Promise<Service> {
    const context = await this.context({ baseImage });
    const revision = await this.revision();
    const services = await this.stack(context, "dev", revision.commit);
    const ca = await caSecret(extraCaBundle);
    const running = stackServicesAsDagger({
      source: this.source,
      services,
      buildImage: (spec) => this.image(context, spec, "development", revision, ca),
      volumePrefix: `${context.project}-dev`,
    });
    return stackFront(services, running);
  }

  /**
   * Builds every service's production image once for the commit, pushes it tagged with the
   * commit SHA, and returns the artefact record (JSON: digests later stages promote).
   * Refuses a working tree with uncommitted changes. Never cached.
   */
  @func({ cache: "never" })
  async publish(
    /** Registry user for the push (default: anonymous). */
    registryUsername?: string,
    /** Registry password or token, as a Dagger secret (e.g. env:REGISTRY_PASSWORD). */
    registryPassword?: Secret,
    /** Registry host to push to (default: environments/base.yaml registry.host). */
    registry?: string,
    /** Commit to publish (default: HEAD of the repository). */
    commit?: string,
    /** Base image for the Dockerfiles' BASE_IMAGE (default: environments/base.yaml). */
    baseImage?: string,
    /** Extra CA bundle for package installs, given to builds as the BuildKit secret `ca`. */
    extraCaBundle?: Secret,
  ): Promise<string> {
    const pushes = await this.publishPlan({
      registryUsername,
      registryPassword,
      registry,
      commit,
      baseImage,
      extraCaBundle: await caSecret(extraCaBundle),
    });
    const images: Record<string, PublishedImage> = {};
    for (const push of pushes.images) {
      const published = await push.container.publish(push.ref);
      const digest = parseImageRef(published).digest;
      if (!digest) {
        throw new TiersError(`the registry returned no digest for ${push.ref}`, {
          where: push.ref,
          hint: "check the registry accepts OCI manifests; nothing was recorded",
        });
      }
      images[push.service] = {
        repository: push.repository,
        tag: push.tag,
        digest,
        ref: `${push.repository}@${digest}`,
      };
    }
    const record: ArtefactRecord = {
      commit: pushes.commit,
      created: new Date().toISOString(),
      registry: pushes.registry,
      images,
    };
    return serializeArtefactRecord(record);
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
    /** Commit whose published images to sign (default: HEAD of the repository). */
    commit?: string,
    /** Registry host the images were published to (default: environments/base.yaml registry.host). */
    registry?: string,
    /** Registry user for reading digests and pushing signatures (default: anonymous). */
    registryUsername?: string,
    /** Registry password or token, as a Dagger secret. */
    registryPassword?: Secret,
    /** Key mode: the cosign private key, as a Dagger secret (e.g. file:./cosign.key). */
    cosignKey?: Secret,
    /** Key mode: the password of the cosign key, as a Dagger secret. */
    cosignPassword?: Secret,
    /** Keyless mode: the CI's OIDC identity token for Sigstore, as a Dagger secret. */
    oidcToken?: Secret,
  ): Promise<string> {
    const passage = await this.passage(env, {
      commit,
      registry,
      registryUsername,
      registryPassword,
      secrets: daggerSecrets({
        [signingSecretNames.key]: cosignKey,
        [signingSecretNames.password]: cosignPassword,
        [signingSecretNames.oidcToken]: oidcToken,
      }),
    });
    if (passage.policy.mode === "none") {
      throw new TiersError(`no signing policy governs ${env} passages (signing.mode: none)`, {
        where: "environments/",
        hint: "set signing.mode to key or keyless (with key or identity) in the tier that checks this passage",
      });
    }
    const lines: string[] = [];
    for (const subject of passage.subjects) {
      const evidence = await passage.evidence.sign(subject, passage.policy);
      lines.push(
        `${passage.marker} signed ${subject.service}: ${subject.repository}@${subject.digest} (${evidence.signer ?? "no signer: signing.mode none"})`,
      );
    }
    return `${lines.join("\n")}\n`;
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
    /** Commit whose published images to verify (default: HEAD of the repository). */
    commit?: string,
    /** Registry host the images were published to (default: environments/base.yaml registry.host). */
    registry?: string,
    /** Registry user for reading signatures (default: anonymous). */
    registryUsername?: string,
    /** Registry password or token, as a Dagger secret. */
    registryPassword?: Secret,
    /** Key mode: the cosign public key, as a Dagger secret (default: the policy's key reference). */
    cosignPublicKey?: Secret,
  ): Promise<string> {
    const passage = await this.passage(env, {
      commit,
      registry,
      registryUsername,
      registryPassword,
      secrets: daggerSecrets({ [signingSecretNames.publicKey]: cosignPublicKey }),
    });
    const lines: string[] = [];
    const failures: string[] = [];
    if (passage.policy.mode === "none") {
      const note = `${passage.marker} the signing policy of ${env} passages (mode none) asks for no signature`;
      if (passage.policy.required) throw new TiersError(`${note}, yet signing.required is true`);
      return `${note}\n`;
    }
    for (const subject of passage.subjects) {
      const check = await passage.evidence.verifySignature(subject, passage.policy);
      const line = `${subject.service}: ${check.why}`;
      lines.push(`${passage.marker} ${check.ok ? "✓" : "✗"} ${line}`);
      if (!check.ok) failures.push(line);
    }
    if (failures.length > 0) {
      throw new TiersError(`passage of ${env} does not verify:\n  ${failures.join("\n  ")}`, {
        where: `environments/${env}.yaml`,
        hint: "promote through the previous tier (which signs its passage), or check the signing policy",
      });
    }
    return `${lines.join("\n")}\n`;
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
    /** Render, check and plan only; no cluster is contacted. */
    dryRun = false,
  ): Promise<string> {
    const root = await this.workspace();
    const model = await loadModel(root);
    const sink = memorySink();
    const reporter = new Reporter({ sink });
    const options: DaggerRunOptions = {
      source: this.source,
      secrets: daggerSecrets({ [defaultKubeconfigSecret]: kubeconfig }),
      runId: freshRunId(),
    };
    const printed = () => [...sink.lines, ...sink.errors].join("\n");
    try {
      await deployTier({
        root,
        tier: env,
        model,
        reporter,
        run: (invocation) => this.execute(invocation, options),
        dryRun,
        ...(kubeContext ? { context: kubeContext } : {}),
      });
    } catch (error) {
      if (error instanceof TiersError) {
        throw new TiersError(`${error.message}\n${printed()}`, {
          ...(error.where ? { where: error.where } : {}),
          ...(error.hint ? { hint: error.hint } : {}),
          cause: error,
        });
      }
      throw error;
    }
    return `${printed()}\n`;
  }

  /**
   * Previews a promotion into a tier: digest from → to, the overlay diff, and every gate with
   * pass or fail and why. Changes nothing. Runs the same `tiers plan` as a laptop, in a toolbox
   * built from the pinned images, on a fresh clone. Never cached: it reads live state.
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
    /** Print the plan as JSON. */
    json = false,
    /** Registry host the images were published to (default: environments/base.yaml registry.host). */
    registry?: string,
    /** Registry user for reading manifests and signatures (default: anonymous). */
    registryUsername?: string,
    /** Registry password or token, as a Dagger secret. */
    registryPassword?: Secret,
    /** Git remote holding the pins and records (default: the repository's origin URL). */
    gitRemote?: string,
    /** Branch the pins and records live on. */
    branch = "main",
    /** Token for a private git remote, as a Dagger secret. */
    gitToken?: Secret,
    /** User name sent with the git token (GitHub: x-access-token; GitLab: oauth2). */
    gitUsername = "x-access-token",
  ): Promise<string> {
    const box = await this.promotion(
      [
        "plan",
        "--env",
        env,
        ...selection({ commit, digest, service }),
        ...(json ? ["--json"] : []),
      ],
      {
        commit,
        registry,
        registryUsername,
        registryPassword,
        gitRemote,
        branch,
        gitToken,
        gitUsername,
      },
    );
    return this.conclude(box, "plan");
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
    /** Registry host the images were published to (default: environments/base.yaml registry.host). */
    registry?: string,
    /** Registry user for reading manifests and pushing signatures (default: anonymous). */
    registryUsername?: string,
    /** Registry password or token, as a Dagger secret. */
    registryPassword?: Secret,
    /** Keyless signing: the CI's OIDC identity token for Sigstore, as a Dagger secret. */
    oidcToken?: Secret,
    /** Key signing: the cosign private key, as a Dagger secret. */
    cosignKey?: Secret,
    /** Key signing: the password of the cosign key, as a Dagger secret. */
    cosignPassword?: Secret,
    /** Git remote the pin and records are pushed to (default: the repository's origin URL). */
    gitRemote?: string,
    /** Branch the pin and records are committed on. */
    branch = "main",
    /** Token allowed to push to the git remote, as a Dagger secret. */
    gitToken?: Secret,
    /** User name sent with the git token (GitHub: x-access-token; GitLab: oauth2). */
    gitUsername = "x-access-token",
  ): Promise<string> {
    const box = await this.promotion(
      [
        "promote",
        "--env",
        env,
        "--yes",
        ...(deploy ? [] : ["--no-deploy"]),
        ...selection({ commit, digest, service }),
      ],
      {
        commit,
        registry,
        registryUsername,
        registryPassword,
        gitRemote,
        branch,
        gitToken,
        gitUsername,
        kubeconfig,
        actor,
        ciEnvironment,
        oidcToken,
        cosignKey,
        cosignPassword,
        push: true,
      },
    );
    return this.conclude(box, "promote");
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
    /** Git remote the pin and records are pushed to (default: the repository's origin URL). */
    gitRemote?: string,
    /** Branch the pin and records are committed on. */
    branch = "main",
    /** Token allowed to push to the git remote, as a Dagger secret. */
    gitToken?: Secret,
    /** User name sent with the git token (GitHub: x-access-token; GitLab: oauth2). */
    gitUsername = "x-access-token",
  ): Promise<string> {
    const box = await this.promotion(
      [
        "rollback",
        "--env",
        env,
        ...(to ? ["--to", to] : []),
        ...(reason ? ["--reason", reason] : []),
        ...(deploy ? [] : ["--no-deploy"]),
      ],
      { gitRemote, branch, gitToken, gitUsername, kubeconfig, actor, push: true },
    );
    return this.conclude(box, "rollback");
  }

  // ---------------------------------------------------------------------------------------
  // Lazy builders the functions use. Public so the offline tests can read the exact query a
  // function would send; not Dagger functions (no @func), so `dagger functions` hides them.

  /** The test runner container of each built service, database bound, nothing run yet. */
  async testRunners(options: {
    service?: string | undefined;
    commit?: string | undefined;
    baseImage?: string | undefined;
    extraCaBundle?: Secret | undefined;
  }): Promise<Record<string, Container>> {
    const context = await this.context({ baseImage: options.baseImage });
    const revision = await this.revision(options.commit);
    const services = await this.stack(context, "test", revision.commit);
    const built = Object.values(services).filter((s) => s.build);
    if (options.service && !built.some((s) => s.name === options.service)) {
      throw new UsageError(`unknown service "${options.service}"`, {
        where: "compose/compose.yaml",
        hint: `services with tests: ${built.map((s) => s.name).join(", ")}`,
      });
    }
    const stackOptions = {
      source: this.source,
      services,
      buildImage: (spec: StackService) =>
        this.image(context, spec, "test", revision, options.extraCaBundle),
      volumePrefix: `${context.project}-test`,
    };
    // A test runner is never another runner's dependency: bind infrastructure only.
    const infrastructure = (dependency: StackService) => !dependency.build;
    const running = stackServicesAsDagger(stackOptions, infrastructure);
    const runners: Record<string, Container> = {};
    for (const spec of built) {
      if (options.service && spec.name !== options.service) continue;
      runners[spec.name] = withBindings(
        spec,
        stackOptions,
        infrastructure,
        (name) => running[name]!,
      );
    }
    return runners;
  }

  /** The production image of each service with its registry ref, ready to publish. */
  async publishPlan(options: {
    registryUsername?: string | undefined;
    registryPassword?: Secret | undefined;
    registry?: string | undefined;
    commit?: string | undefined;
    baseImage?: string | undefined;
    extraCaBundle?: Secret | undefined;
  }): Promise<{
    commit: string;
    registry: string;
    images: {
      service: string;
      repository: string;
      tag: string;
      ref: string;
      container: Container;
    }[];
  }> {
    const context = await this.context({
      baseImage: options.baseImage,
      registry: options.registry,
    });
    const revision = await this.revision(options.commit);
    const tag = imageTag(revision.commit, "production", revision.dirty);
    if (revision.dirty || !isPromotableTag(tag)) {
      throw new TiersError("the working tree has uncommitted changes; only commits are published", {
        hint: "commit your changes, then run `dagger call publish` again: a published tag must name exactly one commit",
      });
    }
    const services = await this.stack(context, "dev", revision.commit);
    const images = Object.values(services)
      .filter((s) => s.build)
      .map((spec) => {
        const repository = imageRepository(context.registry, context.namespace, spec.name);
        let container = this.image(context, spec, "production", revision, options.extraCaBundle);
        if (options.registryPassword) {
          container = container.withRegistryAuth(
            context.registry,
            options.registryUsername ?? "",
            options.registryPassword,
          );
        }
        return { service: spec.name, repository, tag, ref: `${repository}:${tag}`, container };
      });
    return { commit: revision.commit, registry: context.registry, images };
  }

  /**
   * What signing and verifying a tier's passage needs: the tier's policy, the published digest
   * of each service for the commit (asked of the registry, as the host engine does), and the
   * evidence verifier running cosign in its image.
   */
  async passage(
    env: string,
    options: {
      commit?: string | undefined;
      registry?: string | undefined;
      registryUsername?: string | undefined;
      registryPassword?: Secret | undefined;
      secrets: DaggerSecrets;
    },
  ): Promise<{
    marker: string;
    policy: SigningPolicy;
    subjects: (PassageSubject & { service: string })[];
    evidence: DaggerCosignEvidence;
  }> {
    const context = await this.context({ registry: options.registry });
    const tier = tierOf(context.model, env);
    const revision = await this.revision(options.commit);
    const runOptions: DaggerRunOptions = {
      source: this.source,
      secrets: options.secrets,
      runId: freshRunId(),
      ...(options.registryPassword
        ? {
            registryAuth: await this.credentials(
              context.registry,
              options.registryUsername ?? "",
              options.registryPassword,
            ),
          }
        : {}),
    };
    const run = (invocation: Invocation) => this.execute(invocation, runOptions);
    const images = await this.publishedImages(context, revision.commit, runOptions);
    const subjects = Object.entries(images).map(([service, image]) => ({
      tier: env,
      service,
      repository: image.repository,
      digest: image.digest,
    }));
    return {
      marker: tier.marker,
      // Who vouches for a passage: the tier that will check it (the host engine's rule).
      policy: passageSigningPolicy(context.model, env),
      subjects,
      evidence: new DaggerCosignEvidence({
        project: context.project,
        run,
        secrets: options.secrets,
      }),
    };
  }

  /**
   * The toolbox that runs `tiers <args>` on a fresh clone with every credential bound, and
   * pushes what it committed when `push` is set. Lazy: nothing runs until the output is read.
   */
  async promotion(
    args: readonly string[],
    options: {
      commit?: string | undefined;
      registry?: string | undefined;
      registryUsername?: string | undefined;
      registryPassword?: Secret | undefined;
      gitRemote?: string | undefined;
      branch: string;
      gitToken?: Secret | undefined;
      gitUsername: string;
      kubeconfig?: Secret | undefined;
      actor?: string | undefined;
      ciEnvironment?: string | undefined;
      oidcToken?: Secret | undefined;
      cosignKey?: Secret | undefined;
      cosignPassword?: Secret | undefined;
      /** Extra files to place in the clone before the CLI runs. */
      files?: Readonly<Record<string, string>>;
      push?: boolean;
    },
  ): Promise<{ cli: Container; push?: Container }> {
    const context = await this.context({ registry: options.registry });
    const registryLogin = options.registryPassword
      ? await this.credentials(
          context.registry,
          options.registryUsername ?? "",
          options.registryPassword,
        )
      : undefined;
    const files: Record<string, string> = { ...options.files };
    if (options.commit) {
      // `--commit` reads the artefact record; CI publishes in another job, so it is rebuilt
      // here from what the registry serves for the commit (the same facts publish recorded).
      const revision = await this.revision(options.commit);
      const images = await this.publishedImages(context, revision.commit, {
        source: this.source,
        secrets: {},
        runId: freshRunId(),
        ...(registryLogin ? { registryAuth: registryLogin } : {}),
      });
      files[`.tiers/artefacts/${revision.commit}.json`] = serializeArtefactRecord({
        commit: revision.commit,
        created: new Date().toISOString(),
        registry: context.registry,
        images,
      });
    }
    const secretEnv: Record<string, Secret> = {};
    const env: Record<string, string> = {};
    if (options.oidcToken) secretEnv.SIGSTORE_ID_TOKEN = options.oidcToken;
    if (options.cosignPassword) secretEnv.COSIGN_PASSWORD = options.cosignPassword;
    if (options.cosignKey) {
      secretEnv.COSIGN_PRIVATE_KEY = options.cosignKey;
      env.TIERS_COSIGN_KEY = "env://COSIGN_PRIVATE_KEY";
    }
    if (options.actor) env.TIERS_ACTOR = options.actor;
    if (options.registry) env.TIERS_REGISTRY = options.registry;
    if (options.ciEnvironment) {
      // What the host engine reads for approvals.source: ci-environment (as on a CI runner).
      env.GITHUB_ACTIONS = "true";
      env.GITHUB_ENVIRONMENT = options.ciEnvironment;
    }
    const remote =
      options.gitRemote ||
      (await this.repo.url().catch(() => "")) ||
      (() => {
        throw new UsageError("the repository has no remote URL to clone and push", {
          hint: "pass --git-remote https://<host>/<owner>/<repo>.git",
        });
      })();
    const box = runCli(
      toolbox({
        nodeImage: context.baseImage,
        remote,
        branch: options.branch,
        ...(options.gitToken
          ? { gitAuth: await this.gitCredentials(options.gitUsername, options.gitToken) }
          : {}),
        ...(registryLogin ? { registryAuth: registryLogin } : {}),
        ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
        secretEnv,
        env,
        files,
        runId: freshRunId(),
      }),
      args,
    );
    return options.push ? { cli: box, push: pushBranch(box, options.branch) } : { cli: box };
  }

  /**
   * Runs the CLI step and, when it succeeded, the push. A failure keeps the CLI's whole output
   * (the plan with every gate and why) in the error, and pushes nothing.
   */
  async conclude(step: { cli: Container; push?: Container }, command: string): Promise<string> {
    const [exitCode, stdout, stderr] = await Promise.all([
      step.cli.exitCode(),
      step.cli.stdout(),
      step.cli.stderr(),
    ]);
    if (exitCode !== 0) {
      throw new TiersError(
        `tiers ${command} failed (exit ${exitCode})\n${[stdout.trimEnd(), stderr.trimEnd()].filter(Boolean).join("\n")}`,
        { hint: "the output above is the promotion engine's own; nothing was pushed" },
      );
    }
    if (step.push) await step.push.sync();
    return stdout;
  }

  /** What the registry serves for each service's image of a commit (digest, checked revision). */
  async publishedImages(
    context: StageContext,
    commit: string,
    runOptions: DaggerRunOptions,
  ): Promise<Record<string, PublishedImage>> {
    const images: Record<string, PublishedImage> = {};
    const services = Object.values(await this.stack(context, "dev", commit)).filter((s) => s.build);
    for (const spec of services) {
      const repository = imageRepository(context.registry, context.namespace, spec.name);
      const tag = imageTag(commit, "production", false);
      const ref = `${repository}:${tag}`;
      const invocation = registryTool.inspect(ref);
      const result = await this.execute(invocation, runOptions);
      if (result.exitCode !== 0) {
        throw registryTool.registryError(invocation, result, context.registry);
      }
      const remote = registryTool.parseInspect(result.stdout);
      if (remote.labels[ociLabel.revision] !== commit) {
        throw new TiersError(
          `${ref} carries revision ${remote.labels[ociLabel.revision] ?? "(none)"}, expected ${commit}`,
          { where: ref, hint: "publish this commit first: `dagger call publish`" },
        );
      }
      images[spec.name] = {
        repository,
        tag,
        digest: remote.digest,
        ref: `${repository}@${remote.digest}`,
      };
    }
    return images;
  }

  // ---------------------------------------------------------------------------------------
  // Inputs, gathered the Dagger way. Overridable so tests can stop at the engine boundary.

  /** Runs one tool invocation in its pinned image and returns its result, failures included. */
  protected async execute(invocation: Invocation, options: DaggerRunOptions): Promise<ToolResult> {
    return runDagger(invocation, { ...options, reject: false });
  }

  /** Registry credentials for tools that push or read signatures and manifests themselves. */
  protected async credentials(host: string, username: string, password: Secret): Promise<Secret> {
    return registryAuth(host, username, password);
  }

  /** The git auth header for a token, as a secret (the token is read only inside the engine). */
  protected async gitCredentials(username: string, token: Secret): Promise<Secret> {
    return dag.setSecret("git-auth", gitAuthHeader(username, await token.plaintext()));
  }

  /** The filtered repository as a local directory, for core loaders. */
  protected async workspace(): Promise<string> {
    return materialize(this.source);
  }

  /** The revision images are labelled with: commit, commit time, dirtiness, source URL. */
  protected async revision(commit?: string): Promise<Revision> {
    const head = this.repo.head();
    const resolved = commit?.trim() || (await head.commit());
    if (!/^[0-9a-f]{40}$/.test(resolved)) {
      throw new UsageError(`--commit must be a full 40-hex commit SHA, got "${resolved}"`);
    }
    // Same question the host engine asks git (engines/host/build.ts readRevision).
    const shown = await runDagger(
      { tool: "git", args: ["show", "-s", "--format=%ct", resolved] },
      { source: head.tree() },
    );
    const committedAt = new Date(Number(shown.stdout.trim()) * 1000).toISOString();
    const dirty = commit ? false : !(await this.repo.uncommitted().isEmpty());
    const url = await this.repo.url().catch(() => "");
    return { commit: resolved, committedAt, dirty, source: url || "dagger://module-context" };
  }

  /** Project facts from the repository's own files (the CLI's loaders). */
  protected async context(overrides: {
    baseImage?: string | undefined;
    registry?: string | undefined;
  }): Promise<StageContext> {
    const root = await this.workspace();
    const model = await loadModel(root);
    // Same settings as the host engine; the module has no machine file, so flags override.
    const env: NodeJS.ProcessEnv = {};
    if (overrides.baseImage) env.TIERS_BASE_IMAGE = overrides.baseImage;
    if (overrides.registry) env.TIERS_REGISTRY = overrides.registry;
    const settings = await buildSettings(root, env);
    return {
      root,
      model,
      project: settings.project,
      registry: settings.registry,
      namespace: settings.namespace,
      baseImage: settings.baseImage,
      postgresImage: settings.postgresImage,
    };
  }

  /** The compose topology of a tier, merged and interpolated as the host engine does. */
  protected async stack(
    context: StageContext,
    tier: ComposeTier,
    commit: string,
  ): Promise<Record<string, StackService>> {
    const files = await Promise.all(
      composeFilesFor(tier).map(async (path) => ({
        path,
        text: await readFile(join(context.root, path), "utf8"),
      })),
    );
    const merged = mergedCompose(files, {
      // The tier's runtime variables (TIERS_TIER, TIERS_LOG_LEVEL, ...), as the host hands them.
      ...(await tierVariables(context.root, tier)),
      TIERS_BASE_IMAGE: context.baseImage,
      TIERS_POSTGRES_IMAGE: context.postgresImage,
      TIERS_LABEL_PREFIX: context.project,
      TIERS_GIT_SHA: commit,
      TIERS_RUN_ID: `dagger-${commit.slice(0, 12)}`,
    });
    return stackServices(merged, "compose", (path) => {
      try {
        return statSync(join(context.root, path)).isFile();
      } catch {
        throw new TiersError(`compose mounts ${path}, which is not in the repository`, {
          where: composeFilesFor(tier).join(" + "),
          hint: "mount only paths inside the repository (and not ignored by the module)",
        });
      }
    });
  }

  /** The labelled image of a compose service for a target. */
  protected image(
    context: StageContext,
    spec: StackService,
    target: BuildTarget,
    revision: Revision,
    caBundle: Secret | undefined,
  ): Container {
    if (!spec.build) {
      throw new TiersError(`service ${spec.name} is not built from this repository`, {
        where: "compose/compose.yaml",
      });
    }
    return buildImage({
      source: this.source,
      context: spec.build.context,
      dockerfile: spec.build.dockerfile,
      target,
      buildArgs: imageBuildArgs({ baseImage: context.baseImage, revision }),
      labels: imageLabels({ project: context.project, service: spec.name, target, revision }),
      ...(caBundle ? { caBundle } : {}),
    });
  }

  // --- Infrastructure stage (issue 14): `tiers infra plan|apply` with terraform in the toolbox. ---

  /**
   * Plans a tier's infrastructure (`tiers infra plan --env <tier>`) on a fresh clone and pushes
   * the run's record. Returns the saved plan, its summary and the printed output, for infraApply.
   */
  @func({ cache: "never" })
  async infraPlan(
    /** Tier whose infrastructure to plan or apply (a tier with `infra` in its config). */
    env: string,
    /** Branch the run's record is committed and pushed on. */
    branch = "main",
    /** Token to push the record with, as a secret. */
    gitToken?: Secret,
    /** User name sent with the git token. */
    gitUsername = "x-access-token",
    /** Cloud credentials for terraform, as secrets (bound as AWS_ACCESS_KEY_ID). */
    awsAccessKeyId?: Secret,
    /** Bound as AWS_SECRET_ACCESS_KEY. */
    awsSecretAccessKey?: Secret,
  ): Promise<Directory> {
    const step = await this.infraStep("plan", env, {
      branch,
      gitToken,
      gitUsername,
      awsAccessKeyId,
      awsSecretAccessKey,
    });
    const printed = await this.conclude(step, `infra plan --env ${env}`);
    return savedPlan(step.cli, env, printed);
  }

  /** Applies the plan infraPlan returned, after the approvals gate (`tiers infra apply`). */
  @func({ cache: "never" })
  async infraApply(
    /** Tier whose infrastructure to plan or apply (a tier with `infra` in its config). */
    env: string,
    /** The directory infraPlan returned: the saved plan and its summary. */
    plan: Directory,
    /** Branch the run's record is committed and pushed on. */
    branch = "main",
    /** Token to push the record with, as a secret. */
    gitToken?: Secret,
    /** User name sent with the git token. */
    gitUsername = "x-access-token",
    /** Cloud credentials for terraform, as secrets (bound as AWS_ACCESS_KEY_ID). */
    awsAccessKeyId?: Secret,
    /** Bound as AWS_SECRET_ACCESS_KEY. */
    awsSecretAccessKey?: Secret,
    /** The CI environment the job runs in (approvals.source: ci-environment). */
    ciEnvironment?: string,
  ): Promise<string> {
    const step = await this.infraStep("apply", env, {
      branch,
      gitToken,
      gitUsername,
      awsAccessKeyId,
      awsSecretAccessKey,
      ciEnvironment,
      plan,
    });
    return this.conclude(step, `infra apply --env ${env}`);
  }

  protected async infraStep(
    action: "plan" | "apply",
    tier: string,
    o: {
      branch: string;
      gitToken?: Secret | undefined;
      gitUsername: string;
      awsAccessKeyId?: Secret | undefined;
      awsSecretAccessKey?: Secret | undefined;
      ciEnvironment?: string | undefined;
      plan?: Directory | undefined;
    },
  ) {
    const context = await this.context({});
    const cloudEnv: Record<string, Secret> = {};
    if (o.awsAccessKeyId) cloudEnv.AWS_ACCESS_KEY_ID = o.awsAccessKeyId;
    if (o.awsSecretAccessKey) cloudEnv.AWS_SECRET_ACCESS_KEY = o.awsSecretAccessKey;
    return infraStep(action, tier, {
      nodeImage: context.baseImage,
      remote: await this.repo.url(),
      branch: o.branch,
      ...(o.gitToken ? { gitAuth: await this.gitCredentials(o.gitUsername, o.gitToken) } : {}),
      cloudEnv,
      // What the host engine reads for approvals.source: ci-environment (as on a CI runner).
      env: o.ciEnvironment ? { GITHUB_ACTIONS: "true", GITHUB_ENVIRONMENT: o.ciEnvironment } : {},
      ...(o.plan ? { plan: o.plan } : {}),
      runId: freshRunId(),
    });
  }
}

/** A compose service built from this repository, or a usage error listing those that are. */
function builtService(
  services: Readonly<Record<string, StackService>>,
  name: string,
): StackService {
  const spec = services[name];
  if (!spec?.build) {
    const built = Object.values(services).filter((s) => s.build);
    throw new UsageError(`unknown service "${name}"`, {
      where: "compose/compose.yaml",
      hint: `services built here: ${built.map((s) => s.name).join(", ")}`,
    });
  }
  return spec;
}

/**
 * The test tier's local report (the shape `tiers env test run` writes and `tiers record-tests`
 * reads), for a run in which every suite passed: a failed suite stops `test` before this.
 */
export function testReport(
  commit: string,
  services: readonly string[],
): { path: string; text: string } {
  const id = `dagger-${commit.slice(0, 12)}`;
  const report = {
    id,
    commit,
    outcome: "passed",
    services: services.map((service) => ({ service, outcome: "passed" })),
  };
  return { path: `.tiers/reports/test-${id}.json`, text: `${JSON.stringify(report, null, 2)}\n` };
}

/** True when `path` exists in the workspace. */
async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The CLI flags that choose what a plan or promotion is about. */
function selection(choice: {
  commit?: string | undefined;
  digest?: string | undefined;
  service?: string | undefined;
}): string[] {
  return [
    ...(choice.commit ? ["--commit", choice.commit] : []),
    ...(choice.digest ? ["--digest", choice.digest] : []),
    ...(choice.service ? ["--service", choice.service] : []),
  ];
}

/** A build target from a flag, or a usage error listing the valid ones. */
function asTarget(value: string): BuildTarget {
  if (!isBuildTarget(value)) {
    throw new UsageError(`--target must be production, development or test, got "${value}"`);
  }
  return value;
}
