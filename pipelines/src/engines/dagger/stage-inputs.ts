/**
 * What the stage builders (release.ts, promotion.ts, infra.ts) need of the module's pipeline:
 * its settings and the inputs it gathers. They depend on this contract, not on pipeline.ts,
 * which builds on them in turn — so no two files import each other, and the offline tests can
 * still replace any input by subclassing DaggerPipeline, the one implementation.
 */
import type { Container, Directory, GitRepository, Secret } from "@dagger.io/dagger";
import type { BuildTarget, Revision } from "../../core/artefact.ts";
import type { EnvironmentModel } from "../../core/environment/index.ts";
import type { Runtime } from "../../core/environment/roles.ts";

/** The runtimes whose tier runs from compose files. */
export type LocalRuntime = Exclude<Runtime, "kubernetes">;

import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import type { DaggerRunOptions } from "./run.ts";
import type { StackService } from "./stack.ts";

/** The module's constructor arguments: settings shared by many functions. */
export interface ModuleSettings {
  /** The repository, filtered by the ignore list (no .git). */
  source: Directory;
  /** A view of the checkout holding only `.git/config` (empty when the checkout has none). */
  gitConfig?: Directory | undefined;
  /** Registry host (default: environments/base.yaml registry.host). */
  registry?: string | undefined;
  registryUsername?: string | undefined;
  registryPassword?: Secret | undefined;
  /** Git remote promotions clone and push; default: `origin` of the checkout's git config. */
  gitRemote?: string | undefined;
  gitToken?: Secret | undefined;
  gitUsername: string;
  branch: string;
}

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

/** The inputs a stage builder reads (implemented by DaggerPipeline, pipeline.ts). */
export interface StageInputs {
  readonly settings: ModuleSettings;
  readonly source: Directory;
  execute(invocation: Invocation, options: DaggerRunOptions): Promise<ToolResult>;
  registryLogin(registry: string): Promise<Secret | undefined>;
  gitCredentials(username: string, token: Secret): Promise<Secret>;
  workspace(): Promise<string>;
  remote(): Promise<string>;
  revision(repo: GitRepository | undefined, commit?: string): Promise<Revision>;
  context(overrides?: { baseImage?: string | undefined }): Promise<StageContext>;
  stack(
    context: StageContext,
    runtime: LocalRuntime,
    commit: string,
  ): Promise<Record<string, StackService>>;
  image(
    context: StageContext,
    spec: StackService,
    target: BuildTarget,
    revision: Revision,
    caBundle: Secret | undefined,
  ): Container;
}
