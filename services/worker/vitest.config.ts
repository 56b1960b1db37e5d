// Used inside the worker's test image (WORKDIR services/worker); on the host the root config applies.
import { serviceTestConfig } from "../api/test/support/vitest-config.ts";

export default serviceTestConfig();
