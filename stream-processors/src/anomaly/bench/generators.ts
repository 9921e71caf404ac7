/**
 * Seeded generators of realistic labelled series for the anomaly benchmark
 * (README, "Benchmark"). Each series is three weeks at 1m: two weeks of
 * anomaly-free history to learn from, then one evaluation week that may carry
 * injected anomalies of one kind, each with its labelled window.
 *
 * Shape: a level, a daily profile (a peak at a random hour plus a second
 * harmonic), a weekend that damps the day and lowers the level, sometimes a
 * trend; noise of one of five shapes at 2-5% of the daily amplitude; missing
 * scrapes (scattered and in gaps); some series are counters with resets, read
 * back as a per-interval rate the way PromQL's rate() reads them.
 */
import { DAY_MS, HOUR_MS, WEEK_MS } from '../model.js';
import { Random } from './random.js';

/** Kinds of injected anomaly. */
export const ANOMALY_KINDS = [
  'spike',
  'dip',
  'level_shift',
  'variance',
  'seasonality_break',
  'drift',
] as const;
/** An injected anomaly's kind. */
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];
/** Noise shapes. */
export const NOISE_SHAPES = ['gaussian', 'laplace', 'ar1', 'multiplicative', 'poisson'] as const;
/** A noise shape. */
export type NoiseShape = (typeof NOISE_SHAPES)[number];

/** One labelled anomaly: what was injected and the window an alert must fall in. */
export interface LabelledWindow {
  kind: AnomalyKind;
  /** First and last anomalous point (ms). */
  start: number;
  end: number;
  /** The window's end (ms): `end` plus a grace of max(10 intervals, 10% of the span). */
  windowEnd: number;
}

/** One generated series. */
export interface GeneratedSeries {
  name: string;
  /** The kind injected, or 'clean' for an anomaly-free series. */
  kind: AnomalyKind | 'clean';
  noise: NoiseShape;
  /** Whether `scraped` is a counter (with resets) rather than a gauge. */
  counter: boolean;
  t0: number;
  intervalMs: number;
  /** What a scrape saw at t0 + i * interval; NaN where the scrape is missing. */
  scraped: Float64Array;
  /** Evaluation starts here (ms); anomalies and alerts count only from here. */
  evalStart: number;
  windows: LabelledWindow[];
}

/** The benchmark's interval. */
export const INTERVAL_MS = 60_000;
/** Monday 2026-01-05T00:00:00Z. */
export const BENCH_T0 = Date.UTC(2026, 0, 5);
/** Days of history before the evaluation week. */
export const TRAIN_DAYS = 14;
/** Days evaluated. */
export const EVAL_DAYS = 7;

/** Series per anomaly kind and clean series in one seed set. */
export interface SetSize {
  perKind: number;
  clean: number;
}

/** Every series of seed set `seed`: `perKind` of each kind, then `clean` anomaly-free ones. */
export function generateSet(seed: number, size: SetSize): GeneratedSeries[] {
  const out: GeneratedSeries[] = [];
  let i = 0;
  for (const kind of ANOMALY_KINDS) {
    for (let k = 0; k < size.perKind; k++) out.push(generateSeries(seed * 100_003 + i++, kind));
  }
  for (let k = 0; k < size.clean; k++) out.push(generateSeries(seed * 100_003 + i++, 'clean'));
  return out;
}

/** The shape of one series, drawn once. */
interface Shape {
  level: number;
  amp: number;
  peakHour: number;
  harmonic: number;
  harmonicHour: number;
  weekendFactor: number;
  weekendDrop: number;
  slopePerMs: number;
  sigma: number;
  noise: NoiseShape;
}

function drawShape(r: Random): Shape {
  const noise = r.pick(NOISE_SHAPES);
  const level = noise === 'poisson' ? r.uniform(2000, 20000) : r.uniform(50, 500);
  const amp = level * r.uniform(0.2, 0.6);
  return {
    level,
    amp,
    peakHour: r.uniform(9, 17),
    harmonic: r.uniform(0, 0.4),
    harmonicHour: r.uniform(0, 24),
    weekendFactor: r.uniform(0.3, 1),
    weekendDrop: r.uniform(0, 0.2) * amp,
    slopePerMs: r.next() < 0.3 ? ((r.next() < 0.5 ? -1 : 1) * r.uniform(0.05, 0.3) * amp) / WEEK_MS : 0,
    sigma: amp * r.uniform(0.02, 0.05),
    noise,
  };
}

