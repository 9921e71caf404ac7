import type { Label, Labels } from '@promstream/storage';
import { outputName, type RollupRule } from './config.js';

/**
 * The aggregate of one output group in one window: every field any output
 * needs, so one update per sample serves all the outputs of a rule. A
 * partial (one source partition's share) and a combined aggregate have the
 * same shape; `mergeGroups` combines them in a fixed order so the result,
 * floating-point sums included, never depends on arrival order.
 */
export interface GroupState {
  sum: number;
  count: number;
  min: number;
  max: number;
  /** The sample with the latest timestamp (`last`); the earlier source wins a tie. */
  lastT: number;
  lastV: number;
  /** Counter increase over the window, resets handled (`increase`, `total`). */
  increase: number;
  /** Distinct input series seen in the window (`count_series`). */
  series: number;
  /** Every sample value, for exact `quantiles`; null when the rule has none. */
  values: number[] | null;
  /** Counts by VictoriaMetrics bucket index (`histogram_bucket`); null when the rule has none. */
  buckets: Map<number, number> | null;
}

/** A new, empty group for a rule. */
export function newGroup(rule: RollupRule): GroupState {
  return {
    sum: 0,
    count: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    lastT: Number.NEGATIVE_INFINITY,
    lastV: 0,
    increase: 0,
    series: 0,
    values: rule.outputs.some((o) => o.kind === 'quantiles') ? [] : null,
    buckets: rule.outputs.some((o) => o.kind === 'histogram_bucket') ? new Map() : null,
  };
}

/** Adds one sample (not its counter delta: the caller knows the series' previous value). */
export function addSample(g: GroupState, t: number, v: number): void {
  g.sum += v;
  g.count++;
  if (v < g.min) g.min = v;
  if (v > g.max) g.max = v;
  if (t >= g.lastT) {
    g.lastT = t;
    g.lastV = v;
  }
  if (g.values !== null) g.values.push(v);
  if (g.buckets !== null) {
    const b = vmBucket(v);
    if (b !== NO_BUCKET) g.buckets.set(b, (g.buckets.get(b) ?? 0) + 1);
  }
}

/** Adds `b` into `a` (a is the earlier source). */
export function mergeGroups(a: GroupState, b: GroupState): void {
  a.sum += b.sum;
  a.count += b.count;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  if (b.lastT > a.lastT) {
    a.lastT = b.lastT;
    a.lastV = b.lastV;
  }
  a.increase += b.increase;
  a.series += b.series;
  if (a.values !== null && b.values !== null) for (const v of b.values) a.values.push(v);
  if (a.buckets !== null && b.buckets !== null)
    for (const [k, n] of b.buckets) a.buckets.set(k, (a.buckets.get(k) ?? 0) + n);
}

/** One output sample: its series and value. */
export interface OutputSample {
  labels: Labels;
  value: number;
}

/**
 * The output samples of a combined group. `total` is the running total the
 * caller keeps across windows (already including this window's increase).
 */
export function groupOutputs(rule: RollupRule, labels: Labels, g: GroupState, total: number): OutputSample[] {
  const metric = labels.find((l) => l.name === '__name__')?.value ?? '';
  const rest = labels.filter((l) => l.name !== '__name__');
  const out: OutputSample[] = [];
  const emit = (kind: Parameters<typeof outputName>[2], value: number, extra?: Label) => {
    const name = { name: '__name__', value: outputName(rule, metric, kind) };
    const ls = extra === undefined ? [name, ...rest] : [name, ...rest, extra];
    out.push({ labels: ls.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)), value });
  };
  for (const o of rule.outputs) {
    switch (o.kind) {
      case 'total':
        emit(o.kind, total);
        break;
      case 'increase':
        emit(o.kind, g.increase);
        break;
      case 'sum_samples':
        emit(o.kind, g.sum);
        break;
      case 'count_samples':
        emit(o.kind, g.count);
        break;
      case 'count_series':
        emit(o.kind, g.series);
        break;
      case 'min':
        emit(o.kind, g.min);
        break;
      case 'max':
        emit(o.kind, g.max);
        break;
      case 'avg':
        emit(o.kind, g.sum / g.count);
        break;
      case 'last':
        emit(o.kind, g.lastV);
        break;
      case 'quantiles': {
        const sorted = Float64Array.from(g.values ?? []).sort();
        for (const phi of o.phis)
          emit(o.kind, quantile(sorted, phi), { name: 'quantile', value: String(phi) });
        break;
      }
      case 'histogram_bucket':
        for (const [b, n] of [...(g.buckets ?? new Map<number, number>())].sort((x, y) => x[0] - y[0]))
          emit(o.kind, n, { name: 'vmrange', value: vmRange(b) });
        break;
    }
  }
  return out;
}

