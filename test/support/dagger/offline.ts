/**
 * The module with its engine-bound inputs replaced, so every function can be driven without a
 * Dagger engine: files come from this checkout, the revision is fixed, and each tool
 * invocation is recorded (with the exact container query it would run) and answered by a
 * scripted fake instead of the engine.
 */
import { fileURLToPath } from "node:url";
import { type Container, dag, type Secret } from "@dagger.io/dagger";
import type { Revision } from "../../../pipelines/src/core/artefact.ts";
import {
  type DaggerRunOptions,
  dockerConfig,
  invocationContainer,
} from "../../../pipelines/src/engines/dagger/run.ts";
import { Tiers } from "../../../pipelines/src/index.ts";
import type { Invocation, ToolResult } from "../../../pipelines/src/tools/invocation.ts";

export const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const commit = "0123456789abcdef0123456789abcdef01234567";

export interface RecordedCall {
  invocation: Invocation;
  /** The container the Dagger runner would execute for this invocation. */
  container: Container;
}

export type FakeTool = (invocation: Invocation) => ToolResult | Promise<ToolResult>;

export const ok = (stdout = ""): ToolResult => ({ exitCode: 0, stdout, stderr: "" });

export class OfflineTiers extends Tiers {
  dirty = false;
  root = repositoryRoot;
  calls: RecordedCall[] = [];
  tool: FakeTool = () => ({ exitCode: 1, stdout: "", stderr: "no fake answer scripted" });

  protected override async workspace(): Promise<string> {
    return this.root;
  }

  protected override async revision(given?: string): Promise<Revision> {
    return {
      commit: given ?? commit,
      committedAt: "2026-01-02T03:04:05.000Z",
      dirty: this.dirty,
      source: "https://example.test/tiers.git",
    };
  }

  protected override async execute(
    invocation: Invocation,
    options: DaggerRunOptions,
  ): Promise<ToolResult> {
    this.calls.push({ invocation, container: invocationContainer(invocation, options) });
    return this.tool(invocation);
  }

  /** The git auth header without reading the token back from an engine. */
  protected override async gitCredentials(username: string): Promise<Secret> {
    return dag.setSecret("git-auth", `Authorization: Basic <${username}:token read in the engine>`);
  }

  /** Registry credentials without reading the password back from an engine. */
  protected override async credentials(host: string, username: string): Promise<Secret> {
    return dag.setSecret("registry-auth", dockerConfig(host, username, "<read in the engine>"));
  }
}

export function offlineTiers(): OfflineTiers {
  return new OfflineTiers(dag.directory(), dag.git("https://example.test/tiers.git"));
}
