/**
 * 🜁 The test tier's load test under Dagger (issue 15), the twin of engines/host/load-test.ts:
 * the service `tests.performance` names runs from its test runner container (database bound)
 * as a Dagger service with the tier's command, and a load container on the pinned Node image,
 * bound to it by the service's name, runs autocannon with the same options
 * (core/promotion/load-test.ts) and prints what the host engine collects in-process: autocannon's
 * result and every response time. Dagger starts a bound service only once its exposed port
 * accepts connections, which stands in for the host's liveness wait. The script bounds itself
 * by the same limit (duration + one timeout + margin).
 *
 * A container rather than the module's own process: Dagger's documented way to reach a service
 * is a service binding from another container (docs.dagger.io, cookbook "Services": "Bind and
 * use services in Dagger Functions").
 */
import { createRequire } from "node:module";
import type { Container } from "@dagger.io/dagger";
import { dag } from "@dagger.io/dagger";
import { TiersError } from "../../core/errors.ts";
import {
  autocannonOptions,
  type LoadTest,
  loadFigures,
  loadLimitMs,
} from "../../core/promotion/load-test.ts";
import type { PerformanceFigures } from "../../core/promotion/performance.ts";
import { imageRef, supportImages } from "../../tools/images.ts";

/** Where the load container keeps autocannon and the script. */
const loadDir = "/tiers-load";

/**
 * The script the load container runs: autocannon's options from TIERS_LOAD_OPTIONS (JSON), its
 * limit from TIERS_LOAD_LIMIT_MS; one JSON line on stdout, `{ result, times }`; exit 1 with the
 * reason on stderr when it fails or overruns.
 */
export function loadScript(): string {
  return [
    'import autocannon from "autocannon";',
    "const options = JSON.parse(process.env.TIERS_LOAD_OPTIONS);",
    "const limitMs = Number(process.env.TIERS_LOAD_LIMIT_MS);",
    "const times = [];",
    "const limit = setTimeout(() => {",
    "  console.error('the load test did not finish within ' + limitMs / 1000 + 's');",
    "  process.exit(1);",
    "}, limitMs);",
    "const instance = autocannon(options, (error, result) => {",
    "  clearTimeout(limit);",
    "  if (error) { console.error(error.message); process.exit(1); }",
    "  const { requests, errors, timeouts, non2xx } = result;",
    "  const summary = { requests: { average: requests.average }, errors, timeouts, non2xx };",
    "  process.stdout.write(JSON.stringify({ result: summary, times }) + '\\n');",
    "});",
    // autocannon's `response` event: (client, statusCode, resBytes, responseTime in ms).
    'instance.on("response", (_client, _status, _bytes, time) => times.push(time));',
    "",
  ].join("\n");
}

/** The script's output line; a malformed one is an error naming what was wrong. */
export function parseLoadOutput(stdout: string): {
  result: { requests: { average: number }; errors: number; timeouts: number; non2xx: number };
  times: number[];
} {
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    const parsed = JSON.parse(line) as ReturnType<typeof parseLoadOutput>;
    const numbers = [
      parsed.result.requests.average,
      parsed.result.errors,
      parsed.result.timeouts,
      parsed.result.non2xx,
    ];
    if (numbers.every((n) => typeof n === "number") && Array.isArray(parsed.times)) return parsed;
  } catch {
    // reported below
  }
  throw new TiersError(
    `the load container printed no result: ${line.slice(0, 200) || "(nothing)"}`,
    {
      where: `${loadDir}/load.mjs`,
    },
  );
}

/** The autocannon version this module runs on the host engine, so both engines load alike. */
function autocannonVersion(): string {
  return (createRequire(import.meta.url)("autocannon/package.json") as { version: string }).version;
}

/** Runs the load test against `runner` (the service's test runner, dependencies bound). */
export async function daggerLoadTest(
  runner: Container,
  test: LoadTest,
): Promise<PerformanceFigures> {
  const { settings } = test;
  let server = runner.withExposedPort(test.containerPort);
  for (const [name, value] of Object.entries(settings.environment ?? {})) {
    server = server.withEnvVariable(name, value);
  }
  const url = `http://${settings.service}:${test.containerPort}`;
  const output = await dag
    .container()
    .from(imageRef(supportImages.node))
    .withWorkdir(loadDir)
    .withExec([
      "npm",
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      `autocannon@${autocannonVersion()}`,
    ])
    .withNewFile(`${loadDir}/load.mjs`, loadScript())
    .withServiceBinding(
      settings.service,
      server.asService({ args: settings.command, useEntrypoint: true }),
    )
    .withEnvVariable("TIERS_LOAD_OPTIONS", JSON.stringify(autocannonOptions(settings, url)))
    .withEnvVariable("TIERS_LOAD_LIMIT_MS", String(loadLimitMs(settings)))
    .withExec(["node", `${loadDir}/load.mjs`])
    .stdout();
  const { result, times } = parseLoadOutput(output);
  return loadFigures(settings, result, times);
}