/** The anomaly-free expectation of a shape at time t, with the daily part shifted by `shiftH` hours. */
function seasonal(sh: Shape, t: number, shiftH: number): number {
  const hour = (((t - BENCH_T0) % DAY_MS) / HOUR_MS + 24 - shiftH) % 24;
  const w = weekendWeight(t);
  const daily =
    Math.cos((2 * Math.PI * (hour - sh.peakHour)) / 24) +
    sh.harmonic * Math.cos((4 * Math.PI * (hour - sh.harmonicHour)) / 24);
  return (1 - w + w * sh.weekendFactor) * sh.amp * 0.5 * daily - w * sh.weekendDrop;
}

/** How much of the weekend shape applies at t: 0 on weekdays, 1 at weekends, ramping over the 4 hours around midnight. */
function weekendWeight(t: number): number {
  const h = ((t - BENCH_T0) % WEEK_MS) / HOUR_MS;
  const ramp = (x: number) => Math.min(1, Math.max(0, (x + 2) / 4));
  return Math.min(ramp(h - 120), 1 - ramp(h - 168));
}

/** Draws the anomalies of one series: 1 or 2, at least 12h apart, inside the evaluation week. */
function drawWindows(r: Random, kind: AnomalyKind | 'clean', evalStart: number): LabelledWindow[] {
  if (kind === 'clean') return [];
  const spans: Record<AnomalyKind, [number, number]> = {
    spike: [1, 3],
    dip: [1, 15],
    level_shift: [60, 480],
    variance: [60, 360],
    seasonality_break: [240, 720],
    drift: [120, 480],
  };
  const count = r.int(1, 2);
  const out: LabelledWindow[] = [];
  const slot = (EVAL_DAYS * DAY_MS) / count;
  for (let k = 0; k < count; k++) {
    const [lo, hi] = spans[kind];
    const span = r.int(lo, hi);
    const earliest = evalStart + k * slot + 2 * HOUR_MS;
    const latest = evalStart + (k + 1) * slot - span * INTERVAL_MS - 12 * HOUR_MS;
    const start = earliest + Math.floor(r.uniform(0, latest - earliest) / INTERVAL_MS) * INTERVAL_MS;
    const end = start + (span - 1) * INTERVAL_MS;
    const grace = Math.max(10, Math.ceil(0.1 * span)) * INTERVAL_MS;
    out.push({ kind, start, end, windowEnd: end + grace });
  }
  return out;
}

/** What an anomaly does to the value at t: new seasonal shift, added offset and noise factor. */
interface Effect {
  shiftH: number;
  flat: boolean;
  offset: number;
  noiseFactor: number;
}

function effectAt(
  w: LabelledWindow[],
  params: number[],
  t: number,
  base: number,
  sh: Shape,
  e: Effect,
): void {
  e.shiftH = 0;
  e.flat = false;
  e.offset = 0;
  e.noiseFactor = 1;
  for (let k = 0; k < w.length; k++) {
    const a = w[k]!;
    if (t < a.start || t > a.end) continue;
    const p = params[k]!;
    switch (a.kind) {
      case 'spike':
        e.offset = p * sh.amp;
        break;
      case 'dip':
        e.offset = -Math.min(p * sh.amp, base);
        break;
      case 'level_shift':
        e.offset = p * sh.amp;
        break;
      case 'variance':
        e.noiseFactor = p;
        break;
      case 'seasonality_break':
        if (p > 0) e.shiftH = 12;
        else e.flat = true;
        break;
      case 'drift':
        e.offset = (p * sh.amp * (t - a.start)) / Math.max(INTERVAL_MS, a.end - a.start);
        break;
    }
  }
}

