/**
 * One bounded HTTP GET over node:http, to a TCP address or a unix socket. Doctor's questions
 * (the engine, the registry's /v2/) take this rather than `fetch`: loading fetch's undici costs a
 * cold CLI ~50 ms before the first byte, node:http is already part of Node's snapshot.
 */
import { request } from "node:http";
import { connect } from "node:net";

/** The answer: HTTP status and body, or the socket error's code (or "timeout"). */
export type HttpAnswer = { status: number; body: string } | { failed: string };

/** Bodies asked for here are a few KB; a bigger one is cut off rather than held in memory. */
const maxBodyBytes = 1 << 20;

/**
 * `GET path` at `to` (a `host:port`, or a unix `socketPath`), bounded by `timeoutMs` from
 * connect to last byte: a peer that hangs makes the caller wait that long, never forever.
 * Never throws.
 */
export function httpGet(
  to: { host: string } | { socketPath: string; host: string },
  path: string,
  timeoutMs: number,
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    // A socket is connected here, with no agent: an agent works out a TLS server name for
    // every request (node:_http_agent calculateServerName), whose isIP on the `Host` name
    // compiles Node's IPv6 pattern, milliseconds of a cold CLI, for a plain unix socket.
    const target =
      "socketPath" in to
        ? { createConnection: () => connect(to.socketPath), headers: { Host: to.host } }
        : {
            host: hostOf(to.host),
            port: portOf(to.host),
            headers: { Host: to.host },
            agent: false,
          };
    const req = request({ ...target, path, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) done({ failed: `answer larger than ${maxBodyBytes} bytes` });
        else chunks.push(chunk);
      });
      res.on("end", () =>
        done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", (error) => done({ failed: codeOf(error) }));
    });
    const timer = setTimeout(() => done({ failed: "timeout" }), timeoutMs);
    req.on("error", (error) => done({ failed: codeOf(error) }));
    req.end();
  });
}

const codeOf = (error: Error) => (error as NodeJS.ErrnoException).code ?? error.message;

// `host:port`, `[v6]:port` or a bare host (port 80, as http:// implies).
function hostOf(address: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(address);
  if (v6) return v6[1]!;
  return address.replace(/:\d+$/, "");
}
function portOf(address: string): number {
  const port = /:(\d+)$/.exec(address)?.[1];
  return port ? Number(port) : 80;
}
