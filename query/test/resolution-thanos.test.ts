import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compactBlocks, downsampleBlock, FsObjectStore, RES_1H, RES_5M } from '@promstream/storage';
import { announceSkip, thanosTool } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveBlocks } from '../src/serve-blocks.js';
import type { QueryServer } from '../src/server.js';
import { downsampledBucket, H, rawBlock, T0 } from './resolution-fixture.js';

// Thanos v0.42.5 is the oracle: the tool evaluates the same range query with
// Prometheus' engine over Thanos' own querier (its aggregate choice per
// function and its downsampled-chunk iterators) and store gateway (its block
// choice per resolution) reading the same bucket directory.
const run = promisify(execFile);
const tool = thanosTool();
const TENANT = 'resolution';
/** A tenant whose coarse levels cover only part of the range, so finer blocks fill the rest. */
const PARTIAL = 'partial';
/** A tenant caught between a compaction's upload and its sources' deletion marks. */
const SUPERSEDED = 'superseded';
const DAYS = 3;
const START = T0 + 6 * H;
const END = T0 + DAYS * 24 * H - H;
const STEP = 30 * 60 * 1000;

type Answer = Map<string, [number, number][]>;

function key(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function value(v: string | number): number {
  return typeof v === 'number' ? v : Number(v);
}

async function thanos(expr: string, maxRes: number, dir: string): Promise<Answer> {
  const bin = tool.ok ? tool.backend.bin : '';
  const args = ['query-range', expr, String(START), String(END), String(STEP), String(maxRes), dir];
  const { stdout } = await run(bin, args, { maxBuffer: 64 * 1024 * 1024 });
  const out: Answer = new Map();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const s = JSON.parse(line) as { labels: Record<string, string>; points: [number, string | number][] };
    // The store gateway adds the blocks' external labels; promstream's query tier does not.
    delete s.labels.tenant;
    out.set(
      key(s.labels),
      s.points.map(([t, v]) => [t, value(v)]),
    );
  }
  return out;
}

async function ours(server: QueryServer, expr: string, resolution: string, tenant = TENANT): Promise<Answer> {
  const params = new URLSearchParams({
    query: expr,
    start: String(START / 1000),
    end: String(END / 1000),
    step: String(STEP / 1000),
    max_source_resolution: resolution,
  });
  const res = await fetch(`${server.url}/api/v1/query_range?${params}`, {
    headers: { 'X-Scope-OrgID': tenant },
  });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  expect(body.error, `${expr} at ${resolution}`).toBeUndefined();
  const out: Answer = new Map();
  for (const s of body.data.result) {
    out.set(
      key(s.metric),
      s.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]),
    );
  }
  return out;
}