/** One parameter per anomaly: its size (in amplitudes), noise factor, or break variant. */
function drawParams(r: Random, w: LabelledWindow[]): number[] {
  const sign = () => (r.next() < 0.5 ? -1 : 1);
  return w.map((a) => {
    switch (a.kind) {
      case 'spike':
        return r.uniform(0.5, 1.5);
      case 'dip':
        return r.uniform(0.5, 1);
      case 'level_shift':
        return sign() * r.uniform(0.3, 0.8);
      case 'variance':
        return r.uniform(4, 8);
      case 'seasonality_break':
        return sign();
      case 'drift':
        return sign() * r.uniform(0.5, 1);
    }
    return 0;
  });
}

/** One series of `kind` from `seed`. */
export function generateSeries(seed: number, kind: AnomalyKind | 'clean'): GeneratedSeries {
  const r = new Random(seed);
  const sh = drawShape(r);
  const counter = sh.noise === 'poisson' || r.next() < 0.15;
  const n = ((TRAIN_DAYS + EVAL_DAYS) * DAY_MS) / INTERVAL_MS;
  const evalStart = BENCH_T0 + TRAIN_DAYS * DAY_MS;
  const windows = drawWindows(r, kind, evalStart);
  const params = drawParams(r, windows);
  const scraped = new Float64Array(n);
  const missing = missingMask(r, n, windows);
  const e: Effect = { shiftH: 0, flat: false, offset: 0, noiseFactor: 1 };
  const resets = new Set<number>();
  if (counter) for (let k = r.int(1, 3); k > 0; k--) resets.add(r.int(1, n - 1));
  let ar = 0;
  let total = r.uniform(0, 1e6);
  for (let i = 0; i < n; i++) {
    const t = BENCH_T0 + i * INTERVAL_MS;
    const trend = sh.slopePerMs * (t - BENCH_T0);
    const plain = sh.level + trend + seasonal(sh, t, 0);
    effectAt(windows, params, t, plain, sh, e);
    const season = e.flat ? 0 : seasonal(sh, t, e.shiftH);
    const mean = Math.max(0, sh.level + trend + season + e.offset);
    ar = 0.7 * ar + Math.sqrt(1 - 0.49) * r.normal();
    let v = noisy(r, sh, mean, ar, e.noiseFactor);
    if (counter) {
      total = resets.has(i) ? 0 : total;
      total += Math.max(0, v);
      v = total;
    }
    scraped[i] = missing[i] === 1 ? Number.NaN : v;
  }
  return {
    name: `s${seed}`,
    kind,
    noise: sh.noise,
    counter,
    t0: BENCH_T0,
    intervalMs: INTERVAL_MS,
    scraped,
    evalStart,
    windows,
  };
}

function noisy(r: Random, sh: Shape, mean: number, ar: number, factor: number): number {
  switch (sh.noise) {
    case 'gaussian':
      return mean + factor * sh.sigma * r.normal();
    case 'laplace':
      return mean + factor * sh.sigma * r.laplace();
    case 'ar1':
      return mean + factor * sh.sigma * ar;
    case 'multiplicative':
      return mean * Math.exp(((factor * sh.sigma) / sh.level) * r.normal());
    case 'poisson':
      return r.poisson(mean) + (factor - 1) * Math.sqrt(mean) * r.normal();
  }
}

/** Missing scrapes: up to 1% scattered and one or two gaps of 5-30 minutes, never on an anomaly. */
function missingMask(r: Random, n: number, windows: LabelledWindow[]): Uint8Array {
  const m = new Uint8Array(n);
  const rate = r.uniform(0, 0.01);
  for (let i = 0; i < n; i++) if (r.next() < rate) m[i] = 1;
  for (let k = r.int(1, 2); k > 0; k--) {
    const at = r.int(0, n - 31);
    const len = r.int(5, 30);
    for (let i = at; i < at + len; i++) m[i] = 1;
  }
  for (const w of windows) {
    const from = (w.start - BENCH_T0) / INTERVAL_MS;
    const to = (w.end - BENCH_T0) / INTERVAL_MS;
    for (let i = from; i <= to; i++) m[i] = 0;
  }
  return m;
}
