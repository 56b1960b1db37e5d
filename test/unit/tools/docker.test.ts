import { describe, expect, it } from "vitest";
import {
  build,
  classifyRegistryFailure,
  execHealthProbe,
  isNoSuchImage,
  listByLabel,
  labelValues as listLabelValues,
  localAddress,
  parseContainerInspect,
  parseIdList,
  parseImageInspect,
  parseLoopbackPort,
  parsePushDigest,
  push,
  pushError,
  remove,
} from "../../../pipelines/src/tools/docker.ts";

describe("docker build (argument vector only)", () => {
  const base = {
    context: "services/api",
    dockerfile: "services/api/Dockerfile",
    target: "production",
    tags: ["127.0.0.1:5000/tiers/api:abc"],
    labels: { "tiers.service": "api", "org.opencontainers.image.revision": "abc" },
    buildArgs: { BASE_IMAGE: "local/node:22-bookworm-slim" },
  };

  it("passes target, every tag and label, build args, and the context last", () => {
    const inv = build(base);
    expect(inv.tool).toBe("docker");
    expect(inv.env?.DOCKER_BUILDKIT).toBe("1");
    expect(inv.args.slice(0, 3)).toEqual(["build", "--progress", "plain"]);
    const pairs = (flag: string) =>
      inv.args.flatMap((arg, i) => (arg === flag ? [inv.args[i + 1]] : []));
    expect(pairs("--target")).toEqual(["production"]);
    expect(pairs("--tag")).toEqual(["127.0.0.1:5000/tiers/api:abc"]);
    expect(pairs("--label")).toEqual([
      "org.opencontainers.image.revision=abc",
      "tiers.service=api",
    ]);
    expect(pairs("--build-arg")).toEqual(["BASE_IMAGE=local/node:22-bookworm-slim"]);
    expect(inv.args.at(-1)).toBe("services/api");
    expect(inv.args).not.toContain("--secret");
  });

  it("mounts an extra CA bundle as the BuildKit secret `ca` only when one is configured", () => {
    const inv = build({ ...base, caBundle: "/etc/ssl/certs/ca-certificates.crt" });
    const at = inv.args.indexOf("--secret");
    expect(inv.args[at + 1]).toBe("id=ca,src=/etc/ssl/certs/ca-certificates.crt");
  });
});

describe("docker output parsers", () => {
  it("read labels and repo digests from image inspect", () => {
    const image = parseImageInspect(
      JSON.stringify({
        Id: "sha256:1",
        RepoTags: ["a:b"],
        RepoDigests: null,
        Created: "2026-01-01T00:00:00Z",
        Config: { Labels: { "tiers.service": "api" } },
      }),
    );
    expect(image).toEqual({
      id: "sha256:1",
      labels: { "tiers.service": "api" },
      repoTags: ["a:b"],
      repoDigests: [],
      created: "2026-01-01T00:00:00Z",
    });
    expect(parseImageInspect(JSON.stringify({ Id: "x", Config: { Labels: null } })).labels).toEqual(
      {},
    );
  });

  it("recognise a missing image", () => {
    expect(isNoSuchImage({ exitCode: 1, stderr: "Error: No such image: x:y" })).toBe(true);
    expect(isNoSuchImage({ exitCode: 1, stderr: "permission denied" })).toBe(false);
  });

  it("take the digest from push output", () => {
    const digest = `sha256:${"b".repeat(64)}`;
    expect(parsePushDigest(`abc: digest: ${digest} size: 1570`)).toBe(digest);
    expect(parsePushDigest("The push refers to repository")).toBeUndefined();
  });

  it("classify registry failures: down, refusing, other", () => {
    expect(
      classifyRegistryFailure(
        'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
      ),
    ).toBe("registry-unreachable");
    expect(classifyRegistryFailure("denied: requested access to the resource is denied")).toBe(
      "registry-denied",
    );
    expect(classifyRegistryFailure("something else")).toBeUndefined();
  });

  it("name the registry in a push error and say nothing was recorded", () => {
    const error = pushError(
      push("127.0.0.1:5999/tiers/api:abc"),
      { exitCode: 1, stdout: "", stderr: "dial tcp 127.0.0.1:5999: connect: connection refused" },
      "127.0.0.1:5999",
    );
    expect(error.kind).toBe("registry-unreachable");
    expect(error.message).toMatch(/registry 127\.0\.0\.1:5999 is unreachable/);
    expect(error.hint).toMatch(/nothing was recorded/);
  });

  it("list and remove resources by label", () => {
    expect(listByLabel("volume", { "tiers.tier": "test", "tiers.run": "" }).args).toEqual([
      "volume",
      "ls",
      "--filter",
      "label=tiers.tier=test",
      "--filter",
      "label=tiers.run",
      "--format",
      "{{.Name}}",
    ]);
    expect(listByLabel("container", { a: "b" }).args.slice(0, 2)).toEqual(["ps", "--all"]);
    expect(remove("container", ["1", "2"]).args).toEqual(["rm", "--force", "--volumes", "1", "2"]);
    expect(remove("network", ["n"]).args).toEqual(["network", "rm", "n"]);
    expect(parseIdList("a\n\n b \n")).toEqual(["a", "b"]);
  });

  it("read chosen label values of labelled containers and networks, tab-separated", () => {
    expect(
      listLabelValues("network", { "tiers.tier": "test" }, ["tiers.run", "tiers.owner"]).args,
    ).toEqual([
      "network",
      "ls",
      "--filter",
      "label=tiers.tier=test",
      "--format",
      '{{.Label "tiers.run"}}\t{{.Label "tiers.owner"}}',
    ]);
  });

  it("read health from container inspect, `none` without a healthcheck", () => {
    const states = parseContainerInspect(
      JSON.stringify([
        {
          Id: "1",
          Name: "/p_api_1",
          State: { Status: "running", ExitCode: 0, Health: { Status: "healthy" } },
          Config: { Labels: { "com.docker.compose.service": "api" } },
        },
        { Id: "2", Name: "/p_x_1", State: { Status: "exited", ExitCode: 3 }, Config: {} },
      ]),
    );
    expect(states.map((s) => [s.name, s.health, s.exitCode])).toEqual([
      ["p_api_1", "healthy", 0],
      ["p_x_1", "none", 3],
    ]);
  });
});

