/**
 * Removing what a test pushed to the real local registry (CNCF Distribution 2.8 on
 * 127.0.0.1:5000, served by scripts/provision.sh with `storage.delete.enabled: true`), so a test
 * file leaves the registry as it found it: no tag of its own is listed afterwards.
 *
 * How: the registry API deletes manifests, not tags. For each tag a test created we resolve the
 * manifest digest with a HEAD request (Accept must name the OCI and Docker v2 manifest and list
 * types, or Distribution answers with a converted schema-1 manifest whose digest is not the one
 * that was pushed) and DELETE /v2/<repository>/manifests/<digest>. Distribution then drops every
 * tag pointing at that digest, which is why a digest that some tag we did NOT create also points
 * at is left alone (and reported): a test never removes what a user or another test published.
 *
 * What stays: Distribution keeps the blobs (layers, configs) until its garbage collector runs
 * (`registry garbage-collect`, with the registry stopped or read-only), and it keeps the
 * repository's directory, so the catalog may still list an emptied repository (tags: null).
 * Deleting the manifests is what empties the repository of the test's tags; reclaiming disk is
 * the registry operator's garbage collection, not a test's job.
 */

/** Media types a manifest may have; sent as Accept so HEAD reports the digest that was pushed. */
export const manifestAccept = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** A repository in a registry and the tags a test created in it. */
export interface PushedTags {
  /** host[:port], e.g. 127.0.0.1:5000. */
  registry: string;
  /** Repository path without the host, e.g. tiers-promotion-test/api. */
  repository: string;
  tags: readonly string[];
  /**
   * Digests the test pushed that may no longer carry its tag (a tag pushed again points at the
   * new image; the old manifest stays, untagged). Deleted too, unless another tag names them.
   */
  digests?: readonly string[];
}

/** What a cleanup did, per repository: removed digests, and tags left because shared. */
export interface CleanupReport {
  removed: { repository: string; tags: string[]; digest: string }[];
  /** Tags we created whose digest another tag (not ours) also names: kept, with that tag. */
  kept: { repository: string; tag: string; digest: string; sharedWith: string[] }[];
}

/**
 * Splits `host[:port]/path/name[:tag]` into registry, repository and tag (no digest refs: the
 * tests push by tag). The host is the part before the first slash, as docker reads it.
 */
export function parseImageRef(ref: string): { registry: string; repository: string; tag: string } {
  const slash = ref.indexOf("/");
  if (slash < 0) throw new Error(`image reference ${ref} names no registry host`);
  const registry = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  const colon = rest.lastIndexOf(":");
  if (colon < 0 || rest.includes("@")) {
    throw new Error(`image reference ${ref} must be <host>/<repository>:<tag>`);
  }
  return { registry, repository: rest.slice(0, colon), tag: rest.slice(colon + 1) };
}

/** Groups `host/repository:tag` references into one PushedTags per registry and repository. */
export function groupRefs(refs: Iterable<string>): PushedTags[] {
  const groups = new Map<string, { registry: string; repository: string; tags: Set<string> }>();
  for (const ref of refs) {
    const { registry, repository, tag } = parseImageRef(ref);
    const key = `${registry}/${repository}`;
    const group = groups.get(key) ?? { registry, repository, tags: new Set<string>() };
    group.tags.add(tag);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({ ...g, tags: [...g.tags] }));
}

async function registryError(response: Response, what: string): Promise<Error> {
  const body = await response.text().catch(() => "");
  return new Error(`${what}: HTTP ${response.status} ${body.trim().slice(0, 300)}`);
}

/**
 * Every tag of a repository (following the registry's Link pagination). An unknown repository
 * (404 NAME_UNKNOWN) and an emptied one (`"tags": null`) both give [].
 */
export async function listTags(registry: string, repository: string): Promise<string[]> {
  const tags: string[] = [];
  let next: string | undefined = `/v2/${repository}/tags/list?n=1000`;
  while (next) {
    const url = `http://${registry}${next}`;
    const response = await fetch(url);
    if (response.status === 404) return tags;
    if (!response.ok) throw await registryError(response, `GET ${url}`);
    const body = (await response.json()) as { tags?: string[] | null };
    tags.push(...(body.tags ?? []));
    // Link: </v2/<repo>/tags/list?last=x&n=1000>; rel="next"
    next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "")?.[1];
  }
  return tags;
}

