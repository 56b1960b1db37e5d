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

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  argument,
  type Container,
  type Directory,
  func,
  type GitRepository,
  object,
  type Secret,
  type Service,
} from "@dagger.io/dagger";
import {
  type ArtefactRecord,
  type BuildTarget,
  imageLabels,
  imageRepository,
  imageTag,
  isBuildTarget,
  isPromotableTag,
  type PublishedImage,
  type Revision,
  serializeArtefactRecord,
} from "./core/artefact.ts";
import {
  type EnvironmentModel,
  formatProblem,
  loadModel,
  validateRepository,
} from "./core/environment/index.ts";
import { TiersError, UsageError } from "./core/errors.ts";
import { parseImageRef } from "./core/promotion/refs.ts";
import { type ComposeTier, composeFilesFor } from "./core/topology.ts";
import { runDagger } from "./engines/dagger/run.ts";
import {
  mergedCompose,
  type StackService,
  stackFront,
  stackServices,
  stackServicesAsDagger,
  withBindings,
} from "./engines/dagger/stack.ts";
import { buildImage, caSecret } from "./engines/dagger/stages.ts";
import { materialize } from "./engines/dagger/workspace.ts";
import { buildSettings } from "./engines/host/build.ts";

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
     * The repository's git history, read only for the commit (and its time) that images are
     * labelled and tagged with (default: the repository this module lives in).
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
    return `environments valid: ${model.order.join(" → ")} (${model.order.length} tiers)\n`;
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
   * PostgreSQL bound as a Dagger service, loaded with migrations and fixtures. Returns the
   * test output; fails when any suite fails. Add --interactive to open a shell where it failed.
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
  ): Promise<string> {
    const runners = await this.testRunners({
      service,
      commit,
      baseImage,
      extraCaBundle: await caSecret(extraCaBundle),
    });
    const reports: string[] = [];
    for (const [name, runner] of Object.entries(runners)) {
      // The suite is the test target's own CMD, so the Dockerfile stays the one place it is named.
      const command = await runner.defaultArgs();
      const output = await runner.withExec(command, { useEntrypoint: true }).stdout();
      reports.push(`🜁 ${name}: tests passed\n${output.trimEnd()}`);
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

  // ---------------------------------------------------------------------------------------
  // Inputs, gathered the Dagger way. Overridable so tests can stop at the engine boundary.

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
      TIERS_BASE_IMAGE: context.baseImage,
      TIERS_POSTGRES_IMAGE: context.postgresImage,
      TIERS_LABEL_PREFIX: context.project,
      TIERS_GIT_SHA: commit,
      TIERS_RUN_ID: `dagger-${commit.slice(0, 12)}`,
    });
    return stackServices(merged, "compose");
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
      buildArgs: { BASE_IMAGE: context.baseImage },
      labels: imageLabels({ project: context.project, service: spec.name, target, revision }),
      ...(caBundle ? { caBundle } : {}),
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

/** A build target from a flag, or a usage error listing the valid ones. */
function asTarget(value: string): BuildTarget {
  if (!isBuildTarget(value)) {
    throw new UsageError(`--target must be production, development or test, got "${value}"`);
  }
  return value;
}
