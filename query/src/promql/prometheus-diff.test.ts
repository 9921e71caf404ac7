import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Labels } from '@promstream/storage';
import { announceSkip, findTool, freePort, waitForPort } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floatPoints, type QueryResult } from '../engine-types.js';
import { MemoryQuerier } from '../memory-querier.js';
import { Engine } from './engine.js';

/**
 * Differential test against Debian's Prometheus: one data set goes into
 * Prometheus as TSDB blocks (through `promtool tsdb create-blocks-from
 * openmetrics`) and into our in-memory querier; a fixed set of queries must
 * give the same answers from both.
 *
 * The installed Prometheus is 2.x, whose ranges are left-closed where
 * Prometheus 3 is left-open; samples sit 7 s off the query grid, and
 * subquery ranges are chosen so their left edge misses the subquery's step
 * grid, so that no point falls on a window edge and both semantics agree. Counters start
 * high so that rate's zero-point rule (ordered differently in 2.x) never
 * applies.
 */

const STEP = 15_000;
const POINTS = 480; // two hours
const OFFSET = 7_000;

interface SeriesDef {
  labels: Labels;
  value: (i: number) => number;
}

function seriesDefs(): SeriesDef[] {
  const out: SeriesDef[] = [];
  const l = (name: string, extra: Record<string, string>): Labels =>
    [
      { name: '__name__', value: name },
      ...Object.entries(extra).map(([n, v]) => ({ name: n, value: v })),
    ].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const job of ['api', 'db']) {
    for (const inst of ['0', '1', '2']) {
      const k = Number(inst) + (job === 'db' ? 3 : 0);
      out.push({
        labels: l('diff_requests_total', { job, instance: inst }),
        // A counter with a reset in the middle for one series.
        value: (i) => (k === 4 && i > 200 ? 1_000_000 + (i - 200) * 3 : 1_000_000 + i * (k + 1) + (i % 7)),
      });
      out.push({
        labels: l('diff_memory_bytes', { job, instance: inst }),
        value: (i) => 100 + k * 10 + Math.sin(i / 10) * 20,
      });
      for (const le of ['0.1', '0.5', '1', '+Inf']) {
        const w = le === '+Inf' ? 10 : Number(le) * (6 + k);
        out.push({
          labels: l('diff_latency_seconds_bucket', { job, instance: inst, le }),
          value: (i) => 1_000_000 + Math.floor(i * w),
        });
      }
    }
    out.push({ labels: l('diff_info', { job, version: job === 'api' ? 'v1' : 'v2' }), value: () => 1 });
  }
  return out;
}