/** The digest a tag (or digest) resolves to, or undefined when the registry does not know it. */
export async function manifestDigest(
  registry: string,
  repository: string,
  reference: string,
): Promise<string | undefined> {
  const url = `http://${registry}/v2/${repository}/manifests/${reference}`;
  const response = await fetch(url, { method: "HEAD", headers: { Accept: manifestAccept } });
  if (response.status === 404) return undefined;
  if (!response.ok) throw await registryError(response, `HEAD ${url}`);
  const digest = response.headers.get("docker-content-digest");
  if (!digest) throw new Error(`HEAD ${url}: the registry sent no Docker-Content-Digest`);
  return digest;
}

/**
 * Deletes the manifests behind exactly the given tags, and only where no other tag of the
 * repository names the same digest. Tags that no longer exist are fine (nothing to do). Throws
 * when the registry refuses deletion (405: `delete` not enabled), naming the fix.
 */
export async function removePushedTags(pushed: readonly PushedTags[]): Promise<CleanupReport> {
  const report: CleanupReport = { removed: [], kept: [] };
  for (const { registry, repository, tags, digests = [] } of pushed) {
    const ours = new Set(tags);
    // Sorted: the registry lists tags in storage order, which changes after deletes and pushes.
    const existing = (await listTags(registry, repository)).sort();
    if (!existing.some((tag) => ours.has(tag)) && !digests.length) continue;
    // Which tags name which digest, over the whole repository (ours and everyone else's).
    const byDigest = new Map<string, { ours: string[]; others: string[] }>();
    for (const tag of existing) {
      const digest = await manifestDigest(registry, repository, tag);
      if (!digest) continue; // deleted meanwhile
      const entry = byDigest.get(digest) ?? { ours: [], others: [] };
      (ours.has(tag) ? entry.ours : entry.others).push(tag);
      byDigest.set(digest, entry);
    }
    // Untagged digests of ours join the list (with no tags) unless a tag names them already.
    for (const digest of digests) {
      if (!byDigest.has(digest)) byDigest.set(digest, { ours: [], others: [] });
    }
    const pushedDigests = new Set(digests);
    for (const [digest, entry] of byDigest) {
      if (!entry.ours.length && !pushedDigests.has(digest)) continue;
      if (entry.others.length) {
        for (const tag of entry.ours.length ? entry.ours : [digest]) {
          report.kept.push({ repository, tag, digest, sharedWith: entry.others });
        }
        continue;
      }
      if (await deleteManifest(registry, repository, digest)) {
        report.removed.push({ repository, tags: entry.ours, digest });
      }
    }
  }
  return report;
}

/** DELETE one manifest by digest; false when the registry no longer has it. */
async function deleteManifest(
  registry: string,
  repository: string,
  digest: string,
): Promise<boolean> {
  const url = `http://${registry}/v2/${repository}/manifests/${digest}`;
  const response = await fetch(url, { method: "DELETE" });
  if (response.status === 405) {
    throw new Error(
      `DELETE ${url}: the registry refuses deletion (405); serve it with storage.delete.enabled: true (scripts/provision.sh does)`,
    );
  }
  if (response.status === 404) return false;
  if (!response.ok) throw await registryError(response, `DELETE ${url}`);
  return true;
}

/**
 * Tags among the given ones that the registry still lists, and given digests it still serves
 * (empty once cleanup worked).
 */
export async function remainingTags(pushed: readonly PushedTags[]): Promise<string[]> {
  const left: string[] = [];
  for (const { registry, repository, tags, digests = [] } of pushed) {
    const existing = new Set(await listTags(registry, repository));
    for (const tag of tags) if (existing.has(tag)) left.push(`${registry}/${repository}:${tag}`);
    for (const digest of digests) {
      if (await manifestDigest(registry, repository, digest)) {
        left.push(`${registry}/${repository}@${digest}`);
      }
    }
  }
  return left;
}
