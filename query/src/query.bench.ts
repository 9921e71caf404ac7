import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, prometheusReference } from '@promstream/testkit';
import { type Answer, compareAnswers, parseAnswer } from '../test/support/api-answer.js';
import { DEFAULT_SHAPE, writeOpenMetrics } from './bench/openmetrics-data.bench.js';
import { startReferencePrometheus } from './bench/prometheus.bench.js';
import { serveBlocks } from './serve-blocks.js';

/**
 * Query latency against Prometheus 3.16 (testkit's reference; the bench
 * fails without it) on identical data: one OpenMetrics file becomes blocks
 * through `promtool tsdb create-blocks-from openmetrics` (for Prometheus)
 * and through `promstream block create-from-openmetrics` (for us); both
 * serve the same fixed query set over HTTP in the same run.
 *
 * Warm: one server each for the whole run; per query one warm-up, then
 * BENCH_RUNS alternating runs, median latency of each side and the ratio.
 * Cold: per query and per run (BENCH_COLD_RUNS), a fresh server on each side
 * (a new process for Prometheus, a new query server with empty caches for
 * us), timed from its ready signal to its first answer, median of the runs.
 * The page cache stays warm for both. Every answer of both sides is compared
 * (status, result type, series, exact timestamps, values within 1e-9 for
 * summation order, warnings); any disagreement is printed and the bench
 * exits non-zero after the figures, so a fast wrong answer never passes as a
 * result. Prints the geometric mean of the ratios (target <= 1.0).
 *
 * Environment: BENCH_INSTANCES (default 100 → about 9,600 series),
 * BENCH_HOURS (6), BENCH_INTERVAL_S (60), BENCH_RUNS (5), BENCH_COLD_RUNS
 * (3, 0 leaves the cold part out), BENCH_KEEP=1 keeps the temporary
 * directory, BENCH_CACHE_BYTES sets the query server's block selection cache
 * (0: every query reads index entries and chunks from the store again;
 * default: the server's default).
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

/** Values may differ in their last bits (summation order); times never may. */
const TOLERANCE = 1e-9;

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}

