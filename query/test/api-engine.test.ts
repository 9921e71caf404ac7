import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { seededRandom } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, formatExpr, promqlSyntax, type QueryServer, startQueryServer } from '../src/index.js';
import { ArrayQuerier, labelsOf } from './support/array-querier.js';

// The API end to end with the real engine and parser over an in-memory
// querier: answers, error formats, and a fuzz of random query strings.

const T0 = 1_700_000_000_000;
const STEP = 15_000;
const N = 41;

function ramp(rate: number): { ts: number[]; vs: number[] } {
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < N; i++) {
    ts.push(T0 + i * STEP);
    vs.push(i * rate * (STEP / 1000));
  }
  return { ts, vs };
}

export const fixture = new ArrayQuerier([
  { labels: labelsOf({ __name__: 'http_requests_total', job: 'api', code: '200' }), ...ramp(2) },
  { labels: labelsOf({ __name__: 'http_requests_total', job: 'api', code: '500' }), ...ramp(0.5) },
  { labels: labelsOf({ __name__: 'http_requests_total', job: 'web', code: '200' }), ...ramp(1) },
  {
    labels: labelsOf({ __name__: 'up', job: 'api', instance: 'a:9100' }),
    ts: ramp(0).ts,
    vs: ramp(0).vs.map(() => 1),
  },
]);

let server: QueryServer;
const END = T0 + (N - 1) * STEP;

beforeAll(async () => {
  server = await startQueryServer({
    engine: new Engine(),
    syntax: promqlSyntax(formatExpr),
    querierFor: () => fixture,
    port: 0,
  });
});
afterAll(async () => {
  await server.close();
});

