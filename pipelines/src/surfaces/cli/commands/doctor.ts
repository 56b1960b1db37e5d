/**
 * `tiers doctor [--json]`: which tools are present and usable on this machine, their versions,
 * and what each missing one disables. Probing is engines/host/probe.ts; the judgement is
 * core/doctor.ts. Exit 0 unless the Docker engine or a BuildKit-capable docker client is
 * unusable (then 1): doctor reports gaps, it only fails when the pipeline's core cannot run.
 */
import type { Command } from "commander";
import {
  type CheckStatus,
  type DoctorCheck,
  doctorReport,
  formatCheck,
  summarise,
} from "../../../core/doctor.ts";
import type { Colour } from "../../../core/log.ts";
import { loadMachineSettings } from "../../../engines/host/machine.ts";
import { probeMachine } from "../../../engines/host/probe.ts";
import { fileVersionCache, versionCacheFile } from "../../../engines/host/version-cache.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

const colours: Record<CheckStatus, Colour> = {
  ok: "green",
  limited: "yellow",
  missing: "red",
  unusable: "red",
};

export const registerDoctor: RegisterCommand = (program) => {
  program
    .command("doctor")
    .description("report which tools are usable on this machine and what each missing one disables")
    .option("--json", "print the report as JSON: {ready, exitCode, settings, checks[]}")
    .addHelpText(
      "after",
      `
One line per tool: status, version, what was found, and for a missing or broken tool what it
disables and what to do. Checked: the Docker engine, which docker client builds with BuildKit
(tiers always calls /usr/bin/docker or TIERS_DOCKER_BIN, never the first docker on PATH),
compose (v1 or v2), the registry at TIERS_REGISTRY, skopeo, kubectl with its built-in
kustomize, terraform, cosign, dagger, git, host PostgreSQL binaries, and the base, postgres
and busybox images named by .tiers/machine.env (or the public defaults).

Exit 0 even when optional tools are missing; exit 1 only when the Docker engine does not
answer or no docker client can build with BuildKit (builds, the test tier and the dev tier
cannot run then). scripts/provision.sh fixes everything it can.

Examples:
  $ tiers doctor                                   what works here
  $ tiers doctor --json | jq -r '.checks[] | select(.usable | not) | .id'
                                                   ids of unusable tools
  $ TIERS_REGISTRY=registry.example.com tiers doctor   check another registry`,
    )
    .action(async (options: { json?: boolean }, command: Command) => {
      const { root, reporter } = contextFrom(command);
      const settings = await loadMachineSettings(root);
      const versionCache = fileVersionCache(versionCacheFile(root));
      const probe = await probeMachine({ settings, versionCache });
      await versionCache.save();
      const report = doctorReport(probe);
      if (options.json) {
        reporter.raw(
          JSON.stringify(
            {
              ready: report.ready,
              exitCode: report.exitCode,
              settings: {
                file: settings.file ?? null,
                registry: settings.registry,
                baseImage: settings.baseImage,
                postgresImage: settings.postgresImage,
                busyboxImage: settings.busyboxImage,
                extraCaBundle: settings.extraCaBundle ?? null,
                source: settings.source,
              },
              checks: report.checks,
            },
            null,
            2,
          ),
        );
      } else {
        reporter.info(
          undefined,
          `machine settings: ${settings.file ?? "none (.tiers/machine.env absent: public defaults)"}`,
        );
        // Columns line up so a missing tool stands out at a glance.
        const nameWidth = Math.max(...report.checks.map((check) => check.name.length));
        const versionWidth = Math.max(
          ...report.checks.map(
            (check) => (check.usable ? (check.version ?? "") : check.status).length,
          ),
        );
        for (const check of report.checks) {
          reporter.info(undefined, paintLine(check, nameWidth, versionWidth));
        }
        const summary = summarise(report);
        if (report.ready) reporter.info(undefined, reporter.paint(summary, "green"));
        else reporter.error(undefined, `${summary}; run scripts/provision.sh as root`);
      }
      if (report.exitCode !== 0) process.exitCode = report.exitCode;

      /** Colours the status symbol only, so the line stays readable without colour. */
      function paintLine(check: DoctorCheck, nameWidth: number, versionWidth: number): string {
        const line = formatCheck(check, nameWidth, versionWidth);
        const [symbol, ...rest] = [...line];
        return `${reporter.paint(symbol ?? "", colours[check.status])}${rest.join("")}`;
      }
    });
};