describe("published ports from container inspect", () => {
  const inspected = (ports: unknown) =>
    parseContainerInspect(
      JSON.stringify([
        {
          Id: "1",
          Name: "/p_api_1",
          State: { Status: "running", ExitCode: 0 },
          Config: {},
          NetworkSettings: { Ports: ports },
        },
      ]),
    )[0]!;

  it("keeps each TCP port's bindings, leaving exposed-only ports out", () => {
    const state = inspected({
      "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "49153" }],
      "9229/tcp": null,
      "53/udp": [{ HostIp: "127.0.0.1", HostPort: "5353" }],
    });
    expect(state.published).toEqual({ 8080: [{ hostIp: "127.0.0.1", hostPort: 49153 }] });
    expect(inspected(null).published).toEqual({});
  });

  it("answer what `docker-compose port` prints: the first binding, a wildcard read as loopback", () => {
    // docker/compose v1 compose/container.py get_local_port: `"{HostIp}:{HostPort}".format(**port[0])`.
    const state = inspected({
      "8080/tcp": [
        { HostIp: "0.0.0.0", HostPort: "8080" },
        { HostIp: "::", HostPort: "8080" },
      ],
      "5432/tcp": [{ HostIp: "127.0.0.1", HostPort: "15432" }],
    });
    expect(localAddress(state, 8080)).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(localAddress(state, 5432)).toEqual({ host: "127.0.0.1", port: 15432 });
    expect(localAddress(state, 9229)).toBeUndefined();
  });
});

describe("a container's own health probe through docker exec", () => {
  const state = (test: string[], timeoutMs = 0) => ({
    id: "c1",
    healthTest: test,
    healthTimeoutMs: timeoutMs,
  });
  // moby daemon/health.go cmdProbe: Test[1:] as the command; CMD-SHELL prefixed by the shell.
  it("runs CMD words as they are, CMD-SHELL through /bin/sh -c, bounded by the probe's timeout", () => {
    expect(execHealthProbe(state(["CMD", "pg_isready", "--host", "127.0.0.1"], 3000))).toEqual({
      tool: "docker",
      args: ["exec", "c1", "pg_isready", "--host", "127.0.0.1"],
      deadlineMs: 4000,
    });
    expect(execHealthProbe(state(["CMD-SHELL", "test -f /ready"]))?.args).toEqual([
      "exec",
      "c1",
      "/bin/sh",
      "-c",
      "test -f /ready",
    ]);
    // No timeout set: Docker's default of 30 s (defaultProbeTimeout).
    expect(execHealthProbe(state(["CMD-SHELL", "true"]))?.deadlineMs).toBe(31_000);
  });

  it("has nothing to run without a probe", () => {
    expect(execHealthProbe(state(["NONE"]))).toBeUndefined();
    expect(execHealthProbe(state([]))).toBeUndefined();
  });

  it("is read from container inspect (durations in nanoseconds)", () => {
    const [inspected] = parseContainerInspect(
      JSON.stringify([
        {
          Id: "1",
          Name: "/p_postgres_1",
          State: { Status: "running", ExitCode: 0, Health: { Status: "starting" } },
          Config: { Healthcheck: { Test: ["CMD", "pg_isready"], Timeout: 3_000_000_000 } },
        },
      ]),
    );
    expect(inspected).toMatchObject({ healthTest: ["CMD", "pg_isready"], healthTimeoutMs: 3000 });
  });
});

describe("docker port", () => {
  it("finds the 127.0.0.1 binding among the addresses a published port is bound to", () => {
    expect(parseLoopbackPort("127.0.0.1:49153\n")).toBe(49153);
    expect(parseLoopbackPort("0.0.0.0:32768\n[::]:32768\n")).toBeUndefined();
    expect(parseLoopbackPort("")).toBeUndefined();
  });
});
