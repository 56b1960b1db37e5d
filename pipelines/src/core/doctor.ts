/**
 * `tiers doctor`'s judgement, kept pure: probe results in (gathered by engines/host/probe.ts),
 * a report out saying which tool is usable, its version, and what a missing one disables.
 *
 * Exit policy (decided here, documented in docs/machines.md): doctor reports, it does not fail
 * on optional tools. It exits 1 only when the machine cannot run the core of the pipeline at
 * all — the Docker engine does not answer, or no docker client can build with BuildKit —
 * because then `tiers build`, the test tier and the dev tier all fail. Everything else missing
 * (cosign, dagger, a cluster tool, the registry, local base images) exits 0 with the reason.
 */

/** What was found about one program. */
export interface ProgramProbe {
  /** Absolute path it was found at; undefined when it is not installed. */
  path?: string;
  /** Version it reported (without a leading "v"), when it answered. */
  version?: string;
  /** Why it is not usable although found (did not answer, failed), or how the lookup failed. */
  problem?: string;
}

/** A docker CLI, and whether it can build with BuildKit. */
export interface DockerClientProbe extends ProgramProbe {
  /**
   * True when `DOCKER_BUILDKIT=1 docker build` works with it: clients before 23.0 carry
   * BuildKit themselves; later ones need the buildx plugin.
   */
  buildkit: boolean;
  /** How the BuildKit answer was reached, e.g. "built into client 20.10" or "no buildx plugin". */
  buildkitDetail?: string;
}

/** One image this machine's settings name (base, postgres, busybox). */
export interface ImageProbe {
  role: "base" | "postgres" | "busybox";
  /** The image reference the settings resolve to. */
  ref: string;
  /** Where the reference came from: environment, .tiers/machine.env or the public default. */
  source: "env" | "file" | "default";
  /** Present in the local engine; undefined when the engine could not be asked. */
  present?: boolean;
  /** The recipe hash label scripts/provision.sh puts on images it built. */
  recipe?: string;
}

/** Everything `tiers doctor` looks at, as the host probe found it. */
export interface MachineProbe {
  engine: { answers: boolean; serverVersion?: string; problem?: string };
  /** The client tiers calls: Debian's /usr/bin/docker (or TIERS_DOCKER_BIN). */
  dockerClient: DockerClientProbe;
  /** The `docker` first on PATH, when it is a different file from dockerClient. */
  pathDockerClient?: DockerClientProbe;
  /** `docker-compose` (v1). */
  composeV1: ProgramProbe;
  /** `docker compose` (v2 plugin). */
  composeV2: ProgramProbe;
  registry: {
    /** host:port from the machine settings. */
    address: string;
    /** ok: /v2/ answered 200; auth-required: 401; unreachable: no answer; unexpected: other. */
    status: "ok" | "auth-required" | "unreachable" | "unexpected";
    detail?: string;
  };
  skopeo: ProgramProbe;
  kubectl: ProgramProbe & { kustomizeVersion?: string };
  terraform: ProgramProbe;
  /** `pinned`: the version scripts/provision.sh installs (the cosign image's tag, without "v"). */
  cosign: ProgramProbe & { pinned?: string };
  dagger: ProgramProbe;
  git: ProgramProbe;
  /** PostgreSQL server binaries (postgres, initdb) for the services' tests on the host. */
  hostPostgres: ProgramProbe;
  images: ImageProbe[];
  /** The extra CA bundle the settings name (TIERS_EXTRA_CA_BUNDLE); absent when none is set. */
  caBundle?: { path: string; readable: boolean };
}

/** ok: usable; limited: usable with a caveat; missing: not installed; unusable: found, broken. */
export type CheckStatus = "ok" | "limited" | "missing" | "unusable";

/** One line of the doctor report. */
export interface DoctorCheck {
  /** Stable id for --json consumers, e.g. "docker-engine", "cosign", "image:base". */
  id: string;
  /** What a person calls it. */
  name: string;
  status: CheckStatus;
  /** The pipeline can use it (ok or limited). */
  usable: boolean;
  /** Without it the core of the pipeline cannot run, so doctor exits 1. */
  essential: boolean;
  version?: string;
  /** What was found, in a few words. */
  detail: string;
  /** What does not work on this machine because it is missing or broken (empty when usable). */
  disables: string[];
  /** What to do about it. */
  hint?: string;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  /** Every essential check is usable. */
  ready: boolean;
  exitCode: 0 | 1;
}

const provisionHint = "run scripts/provision.sh as root";