/**
 * The phi-quantile of sorted values, interpolated between the two closest
 * ranks as Prometheus' `quantile_over_time` does.
 */
export function quantile(sorted: ArrayLike<number>, phi: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = phi * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  const w = rank - lo;
  return sorted[lo]! * (1 - w) + sorted[hi]! * w;
}

// VictoriaMetrics histogram buckets: 18 per decade from 1e-9 to 1e18, plus
// one below (0...1e-9) and one above (1e18...+Inf). Negative values and NaN
// have no bucket, as in VictoriaMetrics' histogram.
const E10_MIN = -9;
const E10_MAX = 18;
const PER_DECADE = 18;
const DECIMAL_BUCKETS = (E10_MAX - E10_MIN) * PER_DECADE;
const LOWER = -1;
const UPPER = DECIMAL_BUCKETS;
const NO_BUCKET = -2;

/** The VictoriaMetrics bucket index of a value (LOWER, 0..DECIMAL_BUCKETS-1, UPPER) or NO_BUCKET. */
export function vmBucket(v: number): number {
  if (Number.isNaN(v) || v < 0) return NO_BUCKET;
  const f = (Math.log10(v) - E10_MIN) * PER_DECADE;
  if (f < 0) return LOWER;
  if (f >= DECIMAL_BUCKETS) return UPPER;
  const i = Math.floor(f);
  // A value on a bucket's lower bound belongs to the bucket below.
  return f === i && i > 0 ? i - 1 : i;
}

/** Go's `%.3e`: a three-digit mantissa and an exponent of at least two digits with its sign. */
function goExp(v: number): string {
  const [m, e] = v.toExponential(3).split('e') as [string, string];
  const sign = e.startsWith('-') ? '-' : '+';
  return `${m}e${sign}${e.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/** The `vmrange` label value of a bucket index. */
export function vmRange(b: number): string {
  if (b === LOWER) return `0...${goExp(10 ** E10_MIN)}`;
  if (b === UPPER) return `${goExp(10 ** E10_MAX)}...+Inf`;
  const mult = 10 ** (1 / PER_DECADE);
  let v = 10 ** E10_MIN;
  for (let i = 0; i < b; i++) v *= mult;
  return `${goExp(v)}...${goExp(v * mult)}`;
}

/** A group as JSON-safe numbers (non-finite values as strings), for partial records and snapshots. */
export function encodeGroup(g: GroupState): unknown[] {
  return [
    num(g.sum),
    g.count,
    num(g.min),
    num(g.max),
    num(g.lastT),
    num(g.lastV),
    num(g.increase),
    g.series,
    g.values === null ? null : g.values.map(num),
    g.buckets === null ? null : [...g.buckets],
  ];
}

/** The inverse of encodeGroup. */
export function decodeGroup(a: unknown[]): GroupState {
  const values = a[8] as (number | string)[] | null;
  const buckets = a[9] as [number, number][] | null;
  return {
    sum: denum(a[0]),
    count: a[1] as number,
    min: denum(a[2]),
    max: denum(a[3]),
    lastT: denum(a[4]),
    lastV: denum(a[5]),
    increase: denum(a[6]),
    series: a[7] as number,
    values: values === null ? null : values.map(denum),
    buckets: buckets === null ? null : new Map(buckets),
  };
}

/** A number JSON can carry: finite as is, the rest as 'NaN', 'Inf', '-Inf'. */
export function num(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf';
}

/** The inverse of num. */
export function denum(v: unknown): number {
  if (typeof v === 'number') return v;
  return v === 'NaN' ? Number.NaN : v === 'Inf' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}
