/**
 * A registry that accepts TCP connections and never answers must not hang the pipeline: every
 * registry call is bounded (core/limits.ts; skopeo's --command-timeout, skopeo(1):
 * https://github.com/containers/skopeo/blob/main/docs/skopeo.1.md, and the host runner's
 * process deadline). A real loopback server, a scratch repository and the real CLI; the hang
 * guard is the test timeout, not a timed assertion.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  configure,
  fakeCommit,
  git,
  makeRepo,
  type Repo,
  writeArtefacts,
} from "./support.ts";

let server: Server;
const sockets: Socket[] = [];
let host = "";
let repo: Repo;

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.push(socket); // accept, read nothing back, never answer
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  host = `127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  repo = await makeRepo(async (root) => {
    await configure(root, "base.yaml", ["registry", "host"], host);
    // The last tier must stay protected (policy/last-tier-protected); plan --env test never gets there.
    await configure(root, "prod.yaml", ["signing"], {
      required: true,
      mode: "keyless",
      identity: {
        subject: "https://github.com/tiers-dev/tiers/.github/workflows/release.yml@refs/heads/main",
        issuer: "https://token.actions.githubusercontent.com",
      },
    });
    await configure(root, "prod.yaml", ["approvals"], { required: 1, source: "ci-environment" });
  });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  await repo?.remove();
});

describe("a registry that never answers (real loopback server)", () => {
  it("tiers plan fails naming the registry and changes nothing", async () => {
    const commit = fakeCommit();
    const digest = (c: string) => `sha256:${c.repeat(64)}`;
    await writeArtefacts(repo.root, {
      commit,
      created: new Date().toISOString(),
      registry: host,
      images: Object.fromEntries(
        (["api", "worker"] as const).map((service, i) => [
          service,
          {
            repository: `${host}/tiers-promotion-test/${service}`,
            tag: commit,
            digest: digest(String(i + 1)),
            ref: `${host}/tiers-promotion-test/${service}@${digest(String(i + 1))}`,
          },
        ]),
      ),
    });
    const head = git(repo.root, "rev-parse", "HEAD");
    const run = await runTiers(repo.root, ["plan", "--env", "test", "--commit", commit], {
      env: cleanEnv(),
      timeoutMs: 60_000,
    });
    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    // skopeo's own limit or the process deadline, whichever fires first: both name the registry.
    expect(`${run.stdout}\n${run.stderr}`).toMatch(
      new RegExp(
        `(registry ${host} did not answer|skopeo talking to ${host} did not finish) within 10s`,
      ),
    );
    expect(git(repo.root, "rev-parse", "HEAD")).toBe(head);
    expect(git(repo.root, "status", "--porcelain", "--", "environments", "k8s", "releases")).toBe(
      "",
    );
  }, 60_000);
});
