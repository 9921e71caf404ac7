/**
 * Runs every model and baseline over a generated seed set and tallies the
 * quality per model, overall, per anomaly kind and on the anomaly-free
 * series. Alerts go through the same `EpisodeTracker` the online role and
 * the backtest use.
 */
import { newContext } from '../context.js';
import { type Episode, EpisodeTracker } from '../episodes.js';
import { DAY_MS, MODEL_KINDS, type ModelKind, type ModelOptions, type Scored } from '../model.js';
import { createModel } from '../models.js';
import { RollingZ, type Scorer, StaticThreshold } from './baselines.js';
import { EVAL_DAYS, type GeneratedSeries, INTERVAL_MS, TRAIN_DAYS } from './generators.js';
import { newTally, scoreSeries, type Tally } from './scoring.js';

/** The baselines' names. */
export const BASELINES = ['static_threshold', 'rolling_3sigma'] as const;
/** A model or a baseline. */
export type Contender = ModelKind | (typeof BASELINES)[number];
/** Every contender, models first. */
export const CONTENDERS: readonly Contender[] = [...MODEL_KINDS, ...BASELINES];

/** Options of the benchmark's models: two weeks of warm-up at 1m. */
export const BENCH_MODEL_OPTIONS: ModelOptions = {
  intervalMs: INTERVAL_MS,
  warmupMs: TRAIN_DAYS * DAY_MS,
  sensitivity: 1,
  maxGapMs: 30 * 60_000,
};

/** Tallies of one contender: all series, each kind, and the anomaly-free series. */
export type Tallies = Map<string, Tally>;

/** A new scorer of `c`. */
export function makeScorer(c: Contender, opts: ModelOptions): Scorer {
  if (c === 'static_threshold') return new StaticThreshold(opts);
  if (c === 'rolling_3sigma') return new RollingZ(opts);
  return createModel(c, opts, newContext());
}

/**
 * What a model is fed: gauges as scraped, counters as their per-interval
 * increase over the time since the last scrape, a drop counted as a reset
 * (PromQL's rate() rule). NaN where nothing was scraped.
 */
export function modelInput(s: GeneratedSeries): Float64Array {
  if (!s.counter) return s.scraped;
  const out = new Float64Array(s.scraped.length).fill(Number.NaN);
  let prev = Number.NaN;
  let prevI = -1;
  for (let i = 0; i < s.scraped.length; i++) {
    const c = s.scraped[i]!;
    if (Number.isNaN(c)) continue;
    if (prevI >= 0) out[i] = (c >= prev ? c - prev : c) / (i - prevI);
    prev = c;
    prevI = i;
  }
  return out;
}

/** The episodes `c` finds in the evaluation period of `s`. */
export function episodesOf(
  c: Contender,
  s: GeneratedSeries,
  input: Float64Array,
  opts: ModelOptions,
): Episode[] {
  const scorer = makeScorer(c, opts);
  const tracker = new EpisodeTracker(c === 'static_threshold' || c === 'rolling_3sigma' ? 'combined' : c);
  const out: Scored = { score: 0, yhat: 0, lower: 0, upper: 0 };
  const episodes: Episode[] = [];
  for (let i = 0; i < input.length; i++) {
    const t = s.t0 + i * s.intervalMs;
    const v = input[i]!;
    if (!scorer.update(t, v, out) || t < s.evalStart) continue;
    const e = tracker.observe(t, v, out);
    if (e !== undefined) episodes.push(e);
  }
  const last = tracker.flush();
  if (last !== undefined) episodes.push(last);
  return episodes;
}

/** Runs `contenders` over `series`; tallies keyed `all`, each kind, and `clean`. */
export function runSet(
  series: readonly GeneratedSeries[],
  contenders: readonly Contender[],
  opts: ModelOptions = BENCH_MODEL_OPTIONS,
): Map<Contender, Tallies> {
  const result = new Map<Contender, Tallies>();
  for (const c of contenders) result.set(c, new Map());
  for (const s of series) {
    const input = modelInput(s);
    for (const c of contenders) {
      const tallies = result.get(c)!;
      const episodes = episodesOf(c, s, input, opts);
      for (const key of ['all', s.kind]) {
        let t = tallies.get(key);
        if (t === undefined) tallies.set(key, (t = newTally()));
        scoreSeries(s, episodes, EVAL_DAYS, t);
      }
    }
  }
  return result;
}
