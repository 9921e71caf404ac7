import {
  type Labels,
  type Matcher,
  newMatcher,
  type SampleIterator,
  StorageError,
  StorageErrorCode,
  ValueType,
} from '@promstream/storage';
import { BAD_TENANT_IDS } from '@promstream/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromqlSyntax } from '../src/api/index.js';
import { EngineError, floatColumns, type QueryEngine, type QueryResult } from '../src/engine-types.js';
import type { Querier, SelectHints, Series } from '../src/querier.js';
import { buildQueryApp } from '../src/server.js';

// Unit tests of the API module alone: the engine and parser are small fakes
// here so each response shape and error path can be driven exactly. The
// end-to-end tests with the real engine are in api-engine.test.ts.

const series: Labels[] = [
  [
    { name: '__name__', value: 'up' },
    { name: 'job', value: 'a' },
  ],
  [
    { name: '__name__', value: 'up' },
    { name: 'job', value: 'b' },
  ],
  [
    { name: '__name__', value: 'go_info' },
    { name: 'version', value: '1.22' },
  ],
];

function emptyIterator(): SampleIterator {
  return {
    next: () => ValueType.None,
    seek: () => ValueType.None,
    atT: () => 0,
    at: () => 0,
    atHistogram: () => {
      throw new Error('no histogram');
    },
    err: () => undefined,
  };
}

const seen: { tenants: string[]; hints: SelectHints[] } = { tenants: [], hints: [] };

const querier: Querier = {
  async select(hints, matchers) {
    seen.hints.push(hints);
    return series
      .filter((ls) => matchers.every((m) => m.matches(ls.find((l) => l.name === m.name)?.value ?? '')))
      .map((labels): Series => ({ labels, iterator: emptyIterator }));
  },
  async labelNames(hints, matchers) {
    const out = new Set<string>();
    for (const s of await this.select(hints, matchers)) for (const l of s.labels) out.add(l.name);
    return [...out].sort();
  },
  async labelValues(hints, name, matchers) {
    const out = new Set<string>();
    for (const s of await this.select(hints, matchers)) {
      const v = s.labels.find((l) => l.name === name)?.value;
      if (v !== undefined) out.add(v);
    }
    return [...out].sort();
  },
};

const calls: Array<{ kind: string; expr: string; args: number[] }> = [];
const aborts: string[] = [];

const engine: QueryEngine = {
  async instantQuery(_q, expr, time, signal) {
    calls.push({ kind: 'instant', expr, args: [time] });
    return answer(expr, time, signal);
  },
  async rangeQuery(_q, expr, start, end, step, signal) {
    calls.push({ kind: 'range', expr, args: [start, end, step] });
    if (expr === 'up') {
      return {
        value: {
          resultType: 'matrix',
          result: [
            {
              metric: series[0]!,
              floats: floatColumns([
                { t: start, f: 1 },
                { t: start + step, f: Number.NaN },
              ]),
              histograms: [],
            },
          ],
        },
        warnings: [],
        infos: ['an info'],
      };
    }
    return answer(expr, start, signal);
  },
};

function answer(expr: string, time: number, signal?: AbortSignal): Promise<QueryResult> | QueryResult {
  switch (expr) {
    case 'up':
      return {
        value: { resultType: 'vector', result: [{ metric: series[0]!, t: time, f: 1e21 }] },
        warnings: ['a warning'],
        infos: [],
      };
    case 'scalar':
      return {
        value: { resultType: 'scalar', result: { t: time, f: Number.POSITIVE_INFINITY } },
        warnings: [],
        infos: [],
      };
    case 'string':
      return { value: { resultType: 'string', result: { t: time, s: 'hi "x"' } }, warnings: [], infos: [] };
    case 'hist':
      return {
        value: {
          resultType: 'vector',
          result: [
            {
              metric: [],
              t: time,
              f: 0,
              h: {
                counterResetHint: 0,
                schema: 0,
                zeroThreshold: 0.001,
                zeroCount: 2,
                count: 7,
                sum: 10.5,
                positiveSpans: [{ offset: 0, length: 2 }],
                positiveBuckets: [1, 3],
                negativeSpans: [{ offset: 0, length: 1 }],
                negativeBuckets: [1],
                customValues: [],
              },
            },
          ],
        },
        warnings: [],
        infos: [],
      };
    case 'exec':
      throw new EngineError('execution', 'vector cannot contain metrics with the same labelset');
    case 'many':
      throw new EngineError('too_many_samples', 'query processing would load too many samples into memory');
    case 'crash':
      throw new TypeError('boom');
    case 'storage-down':
      throw new StorageError(StorageErrorCode.Io, 'read index: connection refused');
    case 'slow':
      return new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', () => {
          aborts.push(String((signal.reason as Error).message));
          reject(new EngineError('canceled', 'canceled'));
        });
      });
    default:
      throw new EngineError('bad_data', `1:1: parse error: unexpected ${JSON.stringify(expr)}`);
  }
}

