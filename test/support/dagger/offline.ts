/**
 * The module with its engine-bound inputs replaced, so every function can be driven without a
 * Dagger engine: files come from this checkout, HEAD and the remote are fixed, and each tool
 * invocation is recorded (with the exact container query it would run) and answered by a
 * scripted fake instead of the engine. The `--commit` rule itself is the real one
 * (engines/dagger/revision.ts `commitToBuild`), applied to the fixed HEAD.
 */
import { fileURLToPath } from "node:url";
import { dag, type GitRepository, type Secret } from "@dagger.io/dagger";
import type { Revision } from "../../../pipelines/src/core/artefact.ts";
import {
  DaggerPipeline,
  type ModuleSettings,
} from "../../../pipelines/src/engines/dagger/pipeline.ts";
import { commitToBuild } from "../../../pipelines/src/engines/dagger/revision.ts";
import {
  type DaggerRunOptions,
  dockerConfig,
  invocationContainer,
} from "../../../pipelines/src/engines/dagger/run.ts";
import { Tiers } from "../../../pipelines/src/index.ts";
import type { Invocation, ToolResult } from "../../../pipelines/src/tools/invocation.ts";

export const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
/**
 * The fixture repository (test/fixtures/repo): tests about tiers run there, so they hold
 * whatever tier model the repository itself ships.
 */
export const fixtureRoot = fileURLToPath(new URL("../../fixtures/repo/", import.meta.url));
/** HEAD of the offline checkout. */
export const commit = "0123456789abcdef0123456789abcdef01234567";
export const remoteUrl = "https://example.test/tiers.git";
/** A stand-in for the checkout's GitRepository (the offline pipeline answers for it). */
export const repo: GitRepository = dag.git(remoteUrl);

export interface RecordedCall {
  invocation: Invocation;
  /** The container the Dagger runner would execute for this invocation. */
  container: import("@dagger.io/dagger").Container;
}

export type FakeTool = (invocation: Invocation) => ToolResult | Promise<ToolResult>;

export const ok = (stdout = ""): ToolResult => ({ exitCode: 0, stdout, stderr: "" });

/** What the offline pipeline reads and records; the OfflineTiers instance holds it. */
export interface OfflineState {
  dirty: boolean;
  root: string;
  calls: RecordedCall[];
  tool: FakeTool;
}

export class OfflinePipeline extends DaggerPipeline {
  constructor(
    settings: ModuleSettings,
    readonly state: OfflineState,
  ) {
    super(settings);
  }

  override async workspace(): Promise<string> {
    return this.state.root;
  }

  override async remote(): Promise<string> {
    return this.settings.gitRemote ?? remoteUrl;
  }

  override async revision(_repo: GitRepository | undefined, given?: string): Promise<Revision> {
    return {
      commit: commitToBuild(commit, given),
      committedAt: "2026-01-02T03:04:05.000Z",
      dirty: this.state.dirty,
      source: await this.remote(),
    };
  }

  override async execute(invocation: Invocation, options: DaggerRunOptions): Promise<ToolResult> {
    this.state.calls.push({ invocation, container: invocationContainer(invocation, options) });
    return this.state.tool(invocation);
  }

  /** The git auth header without reading the token back from an engine. */
  override async gitCredentials(username: string): Promise<Secret> {
    return dag.setSecret("git-auth", `Authorization: Basic <${username}:token read in the engine>`);
  }

  /** Registry credentials without reading the password back from an engine. */
  override async credentials(host: string, username: string): Promise<Secret> {
    return dag.setSecret("registry-auth", dockerConfig(host, username, "<read in the engine>"));
  }
}

export class OfflineTiers extends Tiers implements OfflineState {
  dirty = false;
  // The fixture repository by default: the module's tier logic runs on a model the tests own.
  root = fixtureRoot;
  calls: RecordedCall[] = [];
  tool: FakeTool = () => ({ exitCode: 1, stdout: "", stderr: "no fake answer scripted" });

  override pipeline(): OfflinePipeline {
    return this.offlinePipeline(super.pipeline().settings);
  }

  /** Subclasses return their own pipeline (e.g. one that records the promotion toolbox). */
  protected offlinePipeline(settings: ModuleSettings): OfflinePipeline {
    return new OfflinePipeline(settings, this);
  }
}

/** The constructor settings a test may give, by name. */
export interface OfflineSettings {
  registry?: string;
  registryUsername?: string;
  registryPassword?: Secret;
  gitRemote?: string;
  gitToken?: Secret;
  gitUsername?: string;
  branch?: string;
}

/** The constructor arguments in the order Dagger passes them (executor.ts `getResult`). */
export function constructorArguments(settings: OfflineSettings = {}) {
  return [
    dag.directory(),
    dag.directory(),
    settings.registry,
    settings.registryUsername,
    settings.registryPassword,
    settings.gitRemote,
    settings.gitToken,
    settings.gitUsername,
    settings.branch,
  ] as const;
}

export function offlineTiers(settings: OfflineSettings = {}): OfflineTiers {
  return new OfflineTiers(...constructorArguments(settings));
}
