// Used inside the API's test image (WORKDIR services/api); on the host the root config applies.
import { serviceTestConfig } from "./test/support/vitest-config.ts";

export default serviceTestConfig();