/** Parses `name` or `name{l="v",...}` or `{l=~"v"}`; anything else is a syntax error. */
const syntax: PromqlSyntax = {
  parseSelector(text) {
    const m = /^([a-zA-Z_:][\w:]*)?(?:\{(.*)\})?$/.exec(text.trim());
    if (m === null || text.trim() === '')
      throw new EngineError('bad_data', `1:1: parse error: bad selector ${text}`);
    const out: Matcher[] = [];
    if (m[1] !== undefined) out.push(newMatcher('=', '__name__', m[1]));
    for (const part of (m[2] ?? '').split(',').filter((p) => p !== '')) {
      const pm = /^(\w+)(=~|!~|!=|=)"(.*)"$/.exec(part.trim());
      if (pm === null) throw new EngineError('bad_data', `1:1: parse error: bad matcher ${part}`);
      out.push(newMatcher(pm[2] as Matcher['type'], pm[1]!, pm[3]!));
    }
    if (out.length === 0)
      throw new EngineError('bad_data', 'vector selector must contain at least one non-empty matcher');
    return out;
  },
  format(text) {
    if (text !== 'sum(up)') throw new EngineError('bad_data', '1:1: parse error: cannot format');
    return 'sum(up)';
  },
  parseTree(text) {
    if (text !== 'up') throw new EngineError('bad_data', '1:1: parse error: cannot parse');
    return { type: 'vectorSelector', name: 'up' };
  },
};

let app: FastifyInstance;
const NOW = 1_700_000_000_123;

beforeAll(async () => {
  app = await buildQueryApp({
    engine,
    syntax,
    querierFor: (tenant) => {
      seen.tenants.push(tenant);
      return querier;
    },
    now: () => NOW,
    timeoutMs: 10_000,
    maxConcurrentQueries: 1,
  });
});
afterAll(async () => {
  await app.close();
});

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'GET', url, headers });
  return {
    status: res.statusCode,
    body: res.json() as Record<string, unknown>,
    text: res.body,
    headers: res.headers,
  };
}

async function post(url: string, form: Record<string, string>) {
  const res = await app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown>, text: res.body };
}

