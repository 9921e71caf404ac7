import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../src/objstore/s3.js';

/** A one-route HTTP server standing in for S3, scripted per request (unit test of the S3 store alone). */
async function server(
  handler: (n: number, req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  let n = 0;
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(n++, req, res));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return s;
}

function store(
  s: Server,
  extra: Partial<ConstructorParameters<typeof S3ObjectStore>[0]> = {},
): S3ObjectStore {
  const port = (s.address() as AddressInfo).port;
  return new S3ObjectStore({
    bucket: 'b',
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: 'k',
    secretAccessKey: 's',
    maxAttempts: 4,
    ...extra,
  });
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const xmlError = (code: string) =>
  `<?xml version="1.0"?><Error><Code>${code}</Code><Message>m</Message></Error>`;

describe('S3 store retries', () => {
  it('retries 503 and 500 with backoff, then succeeds', async () => {
    const s = await server((n, _req, res) => {
      if (n < 2) {
        res.writeHead(n === 0 ? 503 : 500, { 'content-type': 'application/xml' });
        res.end(xmlError(n === 0 ? 'SlowDown' : 'InternalError'));
        return;
      }
      res.writeHead(200, { 'content-length': '5' });
      res.end('hello');
    });
    servers.push(s);
    const st = store(s);
    expect(new TextDecoder().decode(await st.get('k'))).toBe('hello');
    st.destroy();
  });

  it('retries a request that times out', async () => {
    let calls = 0;
    const s = await server((n, _req, res) => {
      calls++;
      if (n === 0) return; // never answers: the request timeout fires
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
    });
    servers.push(s);
    const st = store(s, { requestTimeoutMs: 300 });
    expect(new TextDecoder().decode(await st.get('k'))).toBe('ok');
    expect(calls).toBe(2);
    st.destroy();
  });

  it('gives up after maxAttempts with a retryable io error', async () => {
    let calls = 0;
    const s = await server((_n, _req, res) => {
      calls++;
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(xmlError('ServiceUnavailable'));
    });
    servers.push(s);
    const st = store(s, { maxAttempts: 3 });
    await expect(st.get('k')).rejects.toMatchObject({ code: 'io', retryable: true });
    expect(calls).toBe(3);
    st.destroy();
  });

  it('maps 404 to not_found and 412 to precondition_failed without retrying', async () => {
    let calls = 0;
    const s = await server((_n, req, res) => {
      calls++;
      if (req.method === 'PUT') {
        res.writeHead(412, { 'content-type': 'application/xml' });
        res.end(xmlError('PreconditionFailed'));
      } else {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end(xmlError('NoSuchKey'));
      }
    });
    servers.push(s);
    const st = store(s);
    await expect(st.get('k')).rejects.toMatchObject({ code: 'not_found' });
    await expect(st.put('k', new Uint8Array(1), { ifNoneMatch: true })).rejects.toMatchObject({
      code: 'precondition_failed',
    });
    expect(calls).toBe(2);
    st.destroy();
  });
});
