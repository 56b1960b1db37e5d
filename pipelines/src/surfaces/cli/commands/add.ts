/**
 * `tiers add tier …` and `tiers add service …`: scaffolding that leaves a valid repository.
 * Each computes every write in core/scaffold (pure, from a snapshot), then writes all or none.
 */
import type { Command } from "commander";
import { UsageError } from "../../../core/errors.ts";
import { planAddService } from "../../../core/scaffold/add-service.ts";
import { planAddTier, type Runtime } from "../../../core/scaffold/add-tier.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";
import { applyWrites, snapshotOf } from "../scaffold-io.ts";

export const registerAdd: RegisterCommand = (program) => {
  const add = program
    .command("add")
    .description("scaffold a tier or a service, leaving a repository `tiers validate` accepts")
    .addHelpText(
      "after",
      `
Examples:
  $ tiers add tier qa --after test --runtime kubernetes
  $ tiers add service billing --port 8090`,
    );

  add
    .command("tier")
    .argument("<name>", "the new tier's name (lower-case letters, digits, '-')")
    .description(
      "add a tier to the promotion chain: tier file, overlay, tfvars, CI jobs, docs page",
    )
    .requiredOption("--after <tier>", "the tier it promotes from")
    .requiredOption("--runtime <runtime>", "compose, ephemeral or kubernetes")
    .option("--marker <marker>", "the marker leading its lines", "◆")
    .addHelpText(
      "after",
      `
The new tier starts as a renamed copy of the nearest tier with the same runtime (comments
kept); the tier that promoted from --after now promotes from it; its overlay pins start at
the "nothing promoted yet" digest; the CI tier jobs are regenerated. Prints every file it
writes; running it again changes nothing; a refusal writes nothing.

Examples:
  $ tiers add tier qa --after test --runtime kubernetes
  $ tiers add tier preview --after dev --runtime ephemeral --marker ◇
  $ tiers validate && tiers plan --env qa`,
    )
    .action(
      async (
        name: string,
        options: { after: string; runtime: string; marker: string },
        command: Command,
      ) => {
        const cli = contextFrom(command);
        const { root, reporter } = cli;
        if (!["compose", "ephemeral", "kubernetes"].includes(options.runtime)) {
          throw new UsageError(
            `--runtime ${options.runtime}: expected compose, ephemeral or kubernetes`,
          );
        }
        const model = await cli.model();
        const writes = planAddTier(model, await snapshotOf(root), {
          name,
          after: options.after,
          runtime: options.runtime as Runtime,
          marker: options.marker,
        });
        await applyWrites(root, writes, reporter);
      },
    );

  add
    .command("service")
    .argument("<name>", "the new service's name (lower-case letters, digits, '-')")
    .description(
      "add a service: base.yaml entry, compose entries, Dockerfile, k8s/base, overlay pins, network policy, docs line",
    )
    .option("--port <port>", "its HTTP port", "8090")
    .option("--from-template <template>", "the template under templates/service/", "node")
    .addHelpText(
      "after",
      `
Files come from templates/service/<template>/ ({{name}} and {{port}} filled in). Prints every
file it writes; running it again changes nothing; a refusal writes nothing. Run \`npm install\`
afterwards so the workspace lock file lists the new package.

Examples:
  $ tiers add service billing --port 8090
  $ tiers add service search --port 8091 --from-template node
  $ tiers validate && kubectl kustomize k8s/overlays/<tier>`,
    )
    .action(
      async (name: string, options: { port: string; fromTemplate: string }, command: Command) => {
        const cli = contextFrom(command);
        const { root, reporter } = cli;
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535) {
          throw new UsageError(`--port ${options.port}: expected a port number 1–65535`);
        }
        const model = await cli.model();
        const writes = planAddService(model, await snapshotOf(root), {
          name,
          port,
          template: options.fromTemplate,
        });
        await applyWrites(root, writes, reporter);
      },
    );
};
