/** What a promotion use case is asked to do: the request every host promotion entry point takes. */
import type { EnvironmentModel } from "../../../core/environment/index.ts";
import type { PromotionSources } from "./sources.ts";

/** What to promote and how to check it. */
export interface PromotionRequest {
  root: string;
  tier: string;
  /** One digest (its service is found from artefact records or the registry). */
  digest?: string;
  /** Every image of one published commit (.tiers/artefacts/<commit>.json). */
  commit?: string;
  /** Any image reference, tag or digest (a tag fails the immutable-reference gate). */
  image?: string;
  /** Limit to one service, or name the service of a bare digest. */
  service?: string;
  /** `cosign` or `local`; default: cosign when a signing policy involved requires it. */
  evidence?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Already loaded model (tests, callers that loaded it). */
  model?: EnvironmentModel;
  /** Fact sources to use instead of the host's (tests hand in in-memory readers). */
  sources?: Partial<PromotionSources>;
}
