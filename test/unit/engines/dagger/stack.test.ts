/**
 * The compose → Dagger translation on hand-written compose documents: what each compose key
 * becomes, and the located errors for topologies Dagger cannot express (no Dagger engine here).
 */
import { dag } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { TiersError } from "../../../../pipelines/src/core/errors.ts";
import {
  mergedCompose,
  stackServices,
  stackServicesAsDagger,
} from "../../../../pipelines/src/engines/dagger/stack.ts";
import { chainOf, envVariables, opsNamed } from "../../../support/dagger/query.ts";

const options = (services: ReturnType<typeof stackServices>) => ({
  source: dag.directory(),
  services,
  buildImage: () => dag.container().from("built:image"),
  volumePrefix: "p-dev",
});

describe("compose translated to Dagger services (no Dagger engine here)", () => {
  it("merges override files and interpolates like the host, YAML merge keys included", () => {
    const merged = mergedCompose(
      [
        {
          path: "compose/compose.yaml",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation syntax
          text: "x-env: &env\n  A: ${A:-one}\nservices:\n  web:\n    image: web:${TAG}\n    environment:\n      <<: *env\n      B: two\n    expose: ['80']\n",
        },
        {
          path: "compose/compose.dev.yaml",
          text: "services:\n  web:\n    ports: ['127.0.0.1:8080:80']\n    volumes: ['../src:/app/src:ro', 'data:/data']\n    tmpfs: ['/tmp/x']\n",
        },
      ],
      { TAG: "7" },
    );
    const { web } = stackServices(merged, "compose", () => false);
    expect(web).toMatchObject({
      image: "web:7",
      environment: { A: "one", B: "two" },
      ports: [80],
      published: [80],
      mounts: [
        { kind: "repo", from: "src", to: "/app/src", file: false },
        { kind: "volume", name: "data", to: "/data" },
        { kind: "tmpfs", to: "/tmp/x" },
      ],
    });
    const running = stackServicesAsDagger(options({ web: web! }));
    const chain = chainOf(running.web);
    expect(opsNamed(running.web, "withMountedCache")[0]?.args.path).toBe("/data");
    expect(envVariables(running.web)).toEqual({ A: "one", B: "two" });
    expect(chain.at(-1)?.operation).toBe("asService");
  });

  it("turns compose's command into the container's default arguments, the image's CMD otherwise", () => {
    const services = stackServices(
      mergedCompose(
        [
          {
            path: "compose/compose.yaml",
            text: "services:\n  a:\n    image: x\n  b:\n    image: y\n  c:\n    image: z\n",
          },
          {
            path: "compose/compose.test.yaml",
            text: "services:\n  a:\n    command: [sh, -c, 'load && exec suite']\n  b:\n    command: run --fast\n",
          },
        ],
        {},
      ),
      "compose",
    );
    expect(services.a?.command).toEqual(["sh", "-c", "load && exec suite"]);
    expect(services.b?.command).toEqual(["run", "--fast"]);
    expect(services.c?.command).toBeUndefined();
    const running = stackServicesAsDagger(options(services));
    expect(opsNamed(running.a, "withDefaultArgs").map((op) => op.args.args)).toEqual([
      ["sh", "-c", "load && exec suite"],
    ]);
    expect(opsNamed(running.c, "withDefaultArgs")).toEqual([]);
    // A quoted string would need compose's shell-like splitting: refused, not guessed.
    expect(() =>
      stackServices(
        mergedCompose(
          [{ path: "c.yaml", text: "services:\n  a:\n    image: x\n    command: sh -c 'a b'\n" }],
          {},
        ),
        "compose",
      ),
    ).toThrow(/command string with quotes or escapes/);
  });

  it("refuses host paths, missing dependencies, cycles and services with no image", () => {
    const bad = (text: string) =>
      stackServices(mergedCompose([{ path: "c.yaml", text }], {}), "compose");
    expect(() => bad("services:\n  a:\n    image: x\n    volumes: ['/etc:/etc']\n")).toThrow(
      /bind-mounts the host path \/etc/,
    );
    const missing = bad("services:\n  a:\n    image: x\n    depends_on: [b]\n");
    expect(() => stackServicesAsDagger(options(missing))).toThrow(
      /"b" is a dependency but is not defined/,
    );
    const cycle = bad(
      "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: y\n    depends_on: [a]\n",
    );
    expect(() => stackServicesAsDagger(options(cycle))).toThrow(TiersError);
    expect(() => stackServicesAsDagger(options(cycle))).toThrow(/cycle through a/);
    const noImage = bad("services:\n  a:\n    environment: {X: '1'}\n");
    expect(() => stackServicesAsDagger(options(noImage))).toThrow(/has neither build nor image/);
  });
});
