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

/**
 * The all-in-one's single address, as with Prometheus: remote write and
 * PromQL on one port. It streams each request to the gateway or the query
 * role, which run in processes of their own, and answers 503 in
 * Prometheus' error format while the chosen one is down.
 */
export async function startFront(options: FrontOptions): Promise<Front> {
  const server = http.createServer((req, res) => {
    const upstream = isWritePath(req.url ?? '/') ? options.write : options.query;
    const proxied = http.request(
      {
        host: upstream.host,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    proxied.on('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'error',
          errorType: 'unavailable',
          error: `${isWritePath(req.url ?? '/') ? 'gateway' : 'query'} role is not reachable: ${err.message}`,
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
