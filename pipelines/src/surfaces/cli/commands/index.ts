import type { RegisterCommand } from "../context.ts";
import { registerBuild } from "./build.ts";
import { registerDeploy } from "./deploy.ts";
import { registerEnv } from "./env.ts";
import { registerPublish } from "./publish.ts";
import { registerValidate } from "./validate.ts";

/**
 * Every `tiers` command, in the order `tiers --help` lists them. A new command is one file in
 * this folder plus one line here.
 */
export const commands: RegisterCommand[] = [
  registerValidate,
  registerBuild,
  registerPublish,
  registerEnv,
  registerDeploy,
];
