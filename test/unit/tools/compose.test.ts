import { describe, expect, it } from "vitest";
import { down, exec, logs, run, up } from "../../../pipelines/src/tools/compose.ts";

const project = {
  name: "tiers-test-abc",
  files: ["compose/compose.yaml", "compose/compose.test.yaml"],
  env: { TIERS_RUN_ID: "abc" },
};

describe("compose invocations (argument vector only)", () => {
  it("name the project and every file, base first, for the v1 CLI", () => {
    const inv = up(project, { services: ["postgres"] });
    expect(inv.tool).toBe("docker-compose");
    expect(inv.args).toEqual([
      "--project-name",
      "tiers-test-abc",
      "--file",
      "compose/compose.yaml",
      "--file",
      "compose/compose.test.yaml",
      "up",
      "--detach",
      "--no-build",
      "postgres",
    ]);
    expect(inv.env?.TIERS_RUN_ID).toBe("abc");
  });

  it("produce the same subcommand under `docker compose` for the v2 plugin", () => {
    const v1 = down(project, { volumes: true });
    const v2 = down({ ...project, flavour: "v2" }, { volumes: true });
    expect(v2.tool).toBe("docker");
    expect(v2.args).toEqual(["compose", ...v1.args]);
  });

  it("tear down with volumes and orphans only when asked (dev data survives plain down)", () => {
    expect(down(project, { volumes: true }).args.slice(-2)).toEqual([
      "--volumes",
      "--remove-orphans",
    ]);
    expect(down(project).args).not.toContain("--volumes");
  });

  it("run one-off test containers without a TTY, removed, labelled", () => {
    const inv = run(project, {
      service: "api",
      noDeps: true,
      labels: { "tiers.run": "abc" },
      command: ["npm", "test"],
    });
    expect(inv.args.slice(6)).toEqual([
      "run",
      "-T",
      "--rm",
      "--no-deps",
      "--label",
      "tiers.run=abc",
      "api",
      "npm",
      "test",
    ]);
  });

  it("run a server under load in the background, on a loopback port Docker picks, with its own variables", () => {
    // docker-compose run's usage: run [options] [-p PORT...] [-e KEY=VAL...] [-l KEY=VALUE...]
    // SERVICE [COMMAND] [ARGS...]; --publish 127.0.0.1::8080 is Docker's ip::containerPort form.
    const inv = run(project, {
      service: "api",
      noDeps: true,
      detach: true,
      rm: false,
      name: "p-load-api",
      publish: ["127.0.0.1::8080"],
      environment: { SLOW: "1" },
      command: ["node", "src/server.ts"],
    });
    expect(inv.args.slice(6)).toEqual([
      "run",
      "-T",
      "--detach",
      "--publish",
      "127.0.0.1::8080",
      "-e",
      "SLOW=1",
      "--no-deps",
      "--name",
      "p-load-api",
      "api",
      "node",
      "src/server.ts",
    ]);
  });

  it("build logs and exec", () => {
    expect(logs(project, { follow: true, tail: 20, services: ["api"] }).args.slice(6)).toEqual([
      "logs",
      "--no-color",
      "--follow",
      "--tail",
      "20",
      "api",
    ]);
    expect(exec(project, "api", ["sh"]).args.slice(6)).toEqual(["exec", "api", "sh"]);
    expect(exec(project, "api", ["true"], { tty: false }).args.slice(6)).toEqual([
      "exec",
      "-T",
      "api",
      "true",
    ]);
  });
});
