/**
 * Supply-chain evidence of published digests (issue 15), on the host: the SBOM npm makes from
 * the image's lock file, the SLSA v1 provenance of its build, the scanner report a user's CI
 * produced, each committed under releases/ (core/promotion/security.ts and provenance.ts name
 * the files) and, when a signing key is configured, attested to the digest with cosign.
 *
 * Attesting needs a key: TIERS_COSIGN_KEY (a cosign key reference, with COSIGN_PASSWORD), the
 * same variable promotion signs with. Without it the evidence is recorded and the output says
 * it was not attested; with it, a missing cosign or a failed attestation is an error.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import {
  type ArtefactRecord,
  artefactDir,
  imageBuildArgs,
  imageLabels,
  type PublishedImage,
  type Revision,
} from "../../core/artefact.ts";
import { TiersError, UsageError } from "../../core/errors.ts";
import type { Reporter } from "../../core/log.ts";
import {
  type Provenance,
  type ProvenanceInput,
  provenancePath,
  slsaProvenance,
  tiersBuilderId,
} from "../../core/promotion/provenance.ts";
import { renderRecord } from "../../core/promotion/records.ts";
import { isDigest, parseImageRef, pinnedRef } from "../../core/promotion/refs.ts";
import {
  readScanReport,
  type ScanFormat,
  type ScanRecord,
  type ScanSummary,
  sbomPath,
  scanFormats,
  scanRecordPath,
  scanReportPath,
  severityCounts,
} from "../../core/promotion/security.ts";
import type { ServiceTopology } from "../../core/topology.ts";
import * as cosign from "../../tools/cosign.ts";
import * as npm from "../../tools/npm.ts";
import { buildSettings, servicesToBuild, sourceUrl } from "./build.ts";
import { PromotionRepo, whoAmI } from "./history.ts";
import { locked } from "./promotion/lock.ts";
import { artefactFiles } from "./promotion/sources.ts";
import { runHost } from "./run.ts";
import { SecretStore } from "./secrets.ts";
import { signingIdentity } from "./signing.ts";

/** The npm workspace an image is built from: the directory of its Dockerfile. */
export function imageWorkspace(root: string, service: string, dockerfile: string): string {
  const workspace = posix.dirname(dockerfile);
  if (
    !existsSync(join(root, workspace, "package.json")) ||
    !existsSync(join(root, "package-lock.json"))
  ) {
    throw new TiersError(
      `no SBOM tool fits ${service}: ${workspace}/package.json or package-lock.json is missing`,
      {
        where: dockerfile,
        hint: "tiers makes SBOMs with `npm sbom` from the workspace's lock file; build the image from an npm workspace with a committed package-lock.json",
      },
    );
  }
  return workspace;
}

/** The CycloneDX JSON npm prints for one workspace, checked to be a CycloneDX BOM. */
export async function generateSbom(
  root: string,
  workspace: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const result = await runHost(npm.sbom(workspace), { root, env, reject: false });
  return npm.sbomOutput(workspace, result);
}

/** sha256 of a file in the repository at HEAD's working tree (clean at publish). */
export async function fileSha256(root: string, path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(join(root, path)))
    .digest("hex");
}

