/**
 * A unified diff (as `diff -u` / `git diff` print it) of two small texts. Overlays are tens of
 * lines, so a plain longest-common-subsequence table is simple and fast enough.
 */

export interface DiffOptions {
  fromFile: string;
  toFile: string;
  /** Unchanged lines shown around each change. */
  context?: number;
}

type Op = { kind: " " | "-" | "+"; line: string; a: number; b: number };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function script(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = length of the LCS of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] =
        a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i]!, a: i++, b: j++ });
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // Deletions before insertions, as diff -u prints a replaced line.
      ops.push({ kind: "-", line: a[i]!, a: i++, b: j });
    } else {
      ops.push({ kind: "+", line: b[j]!, a: i, b: j++ });
    }
  }
  return ops;
}

/** Returns "" when the texts are equal, else a unified diff with `---`/`+++` headers. */
export function unifiedDiff(before: string, after: string, options: DiffOptions): string {
  if (before === after) return "";
  const context = options.context ?? 3;
  const ops = script(splitLines(before), splitLines(after));
  const changed = ops.map((op, k) => (op.kind !== " " ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return "";
  // Group changes whose context windows touch into hunks.
  const hunks: Array<[number, number]> = [];
  for (const k of changed) {
    const start = Math.max(0, k - context);
    const end = Math.min(ops.length - 1, k + context);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1] + 1) last[1] = end;
    else hunks.push([start, end]);
  }
  const out = [`--- ${options.fromFile}`, `+++ ${options.toFile}`];
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end + 1);
    const aLines = slice.filter((op) => op.kind !== "+").length;
    const bLines = slice.filter((op) => op.kind !== "-").length;
    const first = slice[0]!;
    const aStart = aLines === 0 ? first.a : first.a + 1;
    const bStart = bLines === 0 ? first.b : first.b + 1;
    out.push(`@@ -${aStart},${aLines} +${bStart},${bLines} @@`);
    for (const op of slice) out.push(`${op.kind}${op.line}`);
  }
  return `${out.join("\n")}\n`;
}
