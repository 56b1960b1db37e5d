/** Where the environment model lives in a repository: one file per tier over a shared base. */
export const environmentsDir = "environments";

/** The file every tier file is deep-merged over. */
export const baseFile = `${environmentsDir}/base.yaml`;
