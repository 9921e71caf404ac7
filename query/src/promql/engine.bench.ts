import { MemoryQuerier } from '../memory-querier.js';
import { Engine } from './engine.js';

/**
 * Engine-only latency on in-memory data (no storage decoding): a named data
 * shape of BENCH_SERIES counters (default 10,000) over 6 hours at 30 s, with
 * `job`, `instance` and `path` labels and a classic histogram for 1 in 10
 * instances. Prints per query the median of BENCH_RUNS runs for an instant
 * query at the end and a range query over the last hour at 60 s steps.
 * The comparison with Prometheus on identical blocks is `query.bench.ts`.
 */

const SERIES = Number(process.env.BENCH_SERIES ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HOURS = 6;
const INTERVAL = 30_000;
const POINTS = (HOURS * 3600_000) / INTERVAL;

function load(): MemoryQuerier {
  const q = new MemoryQuerier();
  for (let s = 0; s < SERIES; s++) {
    const labels = [
      { name: '__name__', value: 'bench_requests_total' },
      { name: 'instance', value: `i${s % 500}` },
      { name: 'job', value: `job${s % 10}` },
      { name: 'path', value: `/p${Math.floor(s / 500)}` },
    ];
    let v = 0;
    for (let i = 0; i < POINTS; i++) {
      v += (s % 7) + 1;
      q.appendFloat(labels, i * INTERVAL, v);
    }
  }
  for (let inst = 0; inst < 50; inst++) {
    for (const le of ['0.1', '0.5', '1', '+Inf']) {
      const labels = [
        { name: '__name__', value: 'bench_duration_seconds_bucket' },
        { name: 'instance', value: `i${inst}` },
        { name: 'le', value: le },
      ];
      const w = le === '+Inf' ? 10 : Number(le) * 8;
      for (let i = 0; i < POINTS; i++) q.appendFloat(labels, i * INTERVAL, i * w);
    }
  }
  return q;
}

const QUERIES = [
  'rate(bench_requests_total[5m])',
  'sum by (job) (rate(bench_requests_total[5m]))',
  'histogram_quantile(0.9, sum by (le) (rate(bench_duration_seconds_bucket[5m])))',
  'topk(5, bench_requests_total)',
  'max_over_time(sum(rate(bench_requests_total{job="job1"}[5m]))[30m:1m])',
  'bench_requests_total{path=~"/p1.*"}',
  'bench_requests_total / on (instance, job, path) group_left bench_requests_total',
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const q = load();
  console.log(
    `loaded ${SERIES} series x ${POINTS} points in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const engine = new Engine();
  const end = (POINTS - 1) * INTERVAL;
  console.log('query | instant ms | range 1h/60s ms');
  for (const expr of QUERIES) {
    const inst: number[] = [];
    const range: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      let s = performance.now();
      await engine.instantQuery(q, expr, end);
      inst.push(performance.now() - s);
      s = performance.now();
      await engine.rangeQuery(q, expr, end - 3600_000, end, 60_000);
      range.push(performance.now() - s);
    }
    console.log(`${expr} | ${median(inst).toFixed(1)} | ${median(range).toFixed(1)}`);
  }
}

await main();
