import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@promstream/testkit';
import { diffResults, type QueryData } from './bench/compare.bench.js';
import { DEFAULT_SHAPE, writeOpenMetrics } from './bench/openmetrics-data.bench.js';
import { startReferencePrometheus } from './bench/prometheus.bench.js';
import { serveBlocks } from './serve-blocks.js';

/**
 * Query latency against Debian's Prometheus on identical data: one
 * OpenMetrics file becomes blocks through `promtool tsdb
 * create-blocks-from openmetrics` (for Prometheus) and through `promstream
 * block create-from-openmetrics` (for us); both serve the same fixed query
 * set over HTTP in the same run. Prints per query the median latency of
 * each, their ratio and whether the answers agree, then the geometric mean
 * of the ratios (target <= 1.0).
 *
 * Environment: BENCH_INSTANCES (default 100 → about 9,600 series),
 * BENCH_HOURS (6), BENCH_INTERVAL_S (60), BENCH_RUNS (5), BENCH_KEEP=1 keeps
 * the temporary directory, BENCH_CACHE_BYTES sets the query server's block
 * selection cache (0: every query reads index entries and chunks from the
 * store again; default: the server's default).
 */

const QUERIES: Array<{ name: string; expr: string }> = [
  { name: 'rate', expr: 'rate(bench_cpu_seconds_total[5m])' },
  { name: 'sum by', expr: 'sum by (path) (rate(bench_requests_total[5m]))' },
  {
    name: 'histogram_quantile',
    expr: 'histogram_quantile(0.9, sum by (le) (rate(bench_request_duration_seconds_bucket[5m])))',
  },
  { name: 'topk', expr: 'topk(5, bench_memory_bytes)' },
  { name: 'subquery', expr: 'max_over_time(sum(rate(bench_requests_total{code="500"}[5m]))[30m:1m])' },
  { name: 'regex selector', expr: 'bench_requests_total{path=~"/p1.*",code!~"2.."}' },
  {
    name: 'group_left',
    expr: 'bench_memory_bytes * on (instance) group_left (version) bench_instance_info',
  },
];

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}

async function timed(url: string): Promise<{ ms: number; data: QueryData }> {
  const started = performance.now();
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: QueryData; error?: string };
  const ms = performance.now() - started;
  if (body.status !== 'success') throw new Error(`${url}: ${body.error}`);
  return { ms, data: body.data };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const prometheusBin = process.env.PROMETHEUS ?? 'prometheus';
  const promtoolBin = process.env.PROMTOOL ?? 'promtool';
  const shape = {
    ...DEFAULT_SHAPE,
    instances: envNumber('BENCH_INSTANCES', DEFAULT_SHAPE.instances),
    spanMs: envNumber('BENCH_HOURS', 6) * 3_600_000,
    intervalMs: envNumber('BENCH_INTERVAL_S', 60) * 1000,
  };
  const runs = envNumber('BENCH_RUNS', 5);
  const dir = mkdtempSync(join(tmpdir(), 'promstream-query-bench-'));
  const om = join(dir, 'data.om');
  const promDir = join(dir, 'prometheus');
  const oursDir = join(dir, 'ours');
  try {
    let t0 = performance.now();
    const { series, samples } = await writeOpenMetrics(om, shape);
    console.log(
      `data: ${series} series, ${samples} samples (${((performance.now() - t0) / 1000).toFixed(1)} s to write)`,
    );

    t0 = performance.now();
    execFileSync(promtoolBin, ['tsdb', 'create-blocks-from', 'openmetrics', '-q', om, promDir], {
      stdio: 'inherit',
    });
    console.log(`promtool blocks: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    mkdirSync(oursDir, { recursive: true });
    // The command line from source (tsx), so the bench needs no build of the infra package.
    execFileSync(
      process.execPath,
      [
        join(repo, 'bin', 'promstream.js'),
        'block',
        'create-from-openmetrics',
        om,
        join(oursDir, 'anonymous'),
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, NODE_OPTIONS: '--conditions=@promstream/source --import tsx' },
      },
    );
    console.log(`promstream blocks: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const prom = await startReferencePrometheus(prometheusBin, promDir, await freePort());
    const cacheBytes = process.env.BENCH_CACHE_BYTES;
    const ours = await serveBlocks({
      store: `file://${oursDir}`,
      port: await freePort(),
      host: '127.0.0.1',
      cacheBytes: cacheBytes === undefined || cacheBytes === '' ? undefined : Number(cacheBytes),
    });
    try {
      // Evaluation times at :30 of each minute, never on a sample (see the data shape's startMs).
      const end = Math.floor((shape.startMs + shape.spanMs) / 60_000) * 60 - 30;
      const start = end - 2 * 3600;
      const ratios: number[] = [];
      let disagreements = 0;
      console.log(`\nrange queries over the last 2 h at a 60 s step, median of ${runs} runs\n`);
      console.log(
        'query'.padEnd(20),
        'promstream ms'.padStart(14),
        'prometheus ms'.padStart(14),
        'ratio'.padStart(8),
        '  same',
      );
      for (const q of QUERIES) {
        const qs = `query=${encodeURIComponent(q.expr)}&start=${start}&end=${end}&step=60`;
        const oursMs: number[] = [];
        const promMs: number[] = [];
        let oursData: QueryData | undefined;
        let promData: QueryData | undefined;
        // One warm-up each, then alternate so both see the same machine load.
        await timed(`${ours.url}/api/v1/query_range?${qs}`);
        await timed(`${prom.url}/api/v1/query_range?${qs}`);
        for (let i = 0; i < runs; i++) {
          const a = await timed(`${ours.url}/api/v1/query_range?${qs}`);
          const b = await timed(`${prom.url}/api/v1/query_range?${qs}`);
          oursMs.push(a.ms);
          promMs.push(b.ms);
          oursData = a.data;
          promData = b.data;
        }
        const diff = diffResults(oursData!, promData!, 1e-9);
        if (diff !== undefined) disagreements++;
        const ratio = median(oursMs) / median(promMs);
        ratios.push(ratio);
        console.log(
          q.name.padEnd(20),
          median(oursMs).toFixed(1).padStart(14),
          median(promMs).toFixed(1).padStart(14),
          ratio.toFixed(2).padStart(8),
          diff === undefined ? '  yes' : `  NO: ${diff.slice(0, 160)}`,
        );
      }
      const geomean = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
      console.log(
        `\ngeometric mean of ratios (promstream / prometheus): ${geomean.toFixed(2)} (target <= 1.0)`,
      );
      console.log(`answers that agree: ${QUERIES.length - disagreements} of ${QUERIES.length}`);
    } finally {
      await ours.close();
      await prom.stop();
    }
  } finally {
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
