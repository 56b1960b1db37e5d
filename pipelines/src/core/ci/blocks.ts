/**
 * Generated blocks inside hand-written CI files. A block is delimited by two comment lines,
 *
 *   # >>> tiers ci generate: <name> …
 *   # <<< tiers ci generate: <name>
 *
 * and only what lies between them is ever rewritten, so everything a team writes outside the
 * blocks stays byte for byte as written. Pure: texts in, texts and located drift out.
 */
import { type Problem, rules } from "../environment/problems.ts";

const begin = /^\s*# >>> tiers ci generate: ([a-z0-9-]+)\b/;
const end = /^\s*# <<< tiers ci generate: ([a-z0-9-]+)\s*$/;

/** The opening marker line of block `name`, at `indent`. */
export function blockStart(name: string, indent = ""): string {
  return `${indent}# >>> tiers ci generate: ${name} (from environments/*.yaml; edit the tier files and run \`tiers ci generate\`, not this block)`;
}

/** The closing marker line of block `name`, at `indent`. */
export function blockEnd(name: string, indent = ""): string {
  return `${indent}# <<< tiers ci generate: ${name}`;
}

export interface SpliceResult {
  text: string;
  /** Blocks whose content changed (drift), each located at its opening marker. */
  drift: Problem[];
  /** Markers that are missing or unbalanced: nothing is rewritten when there is any. */
  problems: Problem[];
}

/** Replaces the content of every block named in `blocks`; `text` keeps everything else. */
export function spliceBlocks(
  file: string,
  text: string,
  blocks: Readonly<Record<string, string>>,
): SpliceResult {
  const lines = text.split("\n");
  const out: string[] = [];
  const drift: Problem[] = [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const located = (line: number, message: string, rule: Problem["rule"]): Problem => ({
    file,
    line,
    column: 1,
    path: "",
    message,
    rule,
  });
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    const open = begin.exec(line);
    if (!open) continue;
    const name = open[1]!;
    let close = i + 1;
    while (close < lines.length && !end.test(lines[close]!)) close++;
    if (close >= lines.length || end.exec(lines[close]!)![1] !== name) {
      problems.push(
        located(i + 1, `generated block ${name} has no closing "${blockEnd(name)}"`, rules.ciDrift),
      );
      continue;
    }
    seen.add(name);
    const current = lines.slice(i + 1, close).join("\n");
    const wanted = blocks[name];
    if (wanted === undefined) {
      problems.push(
        located(i + 1, `generated block ${name} is not one tiers generates here`, rules.ciDrift),
      );
      out.push(...lines.slice(i + 1, close + 1));
    } else {
      if (current !== wanted.replace(/\n$/, "")) {
        drift.push(
          located(
            i + 1,
            `generated block ${name} differs from what the promotion chain gives; run \`tiers ci generate\``,
            rules.ciDrift,
          ),
        );
      }
      out.push(...wanted.replace(/\n$/, "").split("\n"), lines[close]!);
    }
    i = close;
  }
  for (const name of Object.keys(blocks)) {
    if (seen.has(name)) continue;
    problems.push(
      located(
        1,
        `no generated block ${name}: add the lines "${blockStart(name).trim()}" and "${blockEnd(name)}" where the tier jobs go`,
        rules.ciDrift,
      ),
    );
  }
  if (problems.length > 0) return { text, drift: [], problems };
  return { text: out.join("\n"), drift, problems };
}
