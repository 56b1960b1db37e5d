/**
 * What the rendered manifests say about the overlay pins. The pin edit itself belongs to
 * promotion (core/promotion/overlay.ts); this module only reads the result and knows the
 * placeholder a fresh overlay ships with.
 */
import { type KubeObject, objectId, podTemplateOf } from "./documents.ts";

/**
 * The digest a new overlay is pinned to before anything was promoted into its tier. kustomize
 * accepts it (it is a well-formed sha256 digest), no registry holds an image with it, and
 * `tiers deploy` refuses to apply it, so an empty tier can render and be checked but never
 * reaches a cluster.
 */
export const unpromotedDigest = `sha256:${"0".repeat(64)}`;

/** True when `digestOrRef` is (or ends with) the "nothing promoted yet" placeholder digest. */
export function isUnpromoted(digestOrRef: string | undefined): boolean {
  return digestOrRef?.endsWith(unpromotedDigest) === true;
}

/** One container image in the rendered manifests. */
export interface RenderedImage {
  /** `Kind/name` of the workload. */
  object: string;
  container: string;
  /** The full image reference as rendered, e.g. `127.0.0.1:5000/tiers/api@sha256:...`. */
  image: string;
  /** Repository part (before `@` or the tag). */
  repository: string;
  /** `sha256:...` when pinned by digest. */
  digest?: string;
  /** Tag when the image is referenced by tag (a policy violation in release tiers). */
  tag?: string;
}

/** Splits an image reference into repository, tag and digest. */
export function splitImage(image: string): { repository: string; tag?: string; digest?: string } {
  const [nameAndTag, digest] = image.split("@", 2) as [string, string | undefined];
  const slash = nameAndTag.lastIndexOf("/");
  const colon = nameAndTag.lastIndexOf(":");
  const hasTag = colon > slash;
  const repository = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const out: { repository: string; tag?: string; digest?: string } = { repository };
  if (hasTag) out.tag = nameAndTag.slice(colon + 1);
  if (digest) out.digest = digest;
  return out;
}

/** Every container image of every workload, in rendered order. */
export function renderedImages(objects: readonly KubeObject[]): RenderedImage[] {
  const images: RenderedImage[] = [];
  for (const object of objects) {
    const spec = podTemplateOf(object)?.spec;
    if (!spec) continue;
    for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      if (!container.image) continue;
      images.push({
        object: objectId(object),
        container: container.name,
        image: container.image,
        ...splitImage(container.image),
      });
    }
  }
  return images;
}
