/**
 * A shell in a running service's container, with the terminal attached: `tiers env <compose
 * tier> shell` and a failed test run's `--interactive` (test-tier-debug.ts) both enter one here.
 */
import { execa } from "execa";
import * as compose from "../../tools/compose.ts";
import { programFor } from "./programs.ts";

/** The shell a service's container is entered with: bash where the image has it, else sh. */
export const shellCommand = ["sh", "-c", "command -v bash >/dev/null && exec bash || exec sh"];

/**
 * `docker-compose exec` with the terminal attached (stdio inherited, a TTY when there is one),
 * so it bypasses the captured host runner; the container's own environment applies. Used by
 * `tiers env <compose tier> shell` and by a failed test run's `--interactive` shell. Returns the
 * command's exit code.
 */
export async function openShell(
  root: string,
  project: compose.ComposeProject,
  service: string,
  command: readonly string[] = [],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY);
  const invocation = compose.exec(project, service, command.length ? command : shellCommand, {
    tty: interactive,
  });
  const result = await execa(programFor(invocation.tool), [...invocation.args], {
    cwd: root,
    env: { ...invocation.env },
    stdio: "inherit",
    reject: false,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
  });
  return result.exitCode ?? 1;
}
