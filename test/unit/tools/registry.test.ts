import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import {
  classifyFailure,
  inspect,
  isInsecureRegistry,
  parseInspect,
  ping,
  registryError,
  registryOf,
} from "../../../pipelines/src/tools/registry.ts";

const digest = `sha256:${"c".repeat(64)}`;

describe("registry client (skopeo argument vectors and parsers)", () => {
  it("speaks plain HTTP only to loopback registries", () => {
    expect(isInsecureRegistry("127.0.0.1:5000")).toBe(true);
    expect(isInsecureRegistry("localhost:5000")).toBe(true);
    expect(isInsecureRegistry("registry.example.com")).toBe(false);
    expect(inspect("127.0.0.1:5000/tiers/api:abc").args).toEqual([
      "inspect",
      "--tls-verify=false",
      // skopeo(1): "--command-timeout duration: Timeout for the command execution".
      "--command-timeout=10s",
      "docker://127.0.0.1:5000/tiers/api:abc",
    ]);
    expect(inspect("ghcr.io/acme/api@sha256:1").args[1]).toBe("--tls-verify=true");
  });

  it("finds the registry host of a reference", () => {
    expect(registryOf("127.0.0.1:5000/tiers/api:abc")).toBe("127.0.0.1:5000");
    expect(registryOf("ghcr.io/acme/api")).toBe("ghcr.io");
    expect(registryOf("library/node")).toBe("docker.io");
  });

  it("reads the digest and labels the registry serves", () => {
    const image = parseInspect(
      JSON.stringify({
        Name: "127.0.0.1:5000/tiers/api",
        Digest: digest,
        Labels: { "tiers.service": "api" },
        Created: "2026-01-01T00:00:00Z",
        Architecture: "amd64",
      }),
    );
    expect(image.digest).toBe(digest);
    expect(image.labels["tiers.service"]).toBe("api");
    expect(() => parseInspect(JSON.stringify({ Name: "x" }))).toThrow(/no manifest digest/);
  });

  it("classifies failures and names the registry", () => {
    expect(classifyFailure("manifest unknown")).toBe("manifest-unknown");
    expect(classifyFailure("dial tcp 127.0.0.1:5999: connect: connection refused")).toBe(
      "registry-unreachable",
    );
    expect(classifyFailure("unauthorized: authentication required")).toBe("registry-denied");
    const error = registryError(
      inspect("127.0.0.1:5999/tiers/api:x"),
      { exitCode: 1, stdout: "", stderr: "connect: connection refused" },
      "127.0.0.1:5999",
    );
    expect(error.kind).toBe("registry-unreachable");
    expect(error.message).toMatch(/^registry 127\.0\.0\.1:5999 is unreachable/);
  });
});

describe("registry ping (a real HTTP server on loopback)", () => {
  it("is ok for 200 and 401, and reports a closed port", async () => {
    for (const status of [200, 401, 500]) {
      const server = createServer((_req, res) => res.writeHead(status).end());
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      const result = await ping(`127.0.0.1:${port}`);
      expect(result.ok).toBe(status !== 500);
      server.close();
    }
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const result = await ping(`127.0.0.1:${port}`);
    expect(result).toEqual({ ok: false, reason: "ECONNREFUSED" });
  });
});
