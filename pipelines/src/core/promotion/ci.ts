/**
 * Which CI deployment environment a run is in, from the variables the CI sets. Takes the
 * environment as an argument, so callers pass what they have instead of faking variables.
 * GitHub: GITHUB_ACTIONS=true and GITHUB_ENVIRONMENT (the job's `environment:`); GitLab:
 * GITLAB_CI=true and CI_ENVIRONMENT_NAME.
 */
export function ciEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (env.GITHUB_ACTIONS === "true" && env.GITHUB_ENVIRONMENT) return env.GITHUB_ENVIRONMENT;
  if (env.GITLAB_CI === "true" && env.CI_ENVIRONMENT_NAME) return env.CI_ENVIRONMENT_NAME;
  return undefined;
}
