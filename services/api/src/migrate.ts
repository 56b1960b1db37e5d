// Schema command of the API image:
//   node src/migrate.ts              apply pending migrations (idempotent)
//   node src/migrate.ts --status     list applied and pending migrations; exit 1 if any pending
//   node src/migrate.ts --fixtures   apply migrations, then load db/fixtures/*.sql
// Connects with DATABASE_URL (or libpq's PG* variables). Fixtures are refused outside the
// dev and test tiers, and the production image does not ship them.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { assertTier, createLogger } from "@tiers/runtime";
import pg from "pg";
import { FIXTURES_DIR, loadFixtures, migrate, migrationStatus, readMigrations } from "./schema.ts";

/** Tiers whose databases may receive fixture rows. */
export const FIXTURE_TIERS = ["dev", "test"];

const USAGE = "usage: node src/migrate.ts [--status | --fixtures]";

/** Runs the schema command with `argv`; resolves to the process exit code. */
export async function runMigrateCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let flags: { status?: boolean; fixtures?: boolean; help?: boolean };
  try {
    flags = parseArgs({
      args: argv,
      options: {
        status: { type: "boolean" },
        fixtures: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  if (flags.status && flags.fixtures) {
    console.error(`--status and --fixtures do not combine\n${USAGE}`);
    return 2;
  }
  const tier = assertTier(env);
  const log = createLogger({ service: "api-migrate", tier });
  if (flags.fixtures) {
    if (!FIXTURE_TIERS.includes(tier.tier)) {
      log.error(`fixtures are for the ${FIXTURE_TIERS.join(" and ")} tiers only, not ${tier.tier}`);
      return 1;
    }
    if (!existsSync(FIXTURES_DIR)) {
      log.error(
        `no fixtures at ${FIXTURES_DIR}: the production image does not ship them; use the test or development image`,
      );
      return 1;
    }
  }

  const migrations = await readMigrations();
  const client = new pg.Client({
    connectionString: env.DATABASE_URL?.trim() || undefined,
    connectionTimeoutMillis: 10_000,
    application_name: "tiers-api-migrate",
  });
  await client.connect();
  try {
    if (flags.status) {
      const status = await migrationStatus(client, migrations);
      for (const file of status.applied) log.info(`applied  ${file}`);
      for (const file of status.pending) log.info(`pending  ${file}`);
      return status.pending.length === 0 ? 0 : 1;
    }
    const result = await migrate(client, migrations);
    log.info(
      `migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already in place`,
      { applied: result.applied },
    );
    if (flags.fixtures) {
      const files = await loadFixtures(client);
      log.info(`fixtures loaded: ${files.join(", ")}`);
    }
    return 0;
  } finally {
    await client.end();
  }
}

// Run only when executed as the entry point, not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runMigrateCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`migrate: ${error.message}`);
      process.exit(1);
    },
  );
}