/** Judges the probe results. Pure: the same probe always gives the same report. */
export function doctorReport(probe: MachineProbe): DoctorReport {
  const checks: DoctorCheck[] = [
    engineCheck(probe),
    clientCheck(probe),
    ...pathClientCheck(probe),
    composeCheck(probe),
    registryCheck(probe),
    program(probe.skopeo, {
      id: "skopeo",
      name: "skopeo",
      disables: [
        "reading digests and labels from the registry (tiers publish records nothing without it)",
        "registry checks in tiers plan and promote",
      ],
      hint: `apt-get install skopeo, or ${provisionHint}`,
    }),
    kubectlCheck(probe),
    program(probe.terraform, {
      id: "terraform",
      name: "terraform",
      disables: ["terraform fmt/validate/plan of the per-tier infrastructure"],
      hint: "install Terraform 1.x from HashiCorp",
    }),
    cosignCheck(probe),
    program(probe.dagger, {
      id: "dagger",
      name: "dagger",
      disables: [
        "`dagger call ...` (the Dagger module); the tiers CLI runs the same steps on the host engine",
      ],
      hint: "install the Dagger CLI (https://docs.dagger.io/install)",
    }),
    program(probe.git, {
      id: "git",
      name: "git",
      disables: ["revision labels on images, promotion records, overlay history"],
      hint: "apt-get install git",
    }),
    program(probe.hostPostgres, {
      id: "host-postgres",
      name: "postgres (host)",
      disables: ["the services' tests against a real PostgreSQL on the host"],
      hint: `apt-get install postgresql-15, or ${provisionHint}`,
    }),
    ...probe.images.map((image) => imageCheck(image, probe.engine.answers)),
    caBundleCheck(probe),
  ];
  const ready = checks.every((check) => !check.essential || check.usable);
  return { checks, ready, exitCode: ready ? 0 : 1 };
}

const containerWork = [
  "tiers build",
  "tiers publish",
  "tiers env test run",
  "tiers env dev",
  "the integration tests",
];

function engineCheck({ engine }: MachineProbe): DoctorCheck {
  const base = { id: "docker-engine", name: "docker engine", essential: true };
  if (engine.answers) {
    return {
      ...base,
      status: "ok",
      usable: true,
      version: engine.serverVersion,
      detail: "server answers",
      disables: [],
    };
  }
  return {
    ...base,
    status: "unusable",
    usable: false,
    detail: `server does not answer${engine.problem ? `: ${engine.problem}` : ""}`,
    disables: containerWork,
    hint: `start dockerd (${provisionHint} starts it and waits for it)`,
  };
}

function clientCheck({ dockerClient: client }: MachineProbe): DoctorCheck {
  const base = { id: "docker-client", name: "docker client (BuildKit)", essential: true };
  const where = client.path ?? "/usr/bin/docker";
  if (!client.path) {
    return {
      ...base,
      status: "missing",
      usable: false,
      detail: `${where} not found`,
      disables: containerWork,
      hint: `apt-get install docker.io, or ${provisionHint}`,
    };
  }
  if (client.problem && !client.version) {
    return {
      ...base,
      status: "unusable",
      usable: false,
      detail: `${where}: ${client.problem}`,
      disables: containerWork,
      hint: "reinstall docker.io",
    };
  }
  if (!client.buildkit) {
    return {
      ...base,
      status: "unusable",
      usable: false,
      version: client.version,
      detail: `${where} cannot build with BuildKit (${client.buildkitDetail ?? "no buildx"})`,
      disables: [
        "tiers build (multi-stage targets, cache mounts and the CA build secret need BuildKit)",
      ],
      hint: "install the buildx plugin, or point TIERS_DOCKER_BIN at a client that has BuildKit",
    };
  }
  return {
    ...base,
    status: "ok",
    usable: true,
    version: client.version,
    detail: `${where} builds with BuildKit (${client.buildkitDetail ?? "yes"}); tiers always calls this one`,
    disables: [],
  };
}

/** A different `docker` first on PATH matters to people typing commands, not to tiers. */
function pathClientCheck({ pathDockerClient: client }: MachineProbe): DoctorCheck[] {
  if (!client?.path) return [];
  const base = { id: "docker-on-path", name: "docker on PATH", essential: false };
  if (client.buildkit) {
    return [
      {
        ...base,
        status: "ok",
        usable: true,
        version: client.version,
        detail: `${client.path} builds with BuildKit too`,
        disables: [],
      },
    ];
  }
  return [
    {
      ...base,
      status: "limited",
      usable: true,
      version: client.version,
      detail: `${client.path} runs containers but cannot build with BuildKit (${client.buildkitDetail ?? "no buildx"})`,
      disables: [
        "typing `DOCKER_BUILDKIT=1 docker build` by hand (tiers is unaffected: it calls the BuildKit client)",
      ],
      hint: "use /usr/bin/docker for builds by hand",
    },
  ];
}

