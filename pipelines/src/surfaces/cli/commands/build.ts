/**
 * `tiers build [--service S] [--target production|development|test] [--force] [--verbose]`:
 * builds each service's image once per commit, tagged with the git SHA and labelled (OCI +
 * project labels). Building again without a change builds nothing.
 */
import type { Command } from "commander";
import {
  buildTargets,
  developmentTarget,
  isBuildTarget,
  testTarget,
} from "../../../core/artefact.ts";
import { tierOfRuntime } from "../../../core/environment/index.ts";
import { UsageError } from "../../../core/errors.ts";
import { buildImages } from "../../../engines/host/build.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

/** Options of `tiers build`. */
interface BuildOptions {
  /** Build only these services (repeatable). */
  service?: string[];
  /** Dockerfile target. */
  target: string;
  /** Rebuild even when the tag already exists with this revision. */
  force?: boolean;
  /** Stream docker's build output. */
  verbose?: boolean;
  /** Ignore docker's layer cache. */
  cache?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const registerBuild: RegisterCommand = (program) => {
  program
    .command("build")
    .description("build each service image once per commit, tagged with the git SHA and labelled")
    .option("--service <name>", "build only this service (repeatable)", collect)
    .option(
      "--target <target>",
      `Dockerfile target: ${buildTargets.join(", ")} (only production images are published)`,
      "production",
    )
    .option("--force", "rebuild even when an image with this tag and revision exists")
    .option("--no-cache", "rebuild every layer (implies --force)")
    .option("--verbose", "stream docker's build output")
    .addHelpText(
      "after",
      `
Images are tagged <registry>/<namespace>/<service>:<git sha> (production) or
<sha>-<target>; a working tree with uncommitted changes gives <sha>-dirty tags, which are
rebuilt every time and never published. Settings: TIERS_BASE_IMAGE, TIERS_EXTRA_CA_BUNDLE,
TIERS_REGISTRY (process environment > .tiers/machine.env > environments/base.yaml).

Examples:
  $ tiers build                          production images of every service
  $ tiers build --service api            just the API
  $ tiers build --target development     the images the dev tier runs`,
    )
    .action(async (options: BuildOptions, command: Command) => {
      const context = contextFrom(command);
      if (!isBuildTarget(options.target)) {
        throw new UsageError(`unknown target "${options.target}"`, {
          hint: `use one of: ${buildTargets.join(", ")}`,
        });
      }
      // A development build is for the compose tier, a test build for the ephemeral one.
      const runtime =
        options.target === developmentTarget
          ? "compose"
          : options.target === testTarget
            ? "ephemeral"
            : undefined;
      const tier = runtime && tierOfRuntime(await context.model(), runtime);
      const images = await buildImages({
        root: context.root,
        reporter: context.reporter,
        target: options.target,
        ...(options.service ? { services: options.service } : {}),
        ...(tier ? { tier } : {}),
        force: Boolean(options.force),
        noCache: options.cache === false,
        ...(options.verbose ? { onLine: (line: string) => context.reporter.info(tier, line) } : {}),
      });
      for (const image of images) {
        context.reporter.info(
          tier,
          `${image.service}: ${image.ref} ${image.reused ? "(unchanged)" : "(built)"}`,
        );
      }
    });
};