async function call(path: string, params: Record<string, string>, method: 'GET' | 'POST' = 'GET') {
  const body = new URLSearchParams(params).toString();
  const res =
    method === 'GET'
      ? await fetch(`${server.url}${path}?${body}`)
      : await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('API with the real engine', () => {
  it('evaluates an instant query', async () => {
    const r = await call('/api/v1/query', {
      query: 'sum by (job) (rate(http_requests_total[5m]))',
      time: String(END / 1000),
    });
    expect(r.status).toBe(200);
    const data = r.body.data as {
      resultType: string;
      result: Array<{ metric: object; value: [number, string] }>;
    };
    expect(data.resultType).toBe('vector');
    expect(data.result.map((s) => s.metric)).toEqual([{ job: 'api' }, { job: 'web' }]);
    expect(data.result.map((s) => s.value[0])).toEqual([END / 1000, END / 1000]);
    // Extrapolation divides and multiplies, so the last digit may differ from the exact rate.
    expect(Number(data.result[0]!.value[1])).toBeCloseTo(2.5, 12);
    expect(Number(data.result[1]!.value[1])).toBeCloseTo(1, 12);
  });

  it('evaluates a range query by POST', async () => {
    const r = await call(
      '/api/v1/query_range',
      { query: 'up * 2', start: String(END / 1000 - 60), end: String(END / 1000), step: '30' },
      'POST',
    );
    expect(r.body).toEqual({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { instance: 'a:9100', job: 'api' },
            values: [
              [END / 1000 - 60, '2'],
              [END / 1000 - 30, '2'],
              [END / 1000, '2'],
            ],
          },
        ],
      },
    });
  });

  it('compresses large answers for clients that accept gzip', async () => {
    const qs = new URLSearchParams({
      query: 'http_requests_total',
      start: String(T0 / 1000),
      end: String(END / 1000),
      step: '15',
    });
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      http
        .get(`${server.url}/api/v1/query_range?${qs}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(parts) }),
          );
        })
        .on('error', reject);
    });
    expect(raw.encoding).toBe('gzip');
    const json = JSON.parse(gunzipSync(raw.body).toString('utf8')) as { data: { result: unknown[] } };
    expect(json.data.result).toHaveLength(3);
    // Without Accept-Encoding the same answer comes plain.
    const plain = await new Promise<string | undefined>((resolve, reject) => {
      http
        .get(`${server.url}/api/v1/query_range?${qs}`, (res) => {
          res.resume();
          resolve(res.headers['content-encoding']);
        })
        .on('error', reject);
    });
    expect(plain).toBeUndefined();
  });

  it('truncates to limit series with a warning', async () => {
    const r = await call('/api/v1/query', {
      query: 'http_requests_total',
      time: String(END / 1000),
      limit: '2',
    });
    expect((r.body.data as { result: unknown[] }).result).toHaveLength(2);
    expect(r.body.warnings).toEqual(['results truncated due to limit']);
    const all = await call('/api/v1/query', {
      query: 'http_requests_total',
      time: String(END / 1000),
      limit: '0',
    });
    expect((all.body.data as { result: unknown[] }).result).toHaveLength(3);
    expect(all.body.warnings).toBeUndefined();
    expect((await call('/api/v1/query', { query: 'up', limit: 'x' })).status).toBe(400);
  });

  it('answers a scalar and a parse error in Prometheus format', async () => {
    expect((await call('/api/v1/query', { query: '1/0', time: '10' })).body).toEqual({
      status: 'success',
      data: { resultType: 'scalar', result: [10, '+Inf'] },
    });
    const bad = await call('/api/v1/query', { query: 'sum(' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(String(bad.body.error)).toMatch(/^invalid parameter "query": .*parse error/);
  });

  it('reports an execution error with 422', async () => {
    // Two series that become equal once the name is dropped: a duplicate-labelset error.
    const r = await call('/api/v1/query', {
      query: 'label_replace(http_requests_total, "code", "x", "", "")',
      time: String(END / 1000),
    });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ status: 'error', errorType: 'execution' });
  });

  it('selects series and label values through the real parser', async () => {
    const r = await call('/api/v1/series', { 'match[]': 'http_requests_total{code=~"5.."}' });
    expect(r.body).toEqual({
      status: 'success',
      data: [{ __name__: 'http_requests_total', code: '500', job: 'api' }],
    });
    const bad = await call('/api/v1/series', { 'match[]': 'rate(up[5m])' });
    expect(bad.status).toBe(400);
    expect(bad.body.errorType).toBe('bad_data');
    expect((await call('/api/v1/label/job/values', { 'match[]': 'up' })).body).toEqual({
      status: 'success',
      data: ['api'],
    });
  });

  it('formats and parses queries', async () => {
    const f = await call('/api/v1/format_query', { query: 'sum(rate(up[5m]))by(job)' });
    expect(f.body).toEqual({ status: 'success', data: 'sum by (job) (rate(up[5m]))' });
    const p = await call('/api/v1/parse_query', { query: 'up{job="a"} offset 5m' });
    expect(p.body).toEqual({
      status: 'success',
      data: {
        type: 'vectorSelector',
        name: 'up',
        offset: 300000,
        matchers: [
          { name: 'job', value: 'a', type: '=' },
          { name: '__name__', value: 'up', type: '=' },
        ],
        timestamp: null,
        startOrEnd: null,
        anchored: false,
        smoothed: false,
      },
    });
  });
});

const TOKENS = [
  'up',
  'http_requests_total',
  '{',
  '}',
  '(',
  ')',
  '[5m]',
  '[1m:15s]',
  'job="api"',
  'code=~"5.."',
  ',',
  ' + ',
  ' / ',
  ' and ',
  ' or ',
  ' on(job) ',
  ' group_left ',
  'sum',
  'rate',
  'topk',
  'histogram_quantile',
  'label_replace',
  'by (job)',
  ' offset 1m',
  ' @ 0',
  '1',
  '0.5',
  '"str"',
  '-',
  'NaN',
  'Inf',
  '^',
  ' bool ',
  '==',
  'count_values',
  'quantile_over_time',
  'absent',
  'vector(1)',
  'time()',
  '\u0000',
  '💥',
  '[',
  ']',
  '@',
  'start()',
];

describe('query fuzz with the real engine', () => {
  it('answers every random query with success or a 4xx in Prometheus format, never a 500', async () => {
    const r = seededRandom(5);
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) {
      const n = 1 + Math.floor(r() * 8);
      let q = '';
      for (let j = 0; j < n; j++) q += TOKENS[Math.floor(r() * TOKENS.length)];
      const range = r() < 0.3;
      const res = range
        ? await call('/api/v1/query_range', {
            query: q,
            start: String(END / 1000 - 300),
            end: String(END / 1000),
            step: '60',
          })
        : await call('/api/v1/query', { query: q, time: String(END / 1000) });
      const ok =
        (res.status === 200 && res.body.status === 'success') ||
        ((res.status === 400 || res.status === 422) &&
          res.body.status === 'error' &&
          typeof res.body.errorType === 'string' &&
          typeof res.body.error === 'string');
      if (!ok) failures.push(`${JSON.stringify(q)} -> ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(failures).toEqual([]);
  });
});
