import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { encodeV1, startGateway } from '@promstream/ingest';
import { MemoryQuerier, type QueryEngine, startQueryServer } from '@promstream/query';
import { freePort } from '@promstream/testkit';
import pino from 'pino';
import snappy from 'snappy';
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

  test("relays the roles' 413 for bodies over their limit, sent whole or cut short, and stays usable", async () => {
    let written = 0;
    const gateway = await startGateway({
      sink: {
        write: async () => {
          written++;
          return { records: 0, bytes: 0 };
        },
      },
      port: 0,
      bodyLimit: 1024 * 1024,
      logger: pino({ level: 'silent' }),
    });
    const unused = async () => {
      throw new Error('no query reaches the engine in this test');
    };
    const query = await startQueryServer({
      engine: { instantQuery: unused, rangeQuery: unused } as unknown as QueryEngine,
      querierFor: () => new MemoryQuerier(),
      port: 0,
    });
    closers.push(
      () => gateway.close(),
      () => query.close(),
    );
    const front = await startFront({
      host: '127.0.0.1',
      port: 0,
      write: { host: '127.0.0.1', port: gateway.port },
      query: { host: '127.0.0.1', port: query.port },
    });
    closers.unshift(() => front.close());
    // Each role refuses the body from its length after reading a few MB at most, while the
    // front is still sending: the answer must come through every time, not a reset.
    for (let i = 0; i < 5; i++) {
      const w = await fetch(`${front.url}/api/v1/write`, {
        method: 'POST',
        body: Buffer.alloc(100 * 1024 * 1024),
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
      });
      expect(w.status).toBe(413);
      expect(await w.text()).toBe(
        'payload_too_large: the request body is larger than the limit of 1048576 bytes (compressed)\n',
      );
      const q = await fetch(`${front.url}/api/v1/query`, {
        method: 'POST',
        body: `query=${'a'.repeat(10 * 1024 * 1024)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(q.status).toBe(413);
      expect(await q.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    }
    expect(written).toBe(0);
    // The same front and roles answer ordinary requests right after.
    const ready = await fetch(`${front.url}/-/ready`);
    expect(await ready.text()).toBe('promstream query is Ready.\n');
    const write = await fetch(`${front.url}/api/v1/write`, {
      method: 'POST',
      body: snappy.compressSync(
        Buffer.from(
          encodeV1([
            {
              labels: [{ name: '__name__', value: 'up' }],
              timestamps: [Date.now()],
              values: [1],
              histograms: [],
              exemplars: 0,
            },
          ]),
        ),
      ),
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
    });
    expect(write.status).toBe(204);
    expect(written).toBe(1);
  }, 120_000);

  test('stops sending a body on once the role has answered', async () => {
    // A role that answers at once and reads (and drops) whatever still comes.
    let received = 0;
    const early = http.createServer((req, res) => {
      req.on('data', (d: Buffer) => {
        received += d.length;
      });
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'keep-alive' }).end('too large\n');
    });
    await new Promise<void>((r) => early.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => early.close(r)));
    const front = await startFront({
      host: '127.0.0.1',
      port: 0,
      write: { host: '127.0.0.1', port: (early.address() as AddressInfo).port },
      query: { host: '127.0.0.1', port: await freePort() },
    });
    closers.unshift(() => front.close());
    // A client that sends its whole body before it reads (as a simple sender does).
    const total = 64 * 1024 * 1024;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(front.port, '127.0.0.1');
      let got = '';
      let sentAll = false;
      const done = () => {
        if (!sentAll || !got.includes('too large\n')) return;
        socket.destroy();
        resolve(got);
      };
      socket.on('data', (d: Buffer) => {
        got += d.toString();
        done();
      });
      socket.on('error', reject);
      socket.write(`POST /api/v1/write HTTP/1.1\r\nHost: front\r\nContent-Length: ${total}\r\n\r\n`);
      const chunk = Buffer.alloc(1024 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
        sentAll = true;
        done();
      };
      pump();
    });
    expect(answer).toMatch(/^HTTP\/1.1 413 /);
    await new Promise((r) => setTimeout(r, 200));
    // The front passed on only what it had sent before the answer, not the 64 MB.
    expect(received).toBeLessThan(16 * 1024 * 1024);
  });
});
