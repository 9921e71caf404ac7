import { seededRandom } from '@promstream/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, type QueryEngine } from '../src/engine-types.js';
import type { Querier } from '../src/querier.js';
import { buildQueryApp } from '../src/server.js';

// Unit fuzz of the API's parameter handling: random values for every
// parameter of every endpoint must give a Prometheus-format answer, never a
// 500. The engine and parser are fakes that accept a fixed query, so what
// is fuzzed here is the API's own parsing.

const querier: Querier = {
  select: async () => [],
  labelNames: async () => [],
  labelValues: async () => [],
};

const engine: QueryEngine = {
  async instantQuery(_q, expr, time) {
    if (expr !== 'up') throw new EngineError('bad_data', 'parse error: only up');
    return { value: { resultType: 'scalar', result: { t: time, f: 1 } }, warnings: [], infos: [] };
  },
  async rangeQuery(_q, expr, start, end, step) {
    if (expr !== 'up') throw new EngineError('bad_data', 'parse error: only up');
    if (!Number.isFinite(start + end + step))
      throw new Error(`engine got a bad range ${start} ${end} ${step}`);
    return { value: { resultType: 'matrix', result: [] }, warnings: [], infos: [] };
  },
};

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildQueryApp({
    engine,
    querierFor: () => querier,
    syntax: {
      parseSelector(text) {
        if (text !== 'up') throw new EngineError('bad_data', 'parse error: only up');
        return [];
      },
      format: (text) => text,
      parseTree: (text) => ({ text }),
    },
    timeoutMs: 1000,
  });
});
afterAll(async () => {
  await app.close();
});

const PIECES = [
  '',
  '0',
  '-1',
  '1e300',
  '-1e300',
  '1.5',
  'NaN',
  'Inf',
  '+Inf',
  '1h',
  '5m30s',
  '0s',
  '1y2w',
  '9999999999999999999999',
  '2015-07-01T20:10:51.781Z',
  '2015-13-01T00:00:00Z',
  'abc',
  '\u0000',
  '%',
  ' ',
  '1_000',
  '0x10',
  '💥',
  '-0',
  '1e-9',
  '.5',
  '5.',
  'up',
];

function randomValue(r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  let out = '';
  for (let i = 0; i < n; i++) out += PIECES[Math.floor(r() * PIECES.length)];
  if (r() < 0.2) out += String.fromCharCode(Math.floor(r() * 0x2000));
  return out;
}

const ENDPOINTS: Array<{ path: string; params: string[] }> = [
  { path: '/api/v1/query', params: ['query', 'time', 'timeout', 'limit'] },
  { path: '/api/v1/query_range', params: ['query', 'start', 'end', 'step', 'timeout', 'limit'] },
  { path: '/api/v1/series', params: ['match[]', 'start', 'end', 'limit'] },
  { path: '/api/v1/labels', params: ['match[]', 'start', 'end', 'limit'] },
  { path: '/api/v1/label/job/values', params: ['match[]', 'start', 'end', 'limit'] },
  { path: '/api/v1/metadata', params: ['limit', 'limit_per_metric', 'metric'] },
  { path: '/api/v1/format_query', params: ['query'] },
  { path: '/api/v1/parse_query', params: ['query'] },
  { path: '/api/v1/query_exemplars', params: ['query', 'start', 'end'] },
];

describe('parameter fuzz', () => {
  it('answers every random parameter set in Prometheus format without a 500', async () => {
    const r = seededRandom(20261125);
    for (let i = 0; i < 600; i++) {
      const ep = ENDPOINTS[i % ENDPOINTS.length]!;
      const form = new URLSearchParams();
      for (const p of ep.params) {
        if (r() < 0.8) form.append(p, p === 'query' && r() < 0.5 ? 'up' : randomValue(r));
      }
      const usePost = r() < 0.5 && ep.path !== '/api/v1/label/job/values' && ep.path !== '/api/v1/metadata';
      const res = usePost
        ? await app.inject({
            method: 'POST',
            url: ep.path,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: form.toString(),
          })
        : await app.inject({ method: 'GET', url: `${ep.path}?${form.toString()}` });
      const context = `${usePost ? 'POST' : 'GET'} ${ep.path} ${form.toString()}`;
      expect(res.statusCode, context).toBeLessThan(500);
      const body = res.json() as { status: string; errorType?: string; error?: string };
      if (res.statusCode === 200) expect(body.status, context).toBe('success');
      else {
        expect(res.statusCode, context).toBe(400);
        expect(body, context).toMatchObject({
          status: 'error',
          errorType: 'bad_data',
          error: expect.any(String),
        });
      }
    }
  });

  it('answers random label names in the URL without a 500', async () => {
    const r = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const name = encodeURIComponent(`${r() < 0.5 ? 'U__' : ''}${randomValue(r)}x`);
      const res = await app.inject({ method: 'GET', url: `/api/v1/label/${name}/values` });
      expect(res.statusCode, name).toBeLessThan(500);
      expect((res.json() as { status: string }).status, name).toMatch(/^(success|error)$/);
    }
  });
});