const INSTANT = [
  'diff_requests_total',
  'rate(diff_requests_total[5m])',
  'increase(diff_requests_total[10m])',
  'irate(diff_requests_total[1m])',
  'sum by (job) (rate(diff_requests_total[5m]))',
  'avg without (instance) (diff_memory_bytes)',
  'max(diff_memory_bytes) - min(diff_memory_bytes)',
  'stddev by (job) (diff_memory_bytes)',
  'quantile(0.75, diff_memory_bytes)',
  'count_values("v", round(diff_memory_bytes / 10))',
  'topk(2, diff_memory_bytes)',
  'bottomk(1, diff_memory_bytes) by (job)',
  'histogram_quantile(0.9, sum by (job, le) (rate(diff_latency_seconds_bucket[5m])))',
  'histogram_quantile(0.5, rate(diff_latency_seconds_bucket[10m]))',
  'diff_memory_bytes * on (job) group_left (version) diff_info',
  'diff_memory_bytes > 110',
  'diff_memory_bytes > bool 110',
  'diff_requests_total and diff_memory_bytes > 120',
  'diff_memory_bytes unless on (job) diff_info{version="v1"}',
  'max_over_time(diff_memory_bytes[10m])',
  'avg_over_time(diff_memory_bytes[10m])',
  'quantile_over_time(0.9, diff_memory_bytes[10m])',
  'stdvar_over_time(diff_memory_bytes[10m])',
  'changes(diff_memory_bytes[10m])',
  'resets(diff_requests_total[2h])',
  'deriv(diff_memory_bytes[10m])',
  'predict_linear(diff_memory_bytes[10m], 600)',
  'delta(diff_memory_bytes[10m])',
  'max_over_time(rate(diff_requests_total[2m])[5m30s:1m])',
  'diff_memory_bytes offset 10m',
  'rate(diff_requests_total[5m] offset 30m)',
  'label_replace(diff_memory_bytes, "x", "$1", "instance", "(.*)")',
  'label_join(diff_info, "jv", "-", "job", "version")',
  'clamp(diff_memory_bytes, 100, 120)',
  'abs(-diff_memory_bytes) + ln(diff_memory_bytes)',
  'timestamp(diff_memory_bytes)',
  'absent(nonexistent{job="x"})',
  'scalar(sum(diff_info)) * vector(2)',
  'sum(diff_memory_bytes{job=~"a.*|d."}) by (instance)',
  'count(diff_memory_bytes{instance!~"0|1"})',
  'group by (job) (diff_memory_bytes)',
  'sgn(deriv(diff_memory_bytes[5m]))',
  'time() - timestamp(diff_info)',
  'absent_over_time(nonexistent[5m])',
  'present_over_time(diff_info[5m])',
  'last_over_time(diff_memory_bytes[5m])',
  'count_over_time(diff_memory_bytes[10m])',
  'sum_over_time(diff_memory_bytes[10m])',
  'min_over_time(diff_memory_bytes[10m] offset 5m)',
  'diff_memory_bytes @ ' + '__AT__',
  'rate(diff_requests_total[5m] @ __AT__)',
  'sum_over_time(diff_memory_bytes[10m15s:30s] offset 1m)',
  'avg_over_time(max by (job) (diff_memory_bytes)[20m30s:2m])',
  'diff_memory_bytes % 7 + diff_memory_bytes ^ 0.5 - (diff_memory_bytes atan2 50)',
  'sum by (job) (diff_memory_bytes) / ignoring (version) group_right diff_info',
  'diff_memory_bytes or on (job) diff_info',
  'count by (job) (diff_memory_bytes > 100)',
  'sum without (instance, job) (diff_memory_bytes)',
  'hour(vector(time())) + minute() + day_of_week() + days_in_month() + year(vector(1700000000))',
  'round(diff_memory_bytes, 5)',
  'floor(diff_memory_bytes) != ceil(diff_memory_bytes)',
  'vector(time()) - on () group_left max(timestamp(diff_memory_bytes))',
  'max by (job) (rate(diff_requests_total[3m])) > bool on (job) avg by (job) (rate(diff_requests_total[3m]))',
  'quantile by (job) (0.5, rate(diff_latency_seconds_bucket[5m]))',
  'stddev_over_time(rate(diff_requests_total[1m])[10m10s:15s])',
];

const RANGE = [
  'rate(diff_requests_total[5m])',
  'sum by (job) (increase(diff_requests_total[10m]))',
  'histogram_quantile(0.9, sum by (le) (rate(diff_latency_seconds_bucket[5m])))',
  'topk(1, diff_memory_bytes)',
  'diff_memory_bytes / on (job) group_left sum by (job) (diff_memory_bytes)',
];

function canonical(r: QueryResult): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const key = (ls: Labels) => ls.map((l) => `${l.name}=${l.value}`).join(',');
  const v = r.value;
  if (v.resultType === 'vector') for (const s of v.result) out.set(key(s.metric), [s.f]);
  else if (v.resultType === 'scalar') out.set('', [v.result.f]);
  else if (v.resultType === 'matrix')
    for (const s of v.result)
      out.set(
        key(s.metric),
        floatPoints(s).flatMap((p) => [p.t, p.f]),
      );
  return out;
}

interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

function canonicalProm(data: {
  resultType: string;
  result: PromSample[] | [number, string];
}): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const key = (m: Record<string, string>) =>
    Object.entries(m)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([n, v]) => `${n}=${v}`)
      .join(',');
  if (data.resultType === 'scalar') {
    const [, v] = data.result as [number, string];
    out.set('', [Number(v)]);
    return out;
  }
  for (const s of data.result as PromSample[]) {
    if (s.value) out.set(key(s.metric), [Number(s.value[1])]);
    if (s.values)
      out.set(
        key(s.metric),
        s.values.flatMap(([t, v]) => [Math.round(t * 1000), Number(v)]),
      );
  }
  return out;
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