function composeCheck({ composeV1: v1, composeV2: v2 }: MachineProbe): DoctorCheck {
  const base = { id: "compose", name: "compose", essential: false };
  const v1ok = Boolean(v1.path && v1.version);
  const v2ok = Boolean(v2.version);
  if (v1ok || v2ok) {
    const found = [
      v1ok ? `docker-compose ${v1.version} (v1)` : "",
      v2ok ? `docker compose ${v2.version} (v2)` : "",
    ]
      .filter(Boolean)
      .join(", ");
    return {
      ...base,
      status: "ok",
      usable: true,
      version: v1ok ? v1.version : v2.version,
      detail: found,
      disables: [],
    };
  }
  return {
    ...base,
    status: v1.path ? "unusable" : "missing",
    usable: false,
    detail: v1.path
      ? `docker-compose at ${v1.path}: ${v1.problem ?? "did not answer"}`
      : "neither docker-compose (v1) nor docker compose (v2)",
    disables: ["tiers env dev up|down|logs|shell|status", "tiers env test run"],
    hint: `apt-get install docker-compose, or ${provisionHint}`,
  };
}

function registryCheck({ registry }: MachineProbe): DoctorCheck {
  const base = { id: "registry", name: "registry", essential: false };
  const url = `http://${registry.address}/v2/`;
  const disables = [
    "tiers publish (no digests recorded)",
    "promotion of published digests (tiers plan/promote read the registry)",
  ];
  switch (registry.status) {
    case "ok":
      return { ...base, status: "ok", usable: true, detail: `${url} answers`, disables: [] };
    case "auth-required":
      return {
        ...base,
        status: "limited",
        usable: true,
        detail: `${url} asks for credentials (401)`,
        disables: ["publishing without a registry login"],
        hint: "log in with docker login, or serve the local registry without auth (scripts/provision.sh)",
      };
    default:
      return {
        ...base,
        status: "unusable",
        usable: false,
        detail: `${url} ${registry.status === "unreachable" ? "does not answer" : "answers unexpectedly"}${registry.detail ? ` (${registry.detail})` : ""}`,
        disables,
        hint: `${provisionHint} (serves one on 127.0.0.1:5000), or set TIERS_REGISTRY`,
      };
  }
}

/**
 * cosign is usable when it answers; a version other than the pinned one still signs, but it is
 * not the release the Dagger module runs, so behaviour may differ between the two engines.
 */
function cosignCheck({ cosign }: MachineProbe): DoctorCheck {
  const pinned = cosign.pinned ? ` ${cosign.pinned}` : "";
  const check = program(cosign, {
    id: "cosign",
    name: "cosign",
    disables: [
      "signing passages and verifying signatures (tiers sign; gates of tiers whose signing policy is required fail closed)",
    ],
    hint: `${provisionHint} to install cosign${pinned} (go install into /usr/local/bin); without it use --evidence local where policy allows`,
  });
  if (check.usable && cosign.pinned && cosign.version !== cosign.pinned) {
    check.status = "limited";
    check.detail = `${check.detail}: version ${cosign.version}, but the pipeline pins ${cosign.pinned} (the cosign image of the Dagger module)`;
    check.disables = ["the same cosign release on the host and under Dagger"];
    check.hint = `${provisionHint} to install cosign${pinned} over it`;
  }
  return check;
}

function kubectlCheck({ kubectl }: MachineProbe): DoctorCheck {
  const check = program(kubectl, {
    id: "kubectl",
    name: "kubectl + kustomize",
    disables: [
      "rendering and checking the Kustomize overlays of staging and prod (tiers plan, tiers deploy)",
    ],
    hint: "install kubectl 1.27+ (kustomize is built in)",
  });
  if (check.usable) {
    check.detail = kubectl.kustomizeVersion
      ? `${check.detail}, kustomize ${kubectl.kustomizeVersion} built in; no cluster is needed to render`
      : `${check.detail}; kustomize version not reported`;
  }
  return check;
}