describe('/api/v1/query', () => {
  it('answers a vector with Prometheus float and time formats and warnings', async () => {
    const r = await get('/api/v1/query?query=up&time=1435781451.781');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.text).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1435781451.781,"1000000000000000000000"]}]},"warnings":["a warning"]}',
    );
    expect(calls.at(-1)).toEqual({ kind: 'instant', expr: 'up', args: [1435781451781] });
  });

  it('defaults time to now and takes RFC 3339 times', async () => {
    await get('/api/v1/query?query=up');
    expect(calls.at(-1)!.args).toEqual([NOW]);
    await get('/api/v1/query?query=up&time=2015-07-01T20:10:51.781Z');
    expect(calls.at(-1)!.args).toEqual([1435781451781]);
    await get('/api/v1/query?query=up&time=2015-07-01T22:10:51%2B02:00');
    expect(calls.at(-1)!.args).toEqual([1435781451000]);
  });

  it('answers scalars, strings and native histograms', async () => {
    expect((await get('/api/v1/query?query=scalar&time=10')).text).toBe(
      '{"status":"success","data":{"resultType":"scalar","result":[10,"+Inf"]}}',
    );
    expect((await get('/api/v1/query?query=string&time=10.5')).text).toBe(
      '{"status":"success","data":{"resultType":"string","result":[10.5,"hi \\"x\\""]}}',
    );
    const h = await get('/api/v1/query?query=hist&time=1');
    expect(h.body).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          {
            metric: {},
            histogram: [
              1,
              {
                count: '7',
                sum: '10.5',
                buckets: [
                  [1, '-1', '-0.5', '1'],
                  [3, '-0.001', '0.001', '2'],
                  [0, '0.5', '1', '1'],
                  [0, '1', '2', '3'],
                ],
              },
            ],
          },
        ],
      },
    });
  });

  it('takes form-encoded POST, the body winning over the URL', async () => {
    const r = await post('/api/v1/query?query=nope', { query: 'scalar', time: '20' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [20, '+Inf'] } });
  });

  it('ignores JSON bodies as Prometheus does', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/query?time=5',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ query: 5, time: { x: 1 } }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    // The JSON body is not read: the query is empty and the time is the URL's.
    expect(calls.at(-1)).toEqual({ kind: 'instant', expr: '', args: [5000] });
  });

  it('maps engine errors to errorType and status', async () => {
    const cases: Array<[string, number, string]> = [
      ['exec', 422, 'execution'],
      ['many', 422, 'execution'],
      ['rate(', 400, 'bad_data'],
      ['crash', 500, 'internal'],
      ['storage-down', 503, 'unavailable'],
    ];
    for (const [q, status, errorType] of cases) {
      const r = await get(`/api/v1/query?query=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(status);
      expect(r.body.status).toBe('error');
      expect(r.body.errorType).toBe(errorType);
      expect(typeof r.body.error).toBe('string');
    }
    const bad = await get('/api/v1/query?query=rate(');
    expect(bad.body.error).toBe('invalid parameter "query": 1:1: parse error: unexpected "rate("');
  });

  it('refuses a bad time with Prometheus wording', async () => {
    const r = await get('/api/v1/query?query=up&time=yesterday');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "time": cannot parse "yesterday" to a valid timestamp',
    });
  });

  it('times out a slow query with 503 timeout, and honours a shorter timeout parameter', async () => {
    const started = Date.now();
    const r = await get('/api/v1/query?query=slow&timeout=50ms');
    expect(r.status).toBe(503);
    expect(r.body.errorType).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await get('/api/v1/query?query=up&timeout=soon')).body.error).toBe(
      'invalid parameter "timeout": cannot parse "soon" to a valid duration',
    );
  });

  it('queues queries beyond the concurrency limit and runs them in turn', async () => {
    // maxConcurrentQueries is 1: the second query waits until the slow one times out.
    const slow = get('/api/v1/query?query=slow&timeout=150ms');
    const quick = get('/api/v1/query?query=up');
    const [a, b] = await Promise.all([slow, quick]);
    expect(a.status).toBe(503);
    expect(b.status).toBe(200);
  });

  it('cancels the evaluation when the client goes away', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    aborts.length = 0;
    const client = new AbortController();
    const pending = fetch(`http://127.0.0.1:${port}/api/v1/query?query=slow`, {
      signal: client.signal,
    }).catch((e: unknown) => e);
    // Abort once the evaluation is under way.
    const before = calls.length;
    for (let i = 0; i < 250 && !calls.slice(before).some((c) => c.expr === 'slow'); i++)
      await new Promise((r) => setTimeout(r, 20));
    client.abort();
    expect(await pending).toBeInstanceOf(Error);
    for (let i = 0; i < 250 && aborts.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(aborts).toEqual(['query was canceled: client went away']);
    // The slot is free again: the next query runs at once.
    expect((await get('/api/v1/query?query=up')).status).toBe(200);
  });

  it('selects the tenant from X-Scope-OrgID and refuses bad tenant ids', async () => {
    seen.tenants.length = 0;
    await get('/api/v1/query?query=up', { 'X-Scope-OrgID': 'team-a' });
    await get('/api/v1/query?query=up');
    expect(seen.tenants).toEqual(['team-a', 'anonymous']);
    const r = await get('/api/v1/query?query=up', { 'X-Scope-OrgID': '../etc' });
    expect(r.status).toBe(400);
    expect(r.body.errorType).toBe('bad_data');
  });
});

