import type { Reporter, TestModule } from "vitest/node";

/**
 * Ends a run with one plain line, `tests: N passed, N failed, N skipped`, that any CI log reader
 * understands, and lists the skipped tests' names, because here a skip means "this part could
 * not run on this machine" (no cosign, no cluster) and must be visible, not silent.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const module of modules) {
      if (module.state() === "failed" && [...module.children.allTests()].length === 0) failed++;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else if (state === "skipped")
          skipped.push(
            `${test.module.moduleId.replace(`${process.cwd()}/`, "")} > ${test.fullName}`,
          );
      }
    }
    const lines = skipped.map((name) => `  skipped: ${name}`);
    process.stdout.write(
      `\n${lines.join("\n")}${lines.length ? "\n" : ""}tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`,
    );
  }
}
