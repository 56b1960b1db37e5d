/**
 * validate, the test tier and the dev stack under Dagger: the module's checks (`dagger check`
 * runs validate and test) and the long-running dev service. Topology, variables and commands
 * come from the compose files, the tier model and the CLI's loaders.
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import type { Container, GitRepository, Secret, Service } from "@dagger.io/dagger";
import { testTarget } from "../../core/artefact.ts";
import {
  formatProblem,
  loadModel,
  tierOf,
  tierOfRuntime,
  validateRepository,
} from "../../core/environment/index.ts";
import { TiersError, UsageError } from "../../core/errors.ts";
import { type LoadTest, loadTestOf } from "../../core/promotion/load-test.ts";
import { describeFigures } from "../../core/promotion/performance.ts";
import type { TestRunReport } from "../../core/promotion/test-run.ts";
import * as terraformTool from "../../tools/terraform.ts";
import { daggerLoadTest } from "./load-test.ts";
import type { DaggerPipeline } from "./pipeline.ts";
import { type StackService, stackFront, stackServicesAsDagger, withBindings } from "./stack.ts";

/** Validates the tier files with the CLI's loader, then terraform formatting in its image. */
export async function validateRepositoryWithDagger(pipeline: DaggerPipeline): Promise<string> {
  const root = await pipeline.workspace();
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
    const result = await pipeline.execute(invocation, { source: pipeline.source });
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

export interface TestOptions {
  repo: GitRepository | undefined;
  service?: string | undefined;
  commit?: string | undefined;
  baseImage?: string | undefined;
  extraCaBundle?: Secret | undefined;
}

/** The test runner container of each built service, database bound, nothing run yet. */
export async function testRunners(
  pipeline: DaggerPipeline,
  options: TestOptions,
): Promise<Record<string, Container>> {
  const context = await pipeline.context({ baseImage: options.baseImage });
  const revision = await pipeline.revision(options.repo, options.commit);
  const services = await pipeline.stack(context, "ephemeral", revision.commit);
  const built = Object.values(services).filter((s) => s.build);
  if (options.service && !built.some((s) => s.name === options.service)) {
    throw new UsageError(`unknown service "${options.service}"`, {
      where: "compose/compose.yaml",
      hint: `services with tests: ${built.map((s) => s.name).join(", ")}`,
    });
  }
  const stackOptions = {
    source: pipeline.source,
    services,
    buildImage: (spec: StackService) =>
      pipeline.image(context, spec, testTarget, revision, options.extraCaBundle),
    volumePrefix: `${context.project}-test`,
  };
  // A test runner is never another runner's dependency: bind infrastructure only.
  const infrastructure = (dependency: StackService) => !dependency.build;
  const running = stackServicesAsDagger(stackOptions, infrastructure);
  const runners: Record<string, Container> = {};
  for (const spec of built) {
    if (options.service && spec.name !== options.service) continue;
    runners[spec.name] = withBindings(spec, stackOptions, infrastructure, (name) => running[name]!);
  }
  return runners;
}

/**
 * Runs each runner's command (compose.test.yaml's when it gives one, else the test target's
 * CMD: nothing here names a suite or a loader). Returns the report per service, in order.
 */
export async function runTests(
  runners: Readonly<Record<string, Container>>,
  load?: LoadTest,
): Promise<{ services: string[]; output: string; performance?: TestRunReport["performance"] }> {
  const reports: string[] = [];
  for (const [name, runner] of Object.entries(runners)) {
    const command = await runner.defaultArgs();
    const output = await runner.withExec(command, { useEntrypoint: true }).stdout();
    reports.push(`🜁 ${name}: tests passed\n${output.trimEnd()}`);
  }
  // Every suite passed (a failed one threw above): the performance baseline, as on the host,
  // only when this run tested the service it loads. A load test that cannot measure is
  // reported, not thrown: the suites' verdict stands, and the performance gate fails closed.
  let performance: TestRunReport["performance"];
  const runner = load ? runners[load.settings.service] : undefined;
  if (load && runner) {
    try {
      const figures = await daggerLoadTest(runner, load);
      performance = figures;
      reports.push(`🜁 load test of ${figures.service}: ${describeFigures(figures)}`);
    } catch (error) {
      performance = { error: error instanceof Error ? error.message : String(error) };
      reports.push(
        `🜁 load test of ${load.settings.service} could not measure: ${performance.error}`,
      );
    }
  }
  return {
    services: Object.keys(runners),
    output: `${reports.join("\n\n")}\n`,
    ...(performance ? { performance } : {}),
  };
}

/** The ephemeral tier's load test (`tests.performance`), read from the workspace's model. */
export async function ephemeralLoadTest(pipeline: DaggerPipeline): Promise<LoadTest | undefined> {
  const model = await loadModel(await pipeline.workspace());
  return loadTestOf(tierOf(model, tierOfRuntime(model, "ephemeral")));
}

/** The dev stack as one service forwarding the ports the dev override publishes. */
export async function devStack(
  pipeline: DaggerPipeline,
  options: {
    repo: GitRepository | undefined;
    baseImage?: string | undefined;
    extraCaBundle?: Secret | undefined;
  },
): Promise<Service> {
  const context = await pipeline.context({ baseImage: options.baseImage });
  const revision = await pipeline.revision(options.repo);
  const services = await pipeline.stack(context, "compose", revision.commit);
  const running = stackServicesAsDagger({
    source: pipeline.source,
    services,
    buildImage: (spec) =>
      pipeline.image(context, spec, "development", revision, options.extraCaBundle),
    volumePrefix: `${context.project}-dev`,
  });
  return stackFront(services, running);
}

/** True when `path` exists in the workspace. */
async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
