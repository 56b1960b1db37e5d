/**
 * What every Dagger function of the module shares: the module's settings (the constructor
 * arguments), and the inputs gathered the Dagger way — the filtered repository as a local
 * directory for core loaders, the project facts, the compose topology, the revision images are
 * labelled with, the git remote. The functions in pipelines/src/index.ts only declare their
 * flags and call into this class and the stage builders next to it (checks.ts, release.ts,
 * promotion.ts).
 *
 * The input methods are overridable so the offline tests can stop at the engine boundary.
 */
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type Container,
  type Directory,
  dag,
  ExistsType,
  type GitRepository,
  type Secret,
} from "@dagger.io/dagger";
import {
  type BuildTarget,
  imageBuildArgs,
  imageLabels,
  type Revision,
} from "../../core/artefact.ts";
import { loadModel } from "../../core/environment/index.ts";
import { tierOfRuntime } from "../../core/environment/roles.ts";
import { TiersError, UsageError } from "../../core/errors.ts";
import { composeFilesFor } from "../../core/topology.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import { buildSettings, tierVariables } from "../host/build.ts";
import {
  concludeStep,
  type PromotionOptions,
  type PromotionStep,
  promotionStep,
} from "./promotion.ts";
import { resolveRemote } from "./remote.ts";
import { headRevision } from "./revision.ts";
import { type DaggerRunOptions, registryAuth, runDagger } from "./run.ts";
import { mergedCompose, type StackService, stackServices } from "./stack.ts";
import type { LocalRuntime, ModuleSettings, StageContext, StageInputs } from "./stage-inputs.ts";
import { buildImage } from "./stages.ts";
import { gitAuthHeader } from "./toolbox.ts";
import { materialize } from "./workspace.ts";

export type { ModuleSettings, StageContext } from "./stage-inputs.ts";

export class DaggerPipeline implements StageInputs {
  constructor(readonly settings: ModuleSettings) {}

  get source(): Directory {
    return this.settings.source;
  }

  /** Runs one tool invocation in its pinned image and returns its result, failures included. */
  async execute(invocation: Invocation, options: DaggerRunOptions): Promise<ToolResult> {
    return runDagger(invocation, { ...options, reject: false });
  }

  /** Registry credentials for tools that push or read signatures and manifests themselves. */
  async credentials(host: string, username: string, password: Secret): Promise<Secret> {
    return registryAuth(host, username, password);
  }

  /** The registry login of the settings as a Docker config secret, when a password is set. */
  async registryLogin(registry: string): Promise<Secret | undefined> {
    const { registryUsername, registryPassword } = this.settings;
    return registryPassword
      ? this.credentials(registry, registryUsername ?? "", registryPassword)
      : undefined;
  }

  /** The git auth header for a token, as a secret (the token is read only inside the engine). */
  async gitCredentials(username: string, token: Secret): Promise<Secret> {
    return dag.setSecret("git-auth", gitAuthHeader(username, await token.plaintext()));
  }

  /** The filtered repository as a local directory, for core loaders. */
  async workspace(): Promise<string> {
    return materialize(this.source);
  }

  /** The git remote: `--git-remote`, else `origin` from the checkout's own git config. */
  async remote(): Promise<string> {
    const config = this.settings.gitConfig;
    const present = config ? await hasGitConfig(config) : false;
    return resolveRemote({
      explicit: this.settings.gitRemote,
      gitConfig: present && config ? config.file(".git/config") : undefined,
      run: (invocation, source) => this.execute(invocation, { source }),
    });
  }

  /**
   * The revision images are labelled with: HEAD of the checkout (a `--commit` that is not HEAD
   * is refused), its time, whether the working tree is dirty, and the remote as the source.
   */
  async revision(repo: GitRepository | undefined, commit?: string): Promise<Revision> {
    if (!repo) {
      throw new UsageError("no git repository was given", {
        hint: "run from the module's checkout (repo defaults to it) or pass --repo",
      });
    }
    return headRevision(repo, {
      commit,
      source: () => this.remote(),
      run: (invocation, tree) => runDagger(invocation, { source: tree }),
    });
  }

  /** Project facts from the repository's own files (the CLI's loaders). */
  async context(overrides: { baseImage?: string | undefined } = {}): Promise<StageContext> {
    const root = await this.workspace();
    const model = await loadModel(root);
    // Same settings as the host engine; the module has no machine file, so flags override.
    const env: NodeJS.ProcessEnv = {};
    if (overrides.baseImage) env.TIERS_BASE_IMAGE = overrides.baseImage;
    if (this.settings.registry) env.TIERS_REGISTRY = this.settings.registry;
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
  async stack(
    context: StageContext,
    runtime: LocalRuntime,
    commit: string,
  ): Promise<Record<string, StackService>> {
    const tier = tierOfRuntime(context.model, runtime);
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
  image(
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

  /**
   * The toolbox that runs `tiers <args>` on a fresh clone of the remote with every credential
   * bound, and pushes what it committed when `push` is set. Lazy: nothing runs until read.
   */
  async promotion(args: readonly string[], options: PromotionOptions): Promise<PromotionStep> {
    return promotionStep(this, args, options);
  }

  /** Runs the CLI step and, when it succeeded, the push (see promotion.ts `concludeStep`). */
  async conclude(step: PromotionStep, command: string): Promise<string> {
    return concludeStep(step, command);
  }
}

/** True when the checkout view holds a `.git/config` file (a git worktree has none). */
async function hasGitConfig(config: Directory): Promise<boolean> {
  return config.exists(".git/config", { expectedType: ExistsType.RegularType });
}

/** A compose service built from this repository, or a usage error listing those that are. */
export function builtService(
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
