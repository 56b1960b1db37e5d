import { describe, expect, it } from "vitest";
import { runtimeEnvironment } from "../../../../pipelines/src/core/environment/index.ts";
import {
  checkObservabilityDrift,
  type KubeObject,
  previewLabel,
} from "../../../../pipelines/src/core/manifests/index.ts";
import { model } from "../observability/fixture-model.ts";
import { fixtureObjects, get } from "./fixture.ts";

const m = model();
const prod = m.tiers.prod!;
const objects = () => fixtureObjects(prod, runtimeEnvironment(m, "prod"));

describe("a ServiceMonitor selects exactly its service's live Service", () => {
  it("the compliant blue-green overlay: the api monitor leaves the preview Service out", () => {
    expect(checkObservabilityDrift(objects(), prod)).toEqual([]);
  });

  it("a preview Service without its preview label is a second scrape of the api: refused", () => {
    const o = objects();
    delete get(o, "Service", "tiers-prod-api-preview").metadata.labels![previewLabel.key];
    expect(checkObservabilityDrift(o, prod)).toEqual([
      {
        rule: "drift/monitoring",
        object: "ServiceMonitor/tiers-prod-api",
        path: "spec.selector",
        message:
          "selects Service/tiers-prod-api, Service/tiers-prod-api-preview; it must select only Service/tiers-prod-api (another match is scraped as a second copy of the service)",
      },
    ]);
  });

  it("a monitor selecting by name label alone (the double scrape this fixes) fails twice over", () => {
    const o = objects();
    const monitor = get(o, "ServiceMonitor", "tiers-prod-api") as KubeObject & {
      spec: { selector: Record<string, unknown> };
    };
    monitor.spec.selector = { matchLabels: { "app.kubernetes.io/name": "api" } };
    expect(checkObservabilityDrift(o, prod).map((f) => [f.object, f.path])).toEqual([
      ["ServiceMonitor/tiers-prod-api", "spec"],
      ["ServiceMonitor/tiers-prod-api", "spec.selector"],
    ]);
  });

  it("a monitor whose Service is gone is reported too: it would scrape nothing", () => {
    const o = objects().filter(
      (x) => !(x.kind === "Service" && x.metadata.name === "tiers-prod-worker"),
    );
    expect(checkObservabilityDrift(o, prod).map((f) => f.message)).toEqual([
      "selects no Service; it must select only Service/tiers-prod-worker (another match is scraped as a second copy of the service)",
    ]);
  });
});
