/**
 * Which socket doctor asks the Docker engine on, decided as the docker CLI decides it
 * (docker/cli cli/command/cli.go `resolveContextName` and `getServerHost`, opts/hosts.go
 * `ParseHost`, opts/hosts_unix.go `defaultHost`, cli/config/config.go `Dir`), where it looks for
 * a plugin (cli-plugins/manager/manager.go `getPluginDirs`, `addPluginCandidatesFromDir`), and the request's
 * own limits: a socket that is absent, or a daemon that never answers, is an answer in bounded
 * time, never a wait. The real engine is asked in test/integration/doctor-engine-api.test.ts.
 */

import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { engineGet } from "../../../../pipelines/src/engines/host/docker-api.ts";
import {
  defaultDockerSocket,
  dockerEndpoint,
  hasPluginCandidate,
  readDockerConfig,
} from "../../../../pipelines/src/engines/host/docker-config.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-docker-api-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the engine endpoint doctor asks", () => {
  it("is the default socket with no DOCKER_HOST, no DOCKER_CONTEXT and no config file", async () => {
    expect(await dockerEndpoint({ DOCKER_CONFIG: dir })).toEqual({ socket: defaultDockerSocket });
    expect(defaultDockerSocket).toBe("/var/run/docker.sock");
  });

  it("follows DOCKER_HOST first: a unix socket is used, an empty path means the default", async () => {
    await writeFile(join(dir, "config.json"), '{"currentContext":"remote"}');
    expect(
      await dockerEndpoint({
        DOCKER_HOST: "unix:///run/user/1000/docker.sock",
        DOCKER_CONFIG: dir,
      }),
    ).toEqual({
      socket: "/run/user/1000/docker.sock",
    });
    expect(await dockerEndpoint({ DOCKER_HOST: " unix:// ", DOCKER_CONFIG: dir })).toEqual({
      socket: defaultDockerSocket,
    });
  });

  it("leaves every other kind of endpoint to the docker CLI, saying why", async () => {
    for (const env of [
      { DOCKER_HOST: "tcp://10.0.0.2:2376" },
      { DOCKER_HOST: "ssh://me@builder" },
      { DOCKER_HOST: "10.0.0.2:2375" },
      { DOCKER_CONTEXT: "remote" },
    ]) {
      const endpoint = await dockerEndpoint({ ...env, DOCKER_CONFIG: dir });
      expect(endpoint).toHaveProperty("cli");
      expect("cli" in endpoint && endpoint.cli).toContain(Object.values(env)[0]);
    }
  });

  it("reads currentContext from $DOCKER_CONFIG/config.json; default or none is the socket", async () => {
    const config = join(dir, "config.json");
    await writeFile(config, '{"currentContext":"colima"}');
    expect(await dockerEndpoint({ DOCKER_CONFIG: dir })).toEqual({
      cli: `${config} selects context colima`,
    });
    // DOCKER_CONTEXT wins over the config file, as in resolveContextName.
    expect(await dockerEndpoint({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: "default" })).toEqual({
      socket: defaultDockerSocket,
    });
    await writeFile(config, '{"currentContext":"default","auths":{}}');
    expect(await dockerEndpoint({ DOCKER_CONFIG: dir })).toEqual({ socket: defaultDockerSocket });
    await writeFile(config, '{"auths":{}}');
    expect(await dockerEndpoint({ DOCKER_CONFIG: dir })).toEqual({ socket: defaultDockerSocket });
  });

  it("does not guess past a config file it cannot read: the CLI is asked", async () => {
    await writeFile(join(dir, "config.json"), "{not json");
    expect(await dockerEndpoint({ DOCKER_CONFIG: dir })).toEqual({
      cli: `${join(dir, "config.json")} is not JSON`,
    });
  });
});

describe("whether `docker compose` can be a plugin", () => {
  it("needs a docker-compose file or resolving symlink in a directory the CLI searches", async () => {
    const env = { DOCKER_CONFIG: dir };
    const extra = join(dir, "extra");
    await mkdir(extra);
    await writeFile(join(dir, "config.json"), JSON.stringify({ cliPluginsExtraDirs: [extra] }));
    const config = await readDockerConfig(env);
    // The system directories are this machine's; the test only adds candidates of its own.
    const before = await hasPluginCandidate("tiers-test-absent", config);
    expect(before).toBe(false);
    await symlink(join(dir, "nowhere"), join(extra, "docker-tiers-test-absent"));
    expect(await hasPluginCandidate("tiers-test-absent", config)).toBe(false);
    await mkdir(join(dir, "cli-plugins"));
    await writeFile(join(dir, "cli-plugins", "docker-tiers-test-absent"), "#!/bin/sh\n");
    expect(await hasPluginCandidate("tiers-test-absent", config)).toBe(true);
  });

  it("cannot tell when the config file that may add directories cannot be read", async () => {
    await writeFile(join(dir, "config.json"), "[");
    expect(
      await hasPluginCandidate("compose", await readDockerConfig({ DOCKER_CONFIG: dir })),
    ).toBe(undefined);
  });
});

describe("a request to the engine", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  const listen = async (handler: Parameters<typeof createServer>[1]) => {
    const socket = join(dir, "engine.sock");
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(socket, resolve));
    return socket;
  };

  it("returns the status and body the socket answers, with the path as given", async () => {
    const socket = await listen((req, res) => {
      res.writeHead(req.url === "/images/local/node:22/json" ? 404 : 200);
      res.end(JSON.stringify({ message: `No such image: ${req.url}` }));
    });
    expect(await engineGet(socket, "/images/local/node:22/json", 5000)).toEqual({
      status: 404,
      body: '{"message":"No such image: /images/local/node:22/json"}',
    });
  });

  it("says there is no socket, in bounded time", async () => {
    const answer = await engineGet(join(dir, "absent.sock"), "/version", 5000);
    expect(answer).toEqual({
      error: `cannot connect to the Docker daemon at unix://${join(dir, "absent.sock")}: no such socket`,
    });
  });

  it("gives up on a daemon that accepts but never answers after its limit", async () => {
    const socket = await listen(() => {
      // Never answers.
    });
    expect(await engineGet(socket, "/version", 200)).toEqual({
      error: `no answer from ${socket} within 0.2s`,
    });
  });
});
