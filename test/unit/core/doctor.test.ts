import { describe, expect, it } from "vitest";
import {
  type DoctorCheck,
  doctorReport,
  formatCheck,
  type MachineProbe,
  summarise,
} from "../../../pipelines/src/core/doctor.ts";

/** The probe of a project machine after scripts/provision.sh (what world.md describes). */
function provisionedMachine(): MachineProbe {
  return {
    engine: { answers: true, serverVersion: "20.10.24" },
    dockerClient: {
      path: "/usr/bin/docker",
      version: "20.10.24",
      buildkit: true,
      buildkitDetail: "built into client 20.10.24",
    },
    pathDockerClient: {
      path: "/usr/local/bin/docker",
      version: "28.2.2",
      buildkit: false,
      buildkitDetail: "no buildx plugin",
    },
    composeV1: { path: "/usr/bin/docker-compose", version: "1.29.2" },
    composeV2: {},
    registry: { address: "127.0.0.1:5000", status: "ok" },
    skopeo: { path: "/usr/bin/skopeo", version: "1.9.3" },
    kubectl: { path: "/usr/bin/kubectl", version: "1.32.4", kustomizeVersion: "5.5.0" },
    terraform: { path: "/usr/local/bin/terraform", version: "1.11.4" },
    cosign: {},
    dagger: {},
    git: { path: "/usr/bin/git", version: "2.39.5" },
    hostPostgres: { path: "/usr/local/bin/postgres", version: "15.18" },
    images: [
      {
        role: "base",
        ref: "local/node:22-bookworm-slim",
        source: "file",
        present: true,
        recipe: "ab",
      },
      { role: "postgres", ref: "local/postgres:15-bookworm", source: "file", present: true },
      { role: "busybox", ref: "local/busybox:latest", source: "file", present: true },
    ],
  };
}

