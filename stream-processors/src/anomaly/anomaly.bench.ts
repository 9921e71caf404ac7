/**
 * `npm run bench:anomaly`: the labelled detection benchmark and the cost
 * figures (README, "Benchmark"). Flags: `--set test|tune` (default test, the
 * held-out seeds), `--seed N` (another held-out seed, never tuned on), `--per-kind N`, `--clean N`, `--models a,b`, `--no-quality`,
 * `--no-throughput`.
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ANOMALY_KINDS, generateSet } from './bench/generators.js';
import { BENCH_MODEL_OPTIONS, CONTENDERS, type Contender, runSet } from './bench/run.js';
import { quality } from './bench/scoring.js';
import { newContext } from './context.js';
import { EPISODE_STATE_BYTES, EpisodeTracker } from './episodes.js';
import { type AnomalyModel, DAY_MS, type ModelKind, type ModelOptions, type Scored } from './model.js';
import { createModel } from './models.js';
import { SEASONAL_STATE_BYTES } from './seasonal.js';

/** Seed of the set the constants were tuned on, and of the held-out set reported. */
const SEEDS = { tune: 1, test: 2 } as const;

const { values } = parseArgs({
  options: {
    set: { type: 'string', default: 'test' },
    seed: { type: 'string' },
    'per-kind': { type: 'string', default: '40' },
    clean: { type: 'string', default: '120' },
    models: { type: 'string', default: CONTENDERS.join(',') },
    'no-quality': { type: 'boolean', default: false },
    'no-throughput': { type: 'boolean', default: false },
  },
});

const fmt = (x: number, d = 3) => (Number.isNaN(x) ? '-' : x.toFixed(d));

function qualityTable(): void {
  const set = values.set === 'tune' ? 'tune' : 'test';
  const size = { perKind: Number(values['per-kind']), clean: Number(values.clean) };
  const started = performance.now();
  const seed = values.seed === undefined ? SEEDS[set] : Number(values.seed);
  const series = generateSet(seed, size);
  const contenders = values.models.split(',') as Contender[];
  const result = runSet(series, contenders);
  const secs = (performance.now() - started) / 1000;
  console.log(
    `\nquality on ${values.seed === undefined ? `the ${set} set` : 'another held-out set'} (seed ${seed}): ${series.length} series, ${size.perKind} per kind, ${size.clean} anomaly-free, 14 days of history + 7 evaluated at 1m (${fmt(secs, 1)} s)\n`,
  );
  console.log(
    '| model | rows | precision | recall | F1 | FP/1000 series-days | NAB | median delay (intervals) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of contenders) {
    const tallies = result.get(c)!;
    for (const key of ['all', ...ANOMALY_KINDS, 'clean']) {
      const t = tallies.get(key);
      if (t === undefined) continue;
      const q = quality(t);
      const cleanRow = key === 'clean';
      console.log(
        `| ${c} | ${key} | ${fmt(q.precision)} | ${cleanRow ? '-' : fmt(q.recall)} | ${cleanRow ? '-' : fmt(q.f1)} | ${fmt(q.fpPer1000SeriesDays, 2)} | ${cleanRow ? '-' : fmt(q.nab, 1)} | ${fmt(q.medianDelay, 1)} |`,
      );
    }
  }
}

/** Series scored per second on one core: `series` models, each fed one point per interval. */
async function throughput(): Promise<void> {
  const series = 20_000;
  const ctx = newContext();
  const opts = { ...BENCH_MODEL_OPTIONS, warmupMs: DAY_MS };
  const out: Scored = { score: 0, yhat: 0, lower: 0, upper: 0 };
  console.log('\nthroughput (one core, 1m interval; a loaded shared machine) and state per watched series\n');
  console.log(
    '| model | series scored / s | state bytes / series | memory bytes / series (heap + buffers) |',
  );
  console.log('| --- | --- | --- | --- |');
  const kinds = ['combined', 'robust_z', 'trend'] as const;
  // Memory first, over a 100k-series fleet, after one throw-away round that compiles the constructors.
  await memoryPerSeries('combined', 10_000, opts);
  const memory = new Map<string, number>();
  for (const k of kinds) memory.set(k, await memoryPerSeries(k, 100_000, opts));
  for (const kind of kinds) {
    const perSeries = memory.get(kind)!;
    const models: AnomalyModel[] = [];
    const trackers: EpisodeTracker[] = [];
    for (let i = 0; i < series; i++) {
      models.push(createModel(kind, opts, ctx));
      trackers.push(new EpisodeTracker(kind));
    }
    const t0 = Date.UTC(2026, 0, 5);
    const run = (from: number, rounds: number) => {
      for (let r = from; r < from + rounds; r++) {
        const t = t0 + r * opts.intervalMs;
        for (let i = 0; i < series; i++) {
          const v = 100 + 10 * Math.sin(r / 200 + i) + ((i * 7919 + r * 104729) % 13) / 13;
          if (models[i]!.update(t, v, out)) trackers[i]!.observe(t, v, out);
        }
      }
    };
    run(0, 200);
    const started = performance.now();
    const rounds = 100;
    run(200, rounds);
    const rate = (series * rounds) / ((performance.now() - started) / 1000);
    const stateBytes = models[0]!.state.byteLength + EPISODE_STATE_BYTES;
    console.log(
      `| ${kind} | ${Math.round(rate).toLocaleString('en')} | ${stateBytes} | ${Math.round(perSeries)} |`,
    );
  }
  console.log(
    `\n(seasonal state ${SEASONAL_STATE_BYTES} B + episode tracker ${EPISODE_STATE_BYTES} B; the memory figure includes object headers)`,
  );
}

/** Bytes that stay reachable per watched series (model and episode tracker). */
async function memoryPerSeries(kind: ModelKind, n: number, opts: ModelOptions): Promise<number> {
  const ctx = newContext();
  const before = await heapUsed();
  const kept: [AnomalyModel, EpisodeTracker][] = [];
  for (let i = 0; i < n; i++) kept.push([createModel(kind, opts, ctx), new EpisodeTracker(kind)]);
  const after = await heapUsed();
  return kept.length > 0 ? (after - before) / n : 0;
}

/** A full collection, so the difference of two readings is what stayed reachable. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Heap and ArrayBuffer bytes in use after collecting twice (buffers are freed after their objects, off the main thread). */
async function heapUsed(): Promise<number> {
  for (let i = 0; i < 2; i++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  collect();
  const m = process.memoryUsage();
  // Model state lives in ArrayBuffers, which V8 counts outside the heap.
  return m.heapUsed + m.arrayBuffers;
}

if (!values['no-quality']) qualityTable();
if (!values['no-throughput']) await throughput();