async function timed(url: string): Promise<{ ms: number; answer: Answer }> {
  const started = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  const ms = performance.now() - started;
  return { ms, answer: parseAnswer(res.status, body) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function row(name: string, ours: number, theirs: number, same: string): string {
  return [
    name.padEnd(20),
    ours.toFixed(1).padStart(14),
    theirs.toFixed(1).padStart(14),
    (ours / theirs).toFixed(2).padStart(8),
    `  ${same}`,
  ].join(' ');
}

/** The table header of a round of queries. */
function header(): void {
  console.log(
    'query'.padEnd(20),
    'promstream ms'.padStart(14),
    'prometheus ms'.padStart(14),
    'ratio'.padStart(8),
    '  same',
  );
}

function geomean(ratios: number[]): number {
  return Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
}

/** Prints how many answers were compared and the disagreements; the exit code. */
function verdict(answers: number, disagreements: string[]): number {
  console.log(`\nanswers compared: ${answers}, disagreements: ${disagreements.length}`);
  if (disagreements.length === 0) return 0;
  for (const d of disagreements.slice(0, 20)) console.error(`  ${d}`);
  console.error('FAILED: the answers disagree with the reference; the figures above do not count');
  return 1;
}

/** Writes the data as OpenMetrics and cuts blocks from it with promtool and with promstream. */
async function prepareBlocks(
  om: string,
  promDir: string,
  oursDir: string,
  shape: typeof DEFAULT_SHAPE,
  promtoolBin: string,
  version: string,
): Promise<void> {
  let t0 = performance.now();
  const { series, samples } = await writeOpenMetrics(om, shape);
  console.log(
    `data: ${series} series, ${samples} samples (${((performance.now() - t0) / 1000).toFixed(1)} s to write)`,
  );

  t0 = performance.now();
  execFileSync(promtoolBin, ['tsdb', 'create-blocks-from', 'openmetrics', '-q', om, promDir], {
    stdio: 'inherit',
  });
  console.log(`promtool ${version} blocks: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  mkdirSync(oursDir, { recursive: true });
  // The command line from source (tsx), so the bench needs no build of the infra package.
  execFileSync(
    process.execPath,
    [join(repo, 'bin', 'promstream.js'), 'block', 'create-from-openmetrics', om, join(oursDir, 'anonymous')],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '--conditions=@promstream/source --import tsx' },
    },
  );
  console.log(`promstream blocks: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function main(): Promise<number> {
  const reference = prometheusReference();
  if (!reference.ok) {
    console.error(`no reference Prometheus: ${reference.reason}`);
    return 2;
  }
  const { prometheus: prometheusBin, promtool: promtoolBin, version } = reference.backend;
  const shape = {
    ...DEFAULT_SHAPE,
    instances: envNumber('BENCH_INSTANCES', DEFAULT_SHAPE.instances),
    spanMs: envNumber('BENCH_HOURS', 6) * 3_600_000,
    intervalMs: envNumber('BENCH_INTERVAL_S', 60) * 1000,
  };
  const runs = envNumber('BENCH_RUNS', 5);
  const coldRuns = envNumber('BENCH_COLD_RUNS', 3);
  const dir = mkdtempSync(join(tmpdir(), 'promstream-query-bench-'));
  const om = join(dir, 'data.om');
  const promDir = join(dir, 'prometheus');
  const oursDir = join(dir, 'ours');
  const cacheBytes =
    process.env.BENCH_CACHE_BYTES === undefined || process.env.BENCH_CACHE_BYTES === ''
      ? undefined
      : Number(process.env.BENCH_CACHE_BYTES);
  const startOurs = async () =>
    serveBlocks({ store: `file://${oursDir}`, port: await freePort(), host: '127.0.0.1', cacheBytes });
  const startTheirs = async () => startReferencePrometheus(prometheusBin, promDir, await freePort());
  const disagreements: string[] = [];
  const check = (where: string, ours: Answer, theirs: Answer): string => {
    const d = compareAnswers(where, ours, theirs, { tolerance: TOLERANCE });
    if (theirs.status !== 'success') d.push(`${where}: the reference answered an error`);
    disagreements.push(...d);
    return d.length === 0 ? 'yes' : `NO: ${(d[0] as string).slice(0, 160)}`;
  };
  try {
    await prepareBlocks(om, promDir, oursDir, shape, promtoolBin, version);

    // Evaluation times on the minute, where samples sit: window edges are exercised.
    const end = Math.floor((shape.startMs + shape.spanMs) / 60_000) * 60 - 60;
    const start = end - 2 * 3600;
    const path = (expr: string) =>
      `/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${start}&end=${end}&step=60`;

    const ours = await startOurs();
    const prom = await startTheirs();
    const warmRatios: number[] = [];
    try {
      console.log(
        `\nwarm: range queries over the last 2 h at a 60 s step against prometheus ${version}, median of ${runs} runs\n`,
      );
      header();
      for (const q of QUERIES) {
        const oursMs: number[] = [];
        const promMs: number[] = [];
        // One warm-up each, then alternate so both see the same machine load.
        await timed(`${ours.url}${path(q.expr)}`);
        await timed(`${prom.url}${path(q.expr)}`);
        let same = 'yes';
        for (let i = 0; i < runs; i++) {
          const a = await timed(`${ours.url}${path(q.expr)}`);
          const b = await timed(`${prom.url}${path(q.expr)}`);
          oursMs.push(a.ms);
          promMs.push(b.ms);
          const s = check(`warm ${q.name} run ${i + 1}`, a.answer, b.answer);
          if (same === 'yes') same = s;
        }
        warmRatios.push(median(oursMs) / median(promMs));
        console.log(row(q.name, median(oursMs), median(promMs), same));
      }
      console.log(
        `\nwarm: geometric mean of ratios (promstream / prometheus ${version}): ${geomean(warmRatios).toFixed(2)} (target <= 1.0)`,
      );
    } finally {
      await ours.close();
      await prom.stop();
    }

    if (coldRuns > 0) {
      console.log(
        `\ncold: a fresh server per query on each side, time from ready to the first answer, median of ${coldRuns} runs\n`,
      );
      header();
      const coldRatios: number[] = [];
      for (const q of QUERIES) {
        const oursMs: number[] = [];
        const promMs: number[] = [];
        let same = 'yes';
        for (let i = 0; i < coldRuns; i++) {
          // Alternate which side starts first.
          const sides = i % 2 === 0 ? (['ours', 'theirs'] as const) : (['theirs', 'ours'] as const);
          const answers: Partial<Record<'ours' | 'theirs', Answer>> = {};
          for (const side of sides) {
            const server = side === 'ours' ? await startOurs() : await startTheirs();
            try {
              const r = await timed(`${server.url}${path(q.expr)}`);
              (side === 'ours' ? oursMs : promMs).push(r.ms);
              answers[side] = r.answer;
            } finally {
              await ('stop' in server ? server.stop() : server.close());
            }
          }
          const s = check(`cold ${q.name} run ${i + 1}`, answers.ours as Answer, answers.theirs as Answer);
          if (same === 'yes') same = s;
        }
        coldRatios.push(median(oursMs) / median(promMs));
        console.log(row(q.name, median(oursMs), median(promMs), same));
      }
      console.log(
        `\ncold: geometric mean of ratios (promstream / prometheus ${version}): ${geomean(coldRatios).toFixed(2)} (target <= 1.0)`,
      );
    }
    return verdict(QUERIES.length * (runs + coldRuns), disagreements);
  } finally {
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