function check(probe: MachineProbe, id: string): DoctorCheck {
  const found = doctorReport(probe).checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

describe("doctorReport", () => {
  it("is ready (exit 0) on a provisioned machine even though cosign and dagger are missing", () => {
    const report = doctorReport(provisionedMachine());
    expect(report.ready).toBe(true);
    expect(report.exitCode).toBe(0);
    const unusable = report.checks.filter((c) => !c.usable).map((c) => c.id);
    expect(unusable).toEqual(["cosign", "dagger"]);
  });

  it("says what a missing cosign disables and how to get it", () => {
    const cosign = check(provisionedMachine(), "cosign");
    expect(cosign.status).toBe("missing");
    expect(cosign.disables.join(" ")).toMatch(/signing passages and verifying signatures/);
    expect(cosign.hint).toMatch(/install cosign/);
  });

  it("finds the cosign provision installed, and flags one that is not the pinned release", () => {
    const probe = provisionedMachine();
    probe.cosign = { path: "/usr/local/bin/cosign", version: "2.4.3", pinned: "2.4.3" };
    expect(check(probe, "cosign")).toMatchObject({ status: "ok", usable: true, version: "2.4.3" });
    probe.cosign = { ...probe.cosign, version: "2.2.0" };
    const other = check(probe, "cosign");
    expect(other.status).toBe("limited");
    expect(other.usable).toBe(true);
    expect(other.detail).toMatch(/version 2\.2\.0, but the pipeline pins 2\.4\.3/);
    expect(formatCheck(other)).toMatch(
      /→ run scripts\/provision\.sh as root to install cosign 2\.4\.3/,
    );
    probe.cosign = { pinned: "2.4.3" };
    expect(check(probe, "cosign").hint).toMatch(/scripts\/provision\.sh .*install cosign 2\.4\.3/);
  });

  it("fails (exit 1) when the Docker engine does not answer, naming what that stops", () => {
    const probe = provisionedMachine();
    probe.engine = { answers: false, problem: "Cannot connect to the Docker daemon" };
    const report = doctorReport(probe);
    expect(report.exitCode).toBe(1);
    const engine = check(probe, "docker-engine");
    expect(engine.status).toBe("unusable");
    expect(engine.detail).toContain("Cannot connect to the Docker daemon");
    expect(engine.disables).toContain("tiers build");
    expect(engine.hint).toContain("scripts/provision.sh");
    expect(summarise(report)).toMatch(/^not ready: docker engine unusable/);
  });

  it("fails (exit 1) when the docker client tiers calls cannot build with BuildKit", () => {
    const probe = provisionedMachine();
    probe.dockerClient = {
      path: "/usr/bin/docker",
      version: "28.2.2",
      buildkit: false,
      buildkitDetail: "no buildx plugin",
    };
    const report = doctorReport(probe);
    expect(report.exitCode).toBe(1);
    expect(check(probe, "docker-client").detail).toContain("cannot build with BuildKit");
  });

  it("flags a non-BuildKit docker first on PATH as limited, not as a failure", () => {
    const onPath = check(provisionedMachine(), "docker-on-path");
    expect(onPath.status).toBe("limited");
    expect(onPath.usable).toBe(true);
    expect(onPath.detail).toContain("/usr/local/bin/docker");
  });

  it("leaves out the PATH client line when PATH's docker is the one tiers calls", () => {
    const probe = provisionedMachine();
    delete probe.pathDockerClient;
    expect(doctorReport(probe).checks.some((c) => c.id === "docker-on-path")).toBe(false);
  });

  it("accepts compose v2 alone, and reports neither as disabling the dev and test tiers", () => {
    const probe = provisionedMachine();
    probe.composeV1 = {};
    probe.composeV2 = { path: "/usr/bin/docker", version: "2.29.1" };
    expect(check(probe, "compose")).toMatchObject({
      usable: true,
      detail: "docker compose 2.29.1 (v2)",
    });
    probe.composeV2 = {};
    const none = check(probe, "compose");
    expect(none.status).toBe("missing");
    expect(none.disables).toContain("tiers env test run");
    expect(doctorReport(probe).exitCode).toBe(0);
  });

  it("tells a registry that asks for credentials apart from one that does not answer", () => {
    const probe = provisionedMachine();
    probe.registry = { address: "127.0.0.1:5000", status: "auth-required" };
    expect(check(probe, "registry").status).toBe("limited");
    probe.registry = { address: "127.0.0.1:5000", status: "unreachable", detail: "ECONNREFUSED" };
    const down = check(probe, "registry");
    expect(down.status).toBe("unusable");
    expect(down.detail).toBe("http://127.0.0.1:5000/v2/ does not answer (ECONNREFUSED)");
    expect(down.disables.join(" ")).toContain("tiers publish");
  });

  it("reports a program that is installed but does not answer as unusable with its error", () => {
    const probe = provisionedMachine();
    probe.terraform = { path: "/usr/local/bin/terraform", problem: "no answer within 8s" };
    expect(check(probe, "terraform")).toMatchObject({
      status: "unusable",
      detail: "/usr/local/bin/terraform: no answer within 8s",
    });
  });

  it("names kustomize's built-in version on the kubectl line", () => {
    expect(check(provisionedMachine(), "kubectl").detail).toContain("kustomize 5.5.0 built in");
  });

  it("reports a missing public base image with the way to get a local one", () => {
    const probe = provisionedMachine();
    probe.images[0] = {
      role: "base",
      ref: "node:22-bookworm-slim",
      source: "default",
      present: false,
    };
    const image = check(probe, "image:base");
    expect(image.status).toBe("missing");
    expect(image.detail).toBe("node:22-bookworm-slim not in the local engine (public default)");
    expect(image.hint).toContain("scripts/provision.sh");
    expect(doctorReport(probe).exitCode).toBe(0);
  });

  it("does not claim an image is missing when the engine could not be asked", () => {
    const probe = provisionedMachine();
    probe.engine = { answers: false };
    probe.images = probe.images.map(({ present: _present, ...image }) => image);
    expect(check(probe, "image:postgres").detail).toContain(
      "not checked, the engine does not answer",
    );
  });
});

describe("doctorReport: the extra CA bundle", () => {
  it("accepts no bundle and a readable one", () => {
    expect(check(provisionedMachine(), "ca-bundle").usable).toBe(true);
    const probe = provisionedMachine();
    probe.caBundle = { path: "/etc/ssl/certs/ca-certificates.crt", readable: true };
    expect(check(probe, "ca-bundle").detail).toContain("BuildKit secret ca");
  });

  it("flags a bundle path that is not a readable file, without failing doctor", () => {
    const probe = provisionedMachine();
    probe.caBundle = { path: "/nowhere/ca.pem", readable: false };
    const ca = check(probe, "ca-bundle");
    expect(ca).toMatchObject({
      status: "unusable",
      detail: "/nowhere/ca.pem is not a readable file",
    });
    expect(ca.hint).toContain("TIERS_EXTRA_CA_BUNDLE");
    expect(doctorReport(probe).exitCode).toBe(0);
  });
});

describe("formatCheck", () => {
  it("prints one line: symbol, name, version, detail", () => {
    const line = formatCheck(check(provisionedMachine(), "git"), 8, 7);
    expect(line).toBe("✓ git      2.39.5  /usr/bin/git");
  });

  it("puts the status, what is disabled and the hint on a missing tool's line", () => {
    const line = formatCheck(check(provisionedMachine(), "dagger"), 8, 7);
    expect(line).toMatch(/^✗ dagger {3}missing not installed — disables: `dagger call/);
    expect(line).toContain("→ install the Dagger CLI");
    expect(line).not.toContain("\n");
  });
});