/** The engine's builder id; in GitHub Actions the run's URL names the invocation. */
export function invocationId(env: NodeJS.ProcessEnv): string {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    return `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
  }
  return `urn:uuid:${randomUUID()}`;
}

/** A predicate file to attest, with cosign's `--type` for it. */
export interface Attestation {
  ref: string;
  /** Repository-relative path of the predicate (for messages), and its content. */
  path: string;
  content: string;
  type: "cyclonedx" | "slsaprovenance1" | "vuln";
}

/** How attestations are signed here, or why they are not. */
export type Attester =
  | { attest: true; run: (attestations: readonly Attestation[]) => Promise<void> }
  | { attest: false; why: string };

/**
 * The attester of this machine: with TIERS_COSIGN_KEY set, cosign signs every attestation with
 * that key (the Rekor upload follows TIERS_COSIGN_TLOG, as promotion's signatures do).
 */
export async function hostAttester(root: string, env: NodeJS.ProcessEnv): Promise<Attester> {
  if (!env.TIERS_COSIGN_KEY) {
    return { attest: false, why: "TIERS_COSIGN_KEY is not set, so nothing was attested" };
  }
  const installed = await runHost(cosign.version(), { root, env, reject: false })
    .then((r) => r.exitCode === 0)
    .catch(() => false);
  if (!installed) {
    throw new TiersError(
      "TIERS_COSIGN_KEY asks for attestations, but cosign is not installed here",
      {
        hint: "install cosign (scripts/provision.sh), or unset TIERS_COSIGN_KEY to record the evidence without attesting it",
      },
    );
  }
  const tlog = env.TIERS_COSIGN_TLOG !== "false";
  return {
    attest: true,
    run: async (attestations) => {
      const dir = await mkdtemp(join(tmpdir(), "tiers-attest-"));
      try {
        for (const [index, a] of attestations.entries()) {
          const file = join(dir, `${index}.json`);
          await writeFile(file, a.content);
          const secrets = new SecretStore(env);
          const signer = signingIdentity(
            { required: true, mode: "key", key: env.TIERS_COSIGN_KEY },
            env,
            secrets,
          );
          const invocation = cosign.attest({
            ref: a.ref,
            signer,
            predicate: file,
            type: a.type,
            tlogUpload: tlog,
          });
          const result = await runHost(invocation, { root, env, secrets, reject: false });
          if (result.exitCode !== 0) throw cosign.cosignError(invocation, result);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** One image's evidence as publish records it. */
export interface ImageEvidence {
  service: string;
  ref: string;
  digest: string;
  sbom: { path: string; content: string };
  provenance: { path: string; content: string; predicate: Provenance };
}

/** What one engine's publish knows, from which each digest's evidence is made. */
export interface PublishedBuild {
  engine: "host" | "dagger";
  project: string;
  /** The published commit, its time and its source URL. */
  revision: Revision;
  /** The `BASE_IMAGE` the builds received, and its digest or image id when known. */
  baseImage: ProvenanceInput["baseImage"];
  services: readonly ServiceTopology[];
  images: Readonly<Record<string, PublishedImage>>;
  /** CycloneDX of each service's workspace, by service. */
  sboms: ReadonlyMap<string, string>;
  /** sha256 of package-lock.json at the published commit. */
  lockSha: string;
  invocationId: string;
  startedOn: string;
  finishedOn: string;
}

/**
 * Each published digest's SBOM and SLSA provenance. The one place both engines' evidence is
 * spelled: the host's publish calls it directly, the Dagger module through `tiers
 * record-evidence`, so the two records of one build differ only in builder and times.
 */
export function publishedEvidence(build: PublishedBuild): ImageEvidence[] {
  return build.services.map((service) => {
    const image = build.images[service.name];
    const sbom = build.sboms.get(service.name);
    if (!image || sbom === undefined) {
      throw new TiersError(`no published image or SBOM of ${service.name}`, {
        hint: "every built service is published together; publish the commit again",
      });
    }
    const predicate = slsaProvenance({
      builderId: tiersBuilderId(build.engine),
      source: { uri: build.revision.source, commit: build.revision.commit },
      service: service.name,
      dockerfile: service.build!.dockerfile,
      context: service.build!.context,
      target: "production",
      buildArgs: imageBuildArgs({ baseImage: build.baseImage.ref, revision: build.revision }),
      labels: imageLabels({
        project: build.project,
        service: service.name,
        target: "production",
        revision: build.revision,
      }),
      baseImage: build.baseImage,
      inputs: [{ path: "package-lock.json", sha256: build.lockSha }],
      invocationId: build.invocationId,
      startedOn: build.startedOn,
      finishedOn: build.finishedOn,
    });
    return {
      service: service.name,
      ref: image.ref,
      digest: image.digest,
      sbom: { path: sbomPath(image.digest), content: sbom },
      provenance: {
        path: provenancePath(image.digest),
        content: `${JSON.stringify(predicate, null, 2)}\n`,
        predicate,
      },
    };
  });
}

/** The SBOM of every service, each from its image's npm workspace (nothing pushed yet). */
export async function serviceSboms(
  root: string,
  services: readonly ServiceTopology[],
  reporter: Reporter,
  env: NodeJS.ProcessEnv,
): Promise<Map<string, string>> {
  const sboms = new Map<string, string>();
  for (const service of services) {
    const workspace = imageWorkspace(root, service.name, service.build!.dockerfile);
    sboms.set(
      service.name,
      await reporter.step(undefined, `SBOM of ${service.name} (npm sbom -w ${workspace})`, () =>
        generateSbom(root, workspace, env),
      ),
    );
  }
  return sboms;
}

/** The artefact record of a published commit, or an error naming the file it is not in. */
async function publishedRecord(root: string, commit: string): Promise<ArtefactRecord> {
  const exists = await stat(join(root, artefactDir, `${commit}.json`)).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new TiersError(`no artefact record of ${commit} in .tiers/artefacts/`, {
      where: `${artefactDir}/${commit}.json`,
      hint: "publish the commit first (`tiers publish`, `dagger call publish`); its record names the digests",
    });
  }
  return artefactFiles(root).read(commit);
}

export interface RecordPublishedEvidenceRequest {
  root: string;
  /** The published commit: `.tiers/artefacts/<commit>.json` names its digests. */
  commit: string;
  engine: "host" | "dagger";
  /** When the builds ran (default: the artefact record's `created`). */
  startedOn?: string;
  finishedOn?: string;
  reporter: Reporter;
  env?: NodeJS.ProcessEnv;
}

/**
 * `tiers record-evidence`: the evidence publish records, for a commit an engine published
 * without a checkout of its own to commit in (the Dagger module runs it on a fresh clone). The
 * SBOMs come from this checkout's lock file and manifests, so they must be the published
 * commit's: any difference fails, naming the files, and nothing is recorded.
 */
export async function recordPublishedEvidence(
  request: RecordPublishedEvidenceRequest,
): Promise<string> {
  const { root, commit, reporter } = request;
  const env = request.env ?? process.env;
  const record = await publishedRecord(root, commit);
  const services = await servicesToBuild(root, Object.keys(record.images));
  const manifests = [
    "package-lock.json",
    "package.json",
    ...services.map((s) => `${imageWorkspace(root, s.name, s.build!.dockerfile)}/package.json`),
  ];
  const git = (args: string[]) => runHost({ tool: "git", args }, { root, env, reject: false });
  const changed = await git(["diff", "--name-only", commit, "--", ...manifests]);
  if (changed.exitCode !== 0 || changed.stdout.trim()) {
    throw new TiersError(
      changed.exitCode !== 0
        ? `cannot compare this checkout with ${commit}: ${changed.stderr.trim()}`
        : `this checkout's ${changed.stdout.trim().split("\n").join(", ")} differ from ${commit}'s: an SBOM made here would not describe the published images; nothing was recorded`,
      { where: root, hint: "run it on a checkout whose lock file and manifests are the commit's" },
    );
  }
  const [committedAt, origin] = await Promise.all([
    git(["show", "-s", "--format=%ct", commit]),
    git(["remote", "get-url", "origin"]),
  ]);
  if (committedAt.exitCode !== 0) {
    throw new TiersError(`cannot read commit ${commit}: ${committedAt.stderr.trim()}`, {
      where: root,
    });
  }
  const settings = await buildSettings(root, env);
  const sboms = await serviceSboms(root, services, reporter, env);
  const attester = await hostAttester(root, env);
  const digest = parseImageRef(settings.baseImage).digest;
  const evidence = publishedEvidence({
    engine: request.engine,
    project: settings.project,
    revision: {
      commit,
      committedAt: new Date(Number(committedAt.stdout.trim()) * 1000).toISOString(),
      dirty: false,
      source: sourceUrl(root, origin),
    },
    baseImage: { ref: settings.baseImage, ...(digest ? { digest } : {}) },
    services,
    images: record.images,
    sboms,
    lockSha: await fileSha256(root, "package-lock.json"),
    invocationId: invocationId(env),
    startedOn: request.startedOn ?? record.created,
    finishedOn: request.finishedOn ?? record.created,
  });
  return recordEvidence({ root, env, reporter, commit, evidence, attester });
}

/** Commits the evidence files in one commit, then attests each (or says why not). */
export async function recordEvidence(options: {
  root: string;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  commit: string;
  evidence: readonly ImageEvidence[];
  attester: Attester;
}): Promise<string> {
  const { root, env, reporter, evidence } = options;
  const repo = new PromotionRepo(root, env);
  const services = evidence.map((e) => e.service).join(", ");
  const made = await locked(repo, "record supply-chain evidence", async () =>
    repo.commit({
      expectedHead: await repo.head(),
      writes: evidence.flatMap((e) => [
        { path: e.sbom.path, content: e.sbom.content },
        { path: e.provenance.path, content: e.provenance.content },
      ]),
      message: `evidence ${options.commit.slice(0, 12)}: SBOM and SLSA provenance of ${services}`,
    }),
  );
  reporter.info(
    undefined,
    `recorded SBOM and provenance of ${services} in releases/ (${made.slice(0, 12)})`,
  );
  if (!options.attester.attest) {
    reporter.info(undefined, `not attested: ${options.attester.why}`);
    return made;
  }
  await options.attester.run(
    evidence.flatMap((e) => [
      { ref: e.ref, path: e.sbom.path, content: e.sbom.content, type: "cyclonedx" as const },
      {
        ref: e.ref,
        path: e.provenance.path,
        content: e.provenance.content,
        type: "slsaprovenance1" as const,
      },
    ]),
  );
  reporter.info(
    undefined,
    `attested SBOM (cyclonedx) and provenance (slsaprovenance1) to ${evidence.length} digest(s)`,
  );
  return made;
}

/**
 * cosign's vulnerability predicate for a report (sigstore/cosign
 * pkg/cosign/attestation/attestation.go, CosignVulnPredicate: invocation{parameters, uri,
 * event_id, builder.id}, scanner{uri, version, db{uri, version}, result}, metadata{
 * scanStartedOn, scanFinishedOn}); `result` is the scanner's own report.
 */
export function vulnPredicate(summary: ScanSummary, report: unknown, recordedAt: string): object {
  const at =
    summary.scannedAt && !Number.isNaN(Date.parse(summary.scannedAt))
      ? new Date(summary.scannedAt).toISOString()
      : recordedAt;
  return {
    invocation: { parameters: null, uri: "", event_id: "", "builder.id": "" },
    scanner: {
      uri: `pkg:generic/${summary.scanner.name}@${summary.scanner.version}`,
      version: summary.scanner.version,
      db: { uri: "", version: "" },
      result: report,
    },
    // grype reports one timestamp, not a start and an end: both are that moment.
    metadata: { scanStartedOn: at, scanFinishedOn: at },
  };
}

/**
 * The digest a scan report is recorded for: `--digest`, or the image of `--service` in the
 * artefact record of `--commit` (what a CI job scanned by the commit's tag), with its repository.
 */
async function scannedImage(
  request: Pick<RecordScanRequest, "root" | "digest" | "commit" | "service">,
): Promise<{ digest: string; repository?: string }> {
  const byCommit = request.commit !== undefined || request.service !== undefined;
  if (request.digest !== undefined) {
    if (byCommit) throw new UsageError("give --digest, or --commit with --service, not both");
    return { digest: request.digest };
  }
  if (!request.commit || !request.service) {
    throw new UsageError("record-scan needs --digest, or --commit with --service");
  }
  const record = await publishedRecord(request.root, request.commit);
  const image = record.images[request.service];
  if (!image) {
    throw new TiersError(
      `the artefact record of ${request.commit} has no image of ${request.service}`,
      {
        where: `${artefactDir}/${request.commit}.json`,
        hint: `services it names: ${Object.keys(record.images).join(", ")}`,
      },
    );
  }
  return { digest: image.digest, repository: image.repository };
}

export interface RecordScanRequest {
  root: string;
  /** The digest the report is about; or `commit` and `service`, whose record names it. */
  digest?: string;
  commit?: string;
  service?: string;
  /** The scanner's report file, as it wrote it. */
  report: string;
  format: string;
  /**
   * `<repository>` of the digest, to attest it (`repo@digest`); default: the artefact record in
   * .tiers/artefacts/ that names the digest. Without either nothing is attested.
   */
  repository?: string;
  env?: NodeJS.ProcessEnv;
  reporter: Reporter;
  now?: () => Date;
}

/**
 * `tiers record-scan`: checks the report reads in its format (and is about this digest when
 * the scanner says which), commits it and its record under releases/scans/, and attests it
 * (`cosign attest --type vuln`) when a key is configured and the repository is known.
 */
export async function recordScan(
  request: RecordScanRequest,
): Promise<{ record: ScanRecord; summary: ScanSummary; commit: string }> {
  const env = request.env ?? process.env;
  const image = await scannedImage(request);
  const digest = image.digest;
  if (!isDigest(digest)) {
    throw new UsageError(`--digest must be sha256:<64 hex>, got "${digest}"`);
  }
  if (!(scanFormats as readonly string[]).includes(request.format)) {
    throw new UsageError(`unknown report format "${request.format}"`, {
      hint: `formats tiers reads: ${scanFormats.join(", ")}`,
    });
  }
  const format = request.format as ScanFormat;
  const text = await readFile(request.report, "utf8").catch((error: Error) => {
    throw new TiersError(`cannot read the scan report: ${error.message}`, {
      where: request.report,
    });
  });
  const summary = readScanReport(format, text, request.report);
  if (summary.scannedDigest && summary.scannedDigest !== digest) {
    throw new TiersError(
      `${request.report} is a scan of ${summary.scannedDigest}, not of ${digest}; nothing was recorded`,
      { where: request.report },
    );
  }
  // The repository to attest to: given, else the published artefact that names this digest.
  const repository =
    request.repository ??
    image.repository ??
    (await artefactFiles(request.root).all())
      .flatMap((record) => Object.values(record.images))
      .find((image) => image.digest === digest)?.repository;
  const attester = repository ? await hostAttester(request.root, env) : undefined;
  const repo = new PromotionRepo(request.root, env);
  const reportPath = scanReportPath(digest, format);
  const record: ScanRecord = {
    kind: "scan",
    digest: digest,
    format,
    report: reportPath,
    scanner: summary.scanner,
    recorded_by: await whoAmI(repo, env),
    recorded_at: (request.now ?? (() => new Date()))().toISOString(),
  };
  const commit = await locked(repo, `record scan ${digest}`, async () =>
    repo.commit({
      expectedHead: await repo.head(),
      writes: [
        { path: reportPath, content: text },
        {
          path: scanRecordPath(digest),
          content: renderRecord(record, `vulnerability scan of ${digest}`),
        },
      ],
      message: `scan ${digest}: ${summary.scanner.name} ${summary.scanner.version}, ${severityCounts(summary.findings)}`,
    }),
  );
  request.reporter.info(
    undefined,
    `recorded ${format} report of ${digest.slice(0, 19)}: ${severityCounts(summary.findings)} (${reportPath})`,
  );
  if (attester?.attest && repository) {
    const predicate = vulnPredicate(summary, JSON.parse(text), record.recorded_at);
    await attester.run([
      {
        ref: pinnedRef(repository, digest),
        path: reportPath,
        content: JSON.stringify(predicate),
        type: "vuln",
      },
    ]);
    request.reporter.info(
      undefined,
      `attested the report to ${pinnedRef(repository, digest)} (vuln)`,
    );
  } else {
    request.reporter.info(
      undefined,
      `not attested: ${attester && !attester.attest ? attester.why : "no --repository given, and no artefact record in .tiers/artefacts/ names this digest"}`,
    );
  }
  return { record, summary, commit };
}
