/**
 * `tiers publish [--registry host:port] [--service S]`: pushes each service's production image,
 * reads its digest back from the registry, and records them in .tiers/artefacts/<commit>.json
 * and latest.json, only once every push succeeded; commits each digest's SBOM and provenance
 * under releases/ (engines/host/supply-chain.ts).
 */
import type { Command } from "commander";
import { publish } from "../../../engines/host/publish.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

/** Options of `tiers publish`. */
interface PublishOptions {
  /** Registry host[:port] to push to. */
  registry?: string;
  /** Publish only these services (repeatable). */
  service?: string[];
  /** Print the record as JSON. */
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const registerPublish: RegisterCommand = (program) => {
  program
    .command("publish")
    .description("push production images and record their digests (.tiers/artefacts/<commit>.json)")
    .option(
      "--registry <host:port>",
      "registry to push to (default: TIERS_REGISTRY, else environments' registry.host)",
    )
    .option("--service <name>", "publish only this service (repeatable)", collect)
    .option("--json", "print the artefact record")
    .addHelpText(
      "after",
      `
Refuses a working tree with uncommitted changes (a published tag names exactly one commit).
Builds what \`tiers build\` has not built yet. A registry that is down or refuses is reported
by name and nothing is recorded.

Per digest it commits the image's SBOM (npm sbom, CycloneDX) and SLSA v1 provenance under
releases/ (one commit on top of the published one) and, with TIERS_COSIGN_KEY set, attests
both with cosign; docs/promotion.md, "Security evidence and provenance".

Examples:
  $ tiers publish                          to 127.0.0.1:5000 on a provisioned machine
  $ tiers publish --registry ghcr.io       somewhere else`,
    )
    .action(async (options: PublishOptions, command: Command) => {
      const context = contextFrom(command);
      const record = await publish({
        root: context.root,
        reporter: context.reporter,
        ...(options.registry ? { registry: options.registry } : {}),
        ...(options.service ? { services: options.service } : {}),
      });
      if (options.json) context.reporter.raw(JSON.stringify(record, null, 2));
      else
        for (const [service, image] of Object.entries(record.images))
          context.reporter.info(undefined, `${service}: ${image.ref}`);
    });
};
