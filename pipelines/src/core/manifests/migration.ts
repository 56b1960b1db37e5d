/**
 * Which rendered objects make up a tier's database migration step: the overlay's migration Job
 * (k8s/base/api/migrate-job.yaml, found by its component label) and what it needs to start —
 * its namespace, configuration and secrets. The deploy applies these, and nothing else, before
 * any workload changes (engines/host/migration-job.ts).
 */
import { kyvernoPolicyKind } from "./admission-schema.ts";
import type { KubeObject } from "./documents.ts";

/** The component label that marks a tier's migration Job. */
export const migrationComponent = "migration";

/** The overlay's migration Job, if it has one. */
export function migrationJobOf(objects: readonly KubeObject[]): KubeObject | undefined {
  return objects.find(
    (o) =>
      o.kind === "Job" && o.metadata.labels?.["app.kubernetes.io/component"] === migrationComponent,
  );
}

// The admission policy goes first too: the Job's pod runs the release image, and the cluster
// must verify that digest's passage before the Job starts, not only before the Deployments.
const prerequisiteKinds = new Set([
  "Namespace",
  "ConfigMap",
  "Secret",
  "ExternalSecret",
  kyvernoPolicyKind,
]);

/**
 * The objects the migration Job needs at start: its namespace, configuration and secrets, and
 * the admission policy that verifies its image.
 */
export function migrationPrerequisitesOf(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((o) => prerequisiteKinds.has(o.kind));
}
