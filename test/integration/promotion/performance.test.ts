/**
 * The performance gate, scenario by scenario, on real git repositories and the real local
 * registry: the candidate's figures come from its commit's test record (written by
 * `recordTestReport`, the path `tiers record-tests` takes), the baseline from the record of the
 * commit whose digest staging pins. Figures here are fixed numbers; the figures a real load test
 * measures are in test/integration/load-test.test.ts.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import type { PerformanceFigures } from "../../../pipelines/src/core/promotion/performance.ts";
import { testReportPath } from "../../../pipelines/src/core/promotion/records.ts";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport } from "../../../pipelines/src/engines/host/promotion/records.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  configure,
  ensureBusybox,
  git,
  makeRepo,
  overlayDigests,
  publishArtefact,
  type Repo,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

let first: ArtefactRecord;
let second: ArtefactRecord;
const repos: Repo[] = [];
const criteria = { p95_ms: 200, min_rps: 50, max_regression_pct: 25 };

beforeAll(async () => {
  await requirePrerequisites();
  await ensureBusybox();
  first = publishArtefact();
  second = publishArtefact();
});

afterAll(async () => {
  for (const r of repos) await r.remove();
  removeTestImages();
  await removePushedImages();
});

/** A repository whose staging asks for the performance gate with `criteria`. */
async function repo(): Promise<string> {
  const r = await makeRepo(async (root) => {
    await configure(
      root,
      "staging.yaml",
      ["promotion", "gates"],
      ["passage", "not-rejected", "no-dev-image", "approvals", "performance"],
    );
    await configure(root, "staging.yaml", ["promotion", "criteria"], { performance: criteria });
  });
  repos.push(r);
  await writeArtefacts(r.root, first, second);
  return r.root;
}

function figures(p95: number, rps: number): PerformanceFigures {
  return {
    service: "api",
    requests: ["GET /healthz", "POST /jobs"],
    connections: 8,
    duration_seconds: 3,
    requests_per_second: rps,
    latency_ms: { p50: Math.round(p95 / 3), p95, p99: p95 * 2 },
    total_requests: rps * 3,
    failed_requests: 0,
  };
}

/** Records the commit's tests (with figures, unless none) and passes it through the test tier. */
async function passTest(root: string, record: ArtefactRecord, performance?: PerformanceFigures) {
  await recordTestReport({
    root,
    commit: record.commit,
    passed: true,
    summary: "api 12 passed, worker 7 passed",
    ...(performance ? { performance } : {}),
    env: cleanEnv(),
  });
  await promote({
    root,
    tier: "test",
    commit: record.commit,
    evidence: "local",
    deploy: "skip",
    env: cleanEnv(),
  });
}

/** Promotes the record into staging, so staging pins its digests (the next one's baseline). */
async function pinInStaging(root: string, record: ArtefactRecord) {
  await promote({
    root,
    tier: "staging",
    commit: record.commit,
    evidence: "local",
    deploy: "skip",
    env: cleanEnv(),
  });
}

async function plan(root: string, record: ArtefactRecord) {
  return (await computePlan({ root, tier: "staging", commit: record.commit, env: cleanEnv() }))
    .plan;
}
const gate = (p: Awaited<ReturnType<typeof plan>>, service: string) =>
  p.gates.find((g) => g.gate === "performance" && g.service === service);

describe("performance gate (real git repositories, real registry)", () => {
  it("with nothing pinned yet: the absolute bounds decide and the verdict says so; tiers plan shows the figures (real CLI)", async () => {
    const root = await repo();
    await passTest(root, first, figures(40, 400));
    const p = await plan(root, first);
    expect(p.ok, JSON.stringify(p.gates)).toBe(true);
    expect(gate(p, "api")?.why).toMatch(
      /^p95 40 ms ≤ 200, 400 req\/s ≥ 50; no baseline \(nothing is pinned in staging yet for api\): regression not checked, absolute bounds only — measured p95 40 ms/,
    );
    // The worker is not what the test run loads: it passes, naming what is.
    expect(gate(p, "worker")).toMatchObject({
      ok: true,
      why: "worker is not load-tested (the test run loads api)",
    });
    const cli = await runTiers(root, ["plan", "--env", "staging", "--commit", first.commit], {
      env: cleanEnv(),
    });
    expect(cli.stdout).toMatch(
      /✓ performance \[api\]: p95 40 ms ≤ 200, 400 req\/s ≥ 50; .*p50 13, p99 80 ms; 1200 requests, 8 connections, 3s\)/,
    );
  });

  it("a deliberately slow candidate (p95 above p95_ms) is refused, and nothing changes", async () => {
    const root = await repo();
    await passTest(root, first, figures(450, 60));
    const p = await plan(root, first);
    expect(p.ok).toBe(false);
    expect(gate(p, "api")).toMatchObject({
      ok: false,
      why: expect.stringMatching(/^p95 450 ms > 200 — measured/),
    });
    const head = git(root, "rev-parse", "HEAD");
    const before = await overlayDigests(root, "staging");
    await expect(
      promote({
        root,
        tier: "staging",
        commit: first.commit,
        evidence: "local",
        deploy: "skip",
        env: cleanEnv(),
      }),
    ).rejects.toThrow(/performance.*p95 450 ms > 200/);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(await overlayDigests(root, "staging")).toEqual(before);
  });

  it("regression: within the absolute bounds but more than max_regression_pct slower than the digest staging pins", async () => {
    const root = await repo();
    await passTest(root, first, figures(40, 400));
    await pinInStaging(root, first);
    expect(await overlayDigests(root, "staging")).toContain(first.images.api!.digest);
    await passTest(root, second, figures(60, 380));
    const p = await plan(root, second);
    expect(gate(p, "api")).toMatchObject({
      ok: false,
      why: expect.stringMatching(
        new RegExp(
          `regressed by more than 25% against ${first.commit.slice(0, 12)} \\(p95 40 ms, 400 req/s\\): p95 \\+50%`,
        ),
      ),
    });
    // Within the bound, the comparison is shown beside the figures.
    const ok = await repo();
    await passTest(ok, first, figures(40, 400));
    await pinInStaging(ok, first);
    await passTest(ok, second, figures(44, 390));
    expect(gate(await plan(ok, second), "api")).toMatchObject({
      ok: true,
      why: expect.stringMatching(/p95 \+10%, throughput -2\.5% against .* within 25%/),
    });
  });

  it("fails closed: a candidate recorded without figures, and an unreadable baseline record", async () => {
    const root = await repo();
    await passTest(root, first);
    expect(gate(await plan(root, first), "api")).toMatchObject({
      ok: false,
      why: expect.stringMatching(/has no performance figures; run the test tier/),
    });

    const broken = await repo();
    await passTest(broken, first, figures(40, 400));
    await pinInStaging(broken, first);
    await passTest(broken, second, figures(40, 400));
    // The pinned commit's test record becomes unreadable in git: the baseline cannot be judged.
    await writeFile(join(broken, testReportPath(first.commit)), "kind: test-report\ncommit: [\n");
    git(broken, "commit", "-qam", "corrupt the baseline record");
    expect(gate(await plan(broken, second), "api")).toMatchObject({
      ok: false,
      why: expect.stringMatching(
        new RegExp(`the baseline cannot be read: ${testReportPath(first.commit)}`),
      ),
    });
  });
});
