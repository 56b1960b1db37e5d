/**
 * Running the CLI the way a person at a terminal does: under a pseudo-terminal, typing once a
 * prompt shows. util-linux `script -qec <command> /dev/null` provides the pseudo-terminal (no
 * native module needed): the command sees a TTY on stdin/stdout, and `-e` returns its exit code.
 */
import { spawn } from "node:child_process";
import { tiersBin } from "./repo.ts";

/** What a terminal session printed (terminal escapes included) and how it ended. */
export interface TerminalRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** Whether the prompt appeared and the input was typed. */
  typed: boolean;
}

/** Single-quotes a word for the shell `script -c` hands the command to. */
const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * Runs `tiers --root <root> ...args` under a pseudo-terminal. When the output ends with a
 * prompt (`$ ` or `# `), `input` is typed (with Enter). Typing waits for the prompt because an
 * interactive `docker exec -t` switches the terminal to raw mode, which drops earlier input.
 */
export function runTiersInTerminal(
  root: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<TerminalRun> {
  return runInTerminal(
    [process.execPath, tiersBin, "--root", root, "--no-color", ...args],
    root,
    options,
  );
}

/** Runs any command (argument vector) under a pseudo-terminal, typing `input` at its prompt. */
export function runInTerminal(
  argv: readonly string[],
  cwd: string,
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<TerminalRun> {
  const command = argv.map(quote).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", TERM: "xterm", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    let typed = false;
    const onData = (chunk: Buffer) => {
      output += chunk;
      // A prompt may be followed by terminal queries: busybox ash asks for the cursor position
      // (`ESC [6n`) after printing it.
      if (
        options.input !== undefined &&
        !typed &&
        /[#$] ?(?:\x1b\[[0-9;?]*[A-Za-z])*$/.test(output)
      ) {
        typed = true;
        child.stdin.write(`${options.input}\r`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, typed });
    });
  });
}
