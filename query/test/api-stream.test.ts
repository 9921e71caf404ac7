import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, formatExpr, promqlSyntax, type QueryServer, startQueryServer } from '../src/index.js';
import { ArrayQuerier, type ArraySeries, labelsOf } from './support/array-querier.js';

// Large answers stream through gzip while they are written: the bytes a
// gzip client inflates must be exactly the plain answer, small answers still
// go whole, and a client leaving mid-answer leaves the server serving.

const T0 = 1_700_000_000_000;
const STEP = 15_000;
const POINTS = 400;

const series: ArraySeries[] = [];
for (let k = 0; k < 300; k++) {
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < POINTS; i++) {
    ts.push(T0 + i * STEP);
    vs.push(k * 1000 + i * 0.1 + 1 / (k + 3));
  }
  series.push({ labels: labelsOf({ __name__: 'big', k: String(k), text: `ü"${k % 7}` }), ts, vs });
}

let server: QueryServer;

beforeAll(async () => {
  server = await startQueryServer({
    engine: new Engine(),
    syntax: promqlSyntax(formatExpr),
    querierFor: () => new ArrayQuerier(series),
    port: 0,
  });
});
afterAll(async () => {
  await server.close();
});

function get(
  query: string,
  gzip: boolean,
  points = POINTS,
): Promise<{ status: number; encoding: string | undefined; body: Buffer }> {
  const qs = new URLSearchParams({
    query,
    start: String(T0 / 1000),
    end: String((T0 + (points - 1) * STEP) / 1000),
    step: '15',
  });
  return new Promise((resolve, reject) => {
    http
      .get(
        `${server.url}/api/v1/query_range?${qs}`,
        { headers: gzip ? { 'accept-encoding': 'gzip' } : {} },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              encoding: res.headers['content-encoding'],
              body: Buffer.concat(parts),
            }),
          );
        },
      )
      .on('error', reject);
  });
}

describe('streamed answers', () => {
  it('inflate to exactly the plain answer', async () => {
    const plain = await get('big', false);
    expect(plain.status).toBe(200);
    expect(plain.encoding).toBeUndefined();
    // Several of the writer's largest chunks.
    expect(plain.body.length).toBeGreaterThan(2_000_000);
    const zipped = await get('big', true);
    expect(zipped.status).toBe(200);
    expect(zipped.encoding).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length / 2);
    const inflated = gunzipSync(zipped.body);
    expect(inflated.equals(plain.body)).toBe(true);
    const json = JSON.parse(inflated.toString('utf8')) as {
      status: string;
      data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    expect(json.status).toBe('success');
    expect(json.data.result).toHaveLength(300);
    expect(json.data.result[0]!.values).toHaveLength(POINTS);
  });

  it('send small answers whole, compressed or not', async () => {
    // One chunk's worth (under 4 KiB): compressed whole.
    const zipped = await get('big{k="7"}', true, 100);
    expect(zipped.encoding).toBe('gzip');
    const plain = await get('big{k="7"}', false, 100);
    expect(plain.body.length).toBeGreaterThan(1024);
    expect(plain.body.length).toBeLessThan(4096);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    // Under 1 KiB: not worth compressing.
    const tiny = await get('vector(1)', true, 20);
    expect(tiny.encoding).toBeUndefined();
    expect(JSON.parse(tiny.body.toString()).data.result[0].values).toHaveLength(20);
  });

  it('keep serving after a client leaves mid-answer', async () => {
    const qs = new URLSearchParams({
      query: 'big',
      start: String(T0 / 1000),
      end: String((T0 + (POINTS - 1) * STEP) / 1000),
      step: '15',
    });
    await new Promise<void>((resolve) => {
      const req = http.get(
        `${server.url}/api/v1/query_range?${qs}`,
        { headers: { 'accept-encoding': 'gzip' } },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => resolve());
    });
    const after = await get('big{k="1"}', false);
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body.toString()).data.result).toHaveLength(1);
  });
});