describe('a bad X-Scope-OrgID on every query endpoint', () => {
  it('a default tenant the rule refuses stops the app from being built', async () => {
    await expect(
      buildQueryApp({ engine, syntax, querierFor: () => querier, defaultTenant: '.' }),
    ).rejects.toMatchObject({
      code: 'invalid_tenant',
    });
  });

  const endpoints = [
    '/api/v1/query?query=up',
    '/api/v1/query_range?query=up&start=0&end=30&step=15',
    '/api/v1/series?match[]=up',
    '/api/v1/labels',
    '/api/v1/label/job/values',
  ];
  it.each(BAD_TENANT_IDS)(
    '$name gets a 400 in Prometheus’ error format and reaches no querier',
    async ({ id }) => {
      for (const url of endpoints) {
        seen.tenants.length = 0;
        const r = await get(url, { 'X-Scope-OrgID': id });
        expect(r.status, url).toBe(400);
        expect(r.body).toEqual({
          status: 'error',
          errorType: 'bad_data',
          error: expect.stringMatching(/^X-Scope-OrgID: (the )?tenant ID/),
        });
        expect(seen.tenants, url).toEqual([]);
      }
    },
  );
});

describe('/api/v1/query_range', () => {
  it('answers a matrix', async () => {
    const r = await get('/api/v1/query_range?query=up&start=0&end=30&step=15');
    expect(r.text).toBe(
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[0,"1"],[15,"NaN"]]}]},"infos":["an info"]}',
    );
    expect(calls.at(-1)).toEqual({ kind: 'range', expr: 'up', args: [0, 30000, 15000] });
    await get('/api/v1/query_range?query=up&start=0&end=3600&step=1m30s');
    expect(calls.at(-1)!.args).toEqual([0, 3600000, 90000]);
  });

  it('refuses bad ranges with Prometheus wording', async () => {
    const cases: Array<[string, string]> = [
      ['start=10&end=0&step=1', 'invalid parameter "end": end timestamp must not be before start time'],
      [
        'start=0&end=10&step=0',
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
      ],
      [
        'start=0&end=100000&step=1',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      ],
      ['start=x&end=10&step=1', 'invalid parameter "start": cannot parse "x" to a valid timestamp'],
      ['end=10&step=1', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
      ['start=0&end=10&step=1q', 'invalid parameter "step": cannot parse "1q" to a valid duration'],
    ];
    for (const [qs, error] of cases) {
      const r = await get(`/api/v1/query_range?query=up&${qs}`);
      expect(r.status, qs).toBe(400);
      expect(r.body, qs).toEqual({ status: 'error', errorType: 'bad_data', error });
    }
  });
});

