/** Asking before a destructive step: on a terminal, or refusing without one unless --yes. */
import { createInterface } from "node:readline/promises";
import { TiersError } from "../../core/errors.ts";

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Refuses a destructive step without a TTY unless --yes was given. */
export function requireConsent(yes: boolean | undefined, what: string): "ask" | "go" {
  if (yes) return "go";
  if (!process.stdin.isTTY) {
    throw new TiersError(`${what} needs confirmation, and there is no terminal to ask on`, {
      hint: "run it in a terminal, or pass --yes to confirm non-interactively",
    });
  }
  return "ask";
}
