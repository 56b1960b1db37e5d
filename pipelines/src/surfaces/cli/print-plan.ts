/** Printing a promotion plan: each line at the level core gave it, led by the tier's marker. */
import { type PromotionPlan, planLines } from "../../core/promotion/plan.ts";
import type { CliContext } from "./context.ts";

/** Prints a plan, every line led by the tier's marker. */
export function printPlan(cli: CliContext, plan: PromotionPlan, marker: string | undefined): void {
  for (const line of planLines(plan)) {
    if (line.level === "error") cli.reporter.error(plan.tier, line.text, marker);
    else cli.reporter.info(plan.tier, line.text, marker);
  }
}