describe('series and labels', () => {
  it('lists series matching any match[], sorted, with start and end as hints', async () => {
    seen.hints.length = 0;
    const r = await get('/api/v1/series?match[]=up&match[]=go_info&start=100&end=200');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'success',
      data: [
        { __name__: 'go_info', version: '1.22' },
        { __name__: 'up', job: 'a' },
        { __name__: 'up', job: 'b' },
      ],
    });
    expect(seen.hints[0]).toMatchObject({ mint: 100000, maxt: 200000 });
  });

  it('truncates at limit with a warning', async () => {
    const r = await get(`/api/v1/series?match[]=${encodeURIComponent('{__name__=~".+"}')}&limit=1`);
    expect(r.body).toEqual({
      status: 'success',
      data: [{ __name__: 'go_info', version: '1.22' }],
      warnings: ['results truncated due to limit'],
    });
  });

  it('refuses series without match[] or with a bad one', async () => {
    expect(await get('/api/v1/series')).toMatchObject({
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' },
    });
    const r = await get('/api/v1/series?match[]=up{');
    expect(r.status).toBe(400);
    expect(r.body.errorType).toBe('bad_data');
  });

  it('answers label names and values, GET and POST', async () => {
    expect((await get('/api/v1/labels')).body).toEqual({
      status: 'success',
      data: ['__name__', 'job', 'version'],
    });
    expect((await post('/api/v1/labels', { 'match[]': 'up' })).body).toEqual({
      status: 'success',
      data: ['__name__', 'job'],
    });
    expect((await get('/api/v1/label/job/values')).body).toEqual({ status: 'success', data: ['a', 'b'] });
    expect((await get('/api/v1/label/__name__/values?match[]={job="b"}')).body).toEqual({
      status: 'success',
      data: ['up'],
    });
    expect((await get('/api/v1/label/U__j_6f_b/values')).body).toEqual({
      status: 'success',
      data: ['a', 'b'],
    });
    expect((await get('/api/v1/label/nope/values')).body).toEqual({ status: 'success', data: [] });
  });

  it('refuses bad label names, limits and times', async () => {
    expect((await get('/api/v1/label/U__bad_zz_/values')).body.errorType).toBe('bad_data');
    expect((await get('/api/v1/labels?limit=-1')).body).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "limit": limit must be non-negative',
    });
    expect((await get('/api/v1/labels?start=soon')).status).toBe(400);
  });

  it('answers metadata as an empty map', async () => {
    expect((await get('/api/v1/metadata')).body).toEqual({ status: 'success', data: {} });
    expect((await get('/api/v1/metadata?limit=x')).status).toBe(400);
  });
});

describe('format, parse, buildinfo, metrics, unknown paths', () => {
  it('formats and parses through the syntax service', async () => {
    expect((await get('/api/v1/format_query?query=sum(up)')).body).toEqual({
      status: 'success',
      data: 'sum(up)',
    });
    expect((await post('/api/v1/parse_query', { query: 'up' })).body).toEqual({
      status: 'success',
      data: { type: 'vectorSelector', name: 'up' },
    });
    const bad = await get('/api/v1/format_query?query=sum(');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid parameter "query": 1:1: parse error: cannot format');
  });

  it('answers exemplar queries with none, and refuses a bad query', async () => {
    expect((await get('/api/v1/query_exemplars?query=up&start=0&end=10')).body).toEqual({
      status: 'success',
      data: [],
    });
    expect((await get('/api/v1/query_exemplars?query=nope')).status).toBe(400);
    expect((await get('/api/v1/query_exemplars?query=up&start=10&end=0')).body.error).toBe(
      'invalid parameter "end": end timestamp must not be before start time',
    );
  });

  it('answers CORS preflights and marks answers readable by the calling origin', async () => {
    const pre = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/query',
      headers: { origin: 'http://grafana.local', 'access-control-request-method': 'POST' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('http://grafana.local');
    expect(pre.headers['access-control-allow-methods']).toContain('POST');
    const r = await get('/api/v1/query?query=scalar&time=1', { origin: 'http://grafana.local' });
    expect(r.headers['access-control-allow-origin']).toBe('http://grafana.local');
    expect(
      (await get('/api/v1/query?query=scalar&time=1')).headers['access-control-allow-origin'],
    ).toBeUndefined();
  });

  it('reports build info', async () => {
    const r = await get('/api/v1/status/buildinfo');
    expect(r.body.status).toBe('success');
    expect(r.body.data).toMatchObject({ version: expect.any(String), goVersion: expect.any(String) });
  });

  it('exposes /metrics with the query histogram', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(
      /promstream_query_duration_seconds_count\{endpoint="query",outcome="success"\} \d+/,
    );
    expect(res.body).toContain('promstream_query_concurrent 0');
  });

  it('answers unknown paths and unsupported bodies in the error format', async () => {
    const r = await get('/api/v1/nothing');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ status: 'error', errorType: 'not_found' });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/query',
      headers: { 'content-type': 'application/x-custom' },
      payload: 'x',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });
});
