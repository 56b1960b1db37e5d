/** Which service of a tier an image repository belongs to (pins and references name repositories). */
import { type EnvironmentModel, imageRepository, tierOf } from "../environment/index.ts";

/** The service whose image repository is `repository` in `tier`, else one named by its last path part. */
export function serviceOfRepository(
  model: EnvironmentModel,
  tier: string,
  repository: string,
): string | undefined {
  const services = Object.keys(tierOf(model, tier).services);
  return (
    services.find((s) => imageRepository(model, tier, s) === repository) ??
    services.find((s) => repository.endsWith(`/${s}`))
  );
}