function imageCheck(image: ImageProbe, engineAnswers: boolean): DoctorCheck {
  const purpose = {
    base: "service builds (BASE_IMAGE)",
    postgres: "the PostgreSQL container of the dev and test tiers",
    busybox: "quick container checks in tests",
  }[image.role];
  const base = {
    id: `image:${image.role}`,
    name: `image ${image.role}`,
    essential: false,
  };
  const origin =
    image.source === "default"
      ? "public default"
      : `from ${image.source === "env" ? "environment" : ".tiers/machine.env"}`;
  if (!engineAnswers || image.present === undefined) {
    return {
      ...base,
      status: "unusable",
      usable: false,
      detail: `${image.ref} (${origin}): not checked, the engine does not answer`,
      disables: [purpose],
      hint: provisionHint,
    };
  }
  if (image.present) {
    return {
      ...base,
      status: "ok",
      usable: true,
      detail: `${image.ref} present (${origin}${image.recipe ? ", built by provision" : ""})`,
      disables: [],
    };
  }
  return {
    ...base,
    status: "missing",
    usable: false,
    detail: `${image.ref} not in the local engine (${origin})`,
    disables: [`${purpose}, unless the engine can pull ${image.ref}`],
    hint: `${provisionHint} (builds local images), or docker pull ${image.ref} where a registry is reachable`,
  };
}

function caBundleCheck({ caBundle }: MachineProbe): DoctorCheck {
  const base = { id: "ca-bundle", name: "extra CA bundle", essential: false };
  if (!caBundle) {
    return {
      ...base,
      status: "ok",
      usable: true,
      detail: "none set (builds trust only the images' own CAs)",
      disables: [],
    };
  }
  if (caBundle.readable) {
    return {
      ...base,
      status: "ok",
      usable: true,
      detail: `${caBundle.path} (passed to builds as the BuildKit secret ca)`,
      disables: [],
    };
  }
  return {
    ...base,
    status: "unusable",
    usable: false,
    detail: `${caBundle.path} is not a readable file`,
    disables: ["npm inside image builds where a TLS-intercepting proxy needs this CA"],
    hint: "point TIERS_EXTRA_CA_BUNDLE at a PEM bundle, set it empty for none, or re-run scripts/provision.sh",
  };
}

/** The common case: a program is usable when it was found and reported a version. */
function program(
  probe: ProgramProbe,
  spec: { id: string; name: string; disables: string[]; hint: string },
): DoctorCheck {
  const base = { id: spec.id, name: spec.name, essential: false };
  if (!probe.path) {
    return {
      ...base,
      status: "missing",
      usable: false,
      detail: "not installed",
      disables: spec.disables,
      hint: spec.hint,
    };
  }
  if (!probe.version) {
    return {
      ...base,
      status: "unusable",
      usable: false,
      detail: `${probe.path}: ${probe.problem ?? "did not report a version"}`,
      disables: spec.disables,
      hint: spec.hint,
    };
  }
  return {
    ...base,
    status: "ok",
    usable: true,
    version: probe.version,
    detail: probe.path,
    disables: [],
  };
}

const symbols: Record<CheckStatus, string> = { ok: "✓", limited: "~", missing: "✗", unusable: "✗" };

/** Renders one check as the single line the CLI prints (without marker or colour). */
export function formatCheck(check: DoctorCheck, nameWidth = 26, versionWidth = 10): string {
  const version = check.usable ? (check.version ?? "") : check.status;
  let line = `${symbols[check.status]} ${check.name.padEnd(nameWidth)} ${version.padEnd(versionWidth)} ${check.detail}`;
  if (check.disables.length > 0) line += ` — disables: ${check.disables.join("; ")}`;
  if (check.hint && !check.usable) line += ` → ${check.hint}`;
  else if (check.hint && check.status === "limited") line += ` → ${check.hint}`;
  return line;
}

/** The closing line: whether the pipeline's core can run, and how many tools are missing. */
export function summarise(report: DoctorReport): string {
  const unusable = report.checks.filter((check) => !check.usable);
  const essentials = unusable.filter((check) => check.essential).map((check) => check.name);
  if (!report.ready) {
    return `not ready: ${essentials.join(" and ")} unusable, so builds and the test and dev tiers cannot run`;
  }
  if (unusable.length === 0) return "ready: every tool the pipeline drives is usable here";
  const names = unusable.map((check) => check.name).join(", ");
  const count = `${unusable.length} optional ${unusable.length === 1 ? "tool is" : "tools are"}`;
  return `ready: the Docker engine and a BuildKit client are usable; ${count} not: ${names}`;
}