function expectSame(got: Answer, want: Answer, what: string): void {
  expect([...got.keys()].sort(), what).toEqual([...want.keys()].sort());
  for (const [k, points] of want) {
    const mine = got.get(k)!;
    expect(
      mine.map(([t]) => t),
      `${what} ${k}`,
    ).toEqual(points.map(([t]) => t));
    for (let i = 0; i < points.length; i++) {
      const a = mine[i]![1];
      const b = points[i]![1];
      if (Number.isNaN(b)) expect(a, `${what} ${k} at ${points[i]![0]}`).toBeNaN();
      else
        expect(Math.abs(a - b), `${what} ${k} at ${points[i]![0]}: ${a} vs ${b}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(b)),
        );
    }
  }
}

// Functions whose aggregate differs: counter (rate, increase, irate, resets),
// min, max, count, sum, and the average (plain selectors, avg_over_time, delta).
const EXPRESSIONS = [
  'rate(requests_total[1h])',
  'rate(requests_total[3h])',
  'increase(requests_total[6h])',
  'irate(requests_total[3h])',
  'sum by (job) (rate(requests_total[4h]))',
  'max_over_time(temperature[3h])',
  'min_over_time(temperature[3h])',
  'count_over_time(temperature[3h])',
  'sum_over_time(temperature[3h])',
  'avg_over_time(temperature[3h])',
  'temperature',
  'max(temperature)',
  'min by (job) (temperature)',
  'delta(temperature[3h])',
];

if (!tool.ok) announceSkip('query resolutions against Thanos', tool.reason);

describe.runIf(tool.ok)('query resolutions against Thanos v0.42.5', () => {
  let root: string;
  let server: QueryServer;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'query-resolution-'));
    const store = new FsObjectStore(root);
    await downsampledBucket(store, TENANT, T0, T0 + DAYS * 24 * H);
    // Day one at 1h, days one and two at 5m, every day raw.
    for (let day = 0; day < DAYS; day++) {
      const raw = await rawBlock(store, PARTIAL, T0 + day * 24 * H, T0 + (day + 1) * 24 * H);
      if (day === 2) continue;
      const m5 = (await downsampleBlock(store, PARTIAL, raw, RES_5M)).meta;
      if (day === 0) await downsampleBlock(store, PARTIAL, m5, RES_1H);
    }
    // Two blocks, their compaction, and 5m downsamples of the first and of the compaction, nothing marked.
    const half = T0 + (DAYS * 24 * H) / 2;
    const a = await rawBlock(store, SUPERSEDED, T0, half);
    const b = await rawBlock(store, SUPERSEDED, half, T0 + DAYS * 24 * H);
    const c = (await compactBlocks(store, SUPERSEDED, [a, b])).meta;
    await downsampleBlock(store, SUPERSEDED, a, RES_5M);
    await downsampleBlock(store, SUPERSEDED, c, RES_5M);
    server = await serveBlocks({ store, port: 0, defaultTenant: TENANT, evalThreads: 1 });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  const cases: [string, number][] = [
    ['raw', 0],
    ['5m', RES_5M],
    ['1h', RES_1H],
  ];
  for (const [name, res] of cases) {
    it(`answers as Thanos' querier at max_source_resolution=${name}`, async () => {
      for (const expr of EXPRESSIONS) {
        const want = await thanos(expr, res, join(root, TENANT));
        expectSame(await ours(server, expr, name), want, `${expr} at ${name}`);
      }
    }, 120_000);
  }

  it('fills stretches without coarse blocks from finer ones as Thanos does', async () => {
    for (const expr of EXPRESSIONS) {
      const want = await thanos(expr, RES_1H, join(root, PARTIAL));
      expectSame(
        await ours(server, expr, '1h', PARTIAL),
        want,
        `${expr} at 1h over a partly downsampled bucket`,
      );
    }
  }, 120_000);

  it('reads only the newest of superseded blocks as Thanos does', async () => {
    for (const [name, res] of cases.slice(0, 2)) {
      for (const expr of EXPRESSIONS) {
        const want = await thanos(expr, res, join(root, SUPERSEDED));
        expectSame(
          await ours(server, expr, name, SUPERSEDED),
          want,
          `${expr} at ${name} over superseded blocks`,
        );
      }
    }
  }, 120_000);

  it('auto picks step/5 as Thanos does (12m for a 1h step: 5m blocks)', async () => {
    const params = new URLSearchParams({
      query: 'count_over_time(temperature[3h])',
      start: String(START / 1000),
      end: String(END / 1000),
      step: '3600',
      max_source_resolution: 'auto',
    });
    const res = await fetch(`${server.url}/api/v1/query_range?${params}`);
    const auto = (await res.json()) as { data: { result: { values: [number, string][] }[] } };
    params.set('max_source_resolution', '5m');
    const fiveMin = (await (await fetch(`${server.url}/api/v1/query_range?${params}`)).json()) as typeof auto;
    params.set('max_source_resolution', '1h');
    const hour = (await (await fetch(`${server.url}/api/v1/query_range?${params}`)).json()) as typeof auto;
    expect(auto.data.result.length).toBeGreaterThan(0);
    expect(auto).toEqual(fiveMin);
    expect(auto).not.toEqual(hour);
  });

  it('reads raw data at raw and 0s, and downsampled data differs from it', async () => {
    const raw = await ours(server, 'temperature', 'raw');
    expectSame(await ours(server, 'temperature', '0s'), raw, 'temperature at 0s');
    const hour = await ours(server, 'temperature', '1h');
    expect([...hour.values()].flat()).not.toEqual([...raw.values()].flat());
    // Without the parameter (and without auto downsampling) a query reads raw blocks only.
    const params = new URLSearchParams({
      query: 'temperature',
      start: String(START / 1000),
      end: String(END / 1000),
      step: String(STEP / 1000),
    });
    const plain = (await (await fetch(`${server.url}/api/v1/query_range?${params}`)).json()) as {
      data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    const plainAnswer: Answer = new Map(
      plain.data.result.map((s) => [
        key(s.metric),
        s.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]),
      ]),
    );
    expectSame(plainAnswer, raw, 'temperature without max_source_resolution');
  });

  it('refuses a bad or negative max_source_resolution with bad_data', async () => {
    for (const [given, message] of [
      ['fast', `'max_source_resolution' parameter: cannot parse "fast" to a valid duration`],
      ['-300', `negative 'max_source_resolution' is not accepted. Try a positive integer`],
    ]) {
      const params = new URLSearchParams({ query: 'temperature', time: String(END / 1000) });
      params.set('max_source_resolution', given!);
      const res = await fetch(`${server.url}/api/v1/query?${params}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ status: 'error', errorType: 'bad_data', error: message });
    }
  });
});
