import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where the front sends a request. */
export interface Upstream {
  host: string;
  port: number;
}

/** Options of the front door. */
export interface FrontOptions {
  host: string;
  port: number;
  /** Receives remote write (`/api/v1/write`, and `/api/v1/otlp/...` when the gateway offers it). */
  write: Upstream;
  /** Receives everything else: PromQL, the API, the UI, `/metrics`. */
  query: Upstream;
  /** Receives `/api/v1/rules` and `/api/v1/alerts` (the rules role), when given. */
  rules?: Upstream;
  /**
   * How long the rest of a request body is read and dropped once the role
   * has answered early (a 413 before the whole body came), so the client
   * can finish sending and read the answer; then the connection is closed.
   */
  lingerMs?: number;
}

/** A running front door. */
export interface Front {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Whether a request path belongs to the remote-write gateway. */
export function isWritePath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/api/v1/write' || path.startsWith('/api/v1/otlp/');
}

/** Whether a request path belongs to the rules role. */
export function isRulesPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/api/v1/rules' || path === '/api/v1/alerts';
}

/** Headers that describe one connection, not the message: never relayed (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers))
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  return out;
}

/**
 * Reads and drops the rest of a request body for at most `ms`, then closes
 * the connection: closing at once, with body bytes unread, would make the
 * kernel reset the connection, and a client still sending would lose the
 * answer it has not read yet.
 */
function linger(req: http.IncomingMessage, ms: number): void {
  if (req.complete) return;
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), ms);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

/**
 * The all-in-one's single address, as with Prometheus: remote write and
 * PromQL on one port. It streams each request to the gateway or the query
 * role, which run in processes of their own, and relays their answer as it
 * is, also when it comes before the whole body was sent (a 413 for a body
 * over the role's limit): the front then stops sending the body on. It
 * answers 503 in Prometheus' error format only when the role could not be
 * reached at all.
 */
export async function startFront(options: FrontOptions): Promise<Front> {
  const lingerMs = options.lingerMs ?? 10_000;
  const server = http.createServer((req, res) => {
    const write = isWritePath(req.url ?? '/');
    const upstream = write
      ? options.write
      : options.rules !== undefined && isRulesPath(req.url ?? '/')
        ? options.rules
        : options.query;
    let answered = false;
    const proxied = http.request(
      {
        host: upstream.host,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        answered = true;
        if (!req.complete) {
          // The role answered before reading everything: send it no more of the body,
          // and let the client finish sending so that it reads the answer.
          req.unpipe(proxied);
          linger(req, lingerMs);
        }
        res.writeHead(up.statusCode ?? 502, endToEnd(up.headers));
        up.pipe(res);
        up.once('end', () => {
          // A request whose body was cut short leaves its connection unusable.
          if (!proxied.writableFinished) proxied.destroy();
        });
        up.once('error', (err) => res.destroy(err));
      },
    );
    proxied.on('error', (err) => {
      // Sending the rest of a body the role refused fails once it closes; its answer is on its way.
      if (answered) return;
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      linger(req, lingerMs);
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'error',
          errorType: 'unavailable',
          error: `${write ? 'gateway' : 'query'} role is not reachable: ${err.message}`,
        }),
      );
    });
    req.pipe(proxied);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
