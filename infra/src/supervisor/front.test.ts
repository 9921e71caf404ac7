import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@promstream/testkit';
import { afterAll, describe, expect, test } from 'vitest';
import { isWritePath, startFront } from './front.js';

function echo(name: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.writeHead(name === 'write' ? 204 : 200, { 'x-upstream': name });
      res.end(name === 'write' ? undefined : `${req.method} ${req.url} ${body}`);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })),
  );
}

describe('front door', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  test('routes remote write to the gateway and the rest to the query role', async () => {
    const write = await echo('write');
    const query = await echo('query');
    closers.push(
      () => new Promise((r) => write.server.close(r)),
      () => new Promise((r) => query.server.close(r)),
    );
    const front = await startFront({
      host: '127.0.0.1',
      port: 0,
      write: { host: '127.0.0.1', port: write.port },
      query: { host: '127.0.0.1', port: query.port },
    });
    closers.unshift(() => front.close());
    const w = await fetch(`${front.url}/api/v1/write`, { method: 'POST', body: 'x' });
    expect(w.status).toBe(204);
    expect(w.headers.get('x-upstream')).toBe('write');
    const q = await fetch(`${front.url}/api/v1/query?query=up`, { method: 'POST', body: 'a=1' });
    expect(q.headers.get('x-upstream')).toBe('query');
    expect(await q.text()).toBe('POST /api/v1/query?query=up a=1');
  });

  test('answers 503 in the Prometheus error format while a role is down', async () => {
    const dead = await freePort();
    const front = await startFront({
      host: '127.0.0.1',
      port: 0,
      write: { host: '127.0.0.1', port: dead },
      query: { host: '127.0.0.1', port: dead },
    });
    closers.unshift(() => front.close());
    const res = await fetch(`${front.url}/api/v1/query?query=up`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'error', errorType: 'unavailable' });
    expect(isWritePath('/api/v1/write?x=1')).toBe(true);
    expect(isWritePath('/api/v1/writes')).toBe(false);
  });
});
