// Entry point of the API (the image's CMD): start, then shut down gracefully on SIGTERM/SIGINT.
import { createLogger, TierError, tierInfo } from "@tiers/runtime";
import { startApi } from "./service.ts";

try {
  const api = await startApi();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      api.log.info("shutting down", { signal });
      api.close().then(
        () => process.exit(0),
        (error: Error) => {
          api.log.error("shutdown failed", { error: error.message });
          process.exit(1);
        },
      );
    });
  }
} catch (error) {
  // Refusing to start is a crash the orchestrator reports; the message says what to fix. A
  // contradicting tier has no trustworthy marker, so it goes to stderr as plain text.
  if (error instanceof TierError) {
    console.error(`api: ${error.message}`);
  } else {
    createLogger({ service: "api", tier: tierInfo() }).error("refusing to start", {
      error: (error as Error).message,
    });
  }
  process.exit(1);
}