describe('engine against Prometheus on identical data', () => {
  const prometheus = findTool('prometheus');
  const promtool = findTool('promtool');
  const missing = !prometheus || !promtool;
  let proc: ChildProcess | undefined;
  let dir = '';
  let url = '';
  const q = new MemoryQuerier();
  // Start two hours in the past on a whole hour, so the blocks are old enough for promtool.
  const base = Math.floor((Date.now() - 4 * 3600_000) / 3600_000) * 3600_000;
  const evalTimes = [base + 30 * 60_000, base + 60 * 60_000, base + 119 * 60_000];

  beforeAll(async () => {
    if (missing) return;
    dir = mkdtempSync(join(tmpdir(), 'promstream-diff-'));
    let om = '';
    const defs = seriesDefs();
    for (const d of defs) {
      const name = d.labels.find((l) => l.name === '__name__')?.value ?? '';
      const rest = d.labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}="${l.value}"`);
      for (let i = 0; i < POINTS; i++) {
        const t = base + OFFSET + i * STEP;
        const v = d.value(i);
        q.appendFloat(d.labels, t, v);
        om += `${name}{${rest.join(',')}} ${v} ${t / 1000}\n`;
      }
    }
    om += '# EOF\n';
    writeFileSync(join(dir, 'data.om'), om);
    execFileSync(promtool as string, [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      '-q',
      join(dir, 'data.om'),
      join(dir, 'data'),
    ]);
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
    const port = await freePort();
    proc = spawn(
      prometheus as string,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        '--storage.tsdb.retention.time=30d',
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    await waitForPort('127.0.0.1', port, 30_000);
    url = `http://127.0.0.1:${port}`;
    // Wait until the blocks are loaded and the query API answers.
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${url}/api/v1/query?query=count(diff_info)&time=${evalTimes[0]! / 1000}`).catch(
        () => undefined,
      );
      if (r?.ok) {
        const body = (await r.json()) as { data: { result: unknown[] } };
        if (body.data.result.length > 0) break;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  }, 120_000);

  afterAll(() => {
    proc?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function prom(path: string, params: Record<string, string>): Promise<Map<string, number[]>> {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: new URLSearchParams(params) });
    const body = (await res.json()) as {
      status: string;
      data: { resultType: string; result: PromSample[] };
      error?: string;
    };
    if (body.status !== 'success') throw new Error(`prometheus: ${body.error}`);
    return canonicalProm(body.data);
  }

  function diff(expr: string, ours: Map<string, number[]>, theirs: Map<string, number[]>): string[] {
    const problems: string[] = [];
    for (const [k, v] of theirs) {
      const o = ours.get(k);
      if (!o) problems.push(`${expr}: missing ${k}`);
      else if (o.length !== v.length || o.some((x, i) => !close(x, v[i] as number)))
        problems.push(`${expr}: ${k}: ours ${o.slice(0, 6).join(' ')} vs ${v.slice(0, 6).join(' ')}`);
    }
    for (const k of ours.keys()) if (!theirs.has(k)) problems.push(`${expr}: extra ${k}`);
    return problems;
  }

  it('gives the same instant results', async () => {
    if (missing) {
      announceSkip('engine vs Prometheus', 'prometheus or promtool is not installed');
      return;
    }
    const engine = new Engine();
    const problems: string[] = [];
    for (const expr of INSTANT) {
      for (const t of evalTimes) {
        const text = expr.replaceAll('__AT__', String((base + 45 * 60_000) / 1000));
        const ours = canonical(await engine.instantQuery(q, text, t));
        const theirs = await prom('/api/v1/query', { query: text, time: String(t / 1000) });
        problems.push(...diff(`${expr} @${(t - base) / 60_000}m`, ours, theirs));
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives the same range results', async () => {
    if (missing) return;
    const engine = new Engine();
    const problems: string[] = [];
    const start = base + 20 * 60_000;
    const end = base + 110 * 60_000;
    for (const expr of RANGE) {
      const ours = canonical(await engine.rangeQuery(q, expr, start, end, 60_000));
      const theirs = await prom('/api/v1/query_range', {
        query: expr,
        start: String(start / 1000),
        end: String(end / 1000),
        step: '60',
      });
      problems.push(...diff(expr, ours, theirs));
    }
    expect(problems).toEqual([]);
  });
});
