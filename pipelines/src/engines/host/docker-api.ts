/**
 * Asking the Docker engine directly, over its Engine API on a unix socket, instead of starting a
 * docker CLI process (a Go binary: 30-100 ms and a core's worth of CPU each on a busy machine)
 * for every question. `tiers doctor` asks the engine's version and three images' labels this way,
 * and `tiers build` whether each image is already built; which socket, if any, is
 * docker-config.ts's decision.
 */
import { type LocalImage, parseImageInspect } from "../../tools/docker.ts";
import { httpGet } from "./http-get.ts";

/** One Engine API answer: HTTP status and body, or why there was none. */
export type EngineAnswer = { status: number; body: string } | { error: string };

/**
 * `GET path` on the engine at `socket`, bounded by `timeoutMs` (connect and answer together):
 * a hung daemon makes the caller wait that long, never forever. Never throws.
 */
export async function engineGet(
  socket: string,
  path: string,
  timeoutMs: number,
): Promise<EngineAnswer> {
  // The engine routes by path only; `Host` is required by HTTP/1.1 and ignored (the docker
  // CLI sends "api.moby.localhost" for a socket, docker/docker client/client.go DummyHost).
  const answer = await httpGet({ socketPath: socket, host: "api.moby.localhost" }, path, timeoutMs);
  if ("failed" in answer) {
    return {
      error:
        answer.failed === "timeout"
          ? `no answer from ${socket} within ${timeoutMs / 1000}s`
          : describe(answer.failed, socket),
    };
  }
  return answer;
}

function describe(code: string, socket: string): string {
  if (code === "ENOENT")
    return `cannot connect to the Docker daemon at unix://${socket}: no such socket`;
  if (code === "EACCES") {
    return `permission denied while trying to connect to the Docker daemon socket at unix://${socket}`;
  }
  if (code === "ECONNREFUSED") {
    return `cannot connect to the Docker daemon at unix://${socket}: connection refused`;
  }
  return `cannot talk to the Docker daemon at unix://${socket}: ${code}`;
}

/** The engine's own message in an error answer (`{"message": "..."}`), else the raw body. */
export function engineMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown } | null)?.message;
    if (typeof message === "string") return message;
  } catch {
    // Not JSON: the body itself says what went wrong.
  }
  return body.trim();
}

/** What the engine says about one local image: found (as `docker image inspect` reads it), absent, or unknown. */
export type EngineImage = { found: LocalImage } | { absent: true } | { unknown: string };

/**
 * `GET /images/{name}/json` on the engine at `socket`: the route moby's
 * api/server/router/image registers as `/images/{name:.*}/json` (a name with slashes goes in as
 * it is), and the body `docker image inspect` prints (docker/cli cli/command/image/inspect.go
 * asks the client's ImageInspect, which is this request). 404 is "no such image"; any other
 * answer leaves presence unknown, never absent.
 */
export async function engineImage(
  socket: string,
  ref: string,
  timeoutMs: number,
): Promise<EngineImage> {
  // A reference is [a-z0-9._/:@-]; anything else would change the request's path.
  if (!/^[\w.:/@-]+$/.test(ref)) return { unknown: `${ref} is not an image reference` };
  const answer = await engineGet(socket, `/images/${ref}/json`, timeoutMs);
  if ("error" in answer) return { unknown: answer.error };
  if (answer.status === 404) return { absent: true };
  if (answer.status !== 200) {
    return { unknown: `the engine answered ${answer.status}: ${engineMessage(answer.body)}` };
  }
  try {
    return { found: parseImageInspect(answer.body) };
  } catch {
    return { unknown: `the engine's answer for ${ref} is not an image inspect` };
  }
}
