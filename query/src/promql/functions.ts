import type { FloatHistogram, Labels, Matcher } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import type { Call, Expr } from './ast.js';
import { scalarArg, vectorArg } from './call-args.js';
import type { EvalContext } from './context.js';
import { fractionH, quantileH, stdvarH } from './histogram.js';
import { evalLabelCall, LABEL_CALLS } from './label-functions.js';
import { labelsKey, labelValue, METRIC_NAME, normalize } from './labels.js';
import { applyRange, RANGE_FUNCTIONS, rangeApplier } from './range-functions.js';
import {
  type MatrixValue,
  type RangeSeries,
  SeriesBuilder,
  type StepSeries,
  type Value,
  type VectorValue,
} from './values.js';

/** PromQL functions over instant vectors and scalars; range functions are in range-functions.ts. */

const MATH: Record<string, (x: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  deg: (x) => (x * 180) / Math.PI,
  rad: (x) => (x * Math.PI) / 180,
  acos: Math.acos,
  acosh: Math.acosh,
  asin: Math.asin,
  asinh: Math.asinh,
  atan: Math.atan,
  atanh: Math.atanh,
  cos: Math.cos,
  cosh: Math.cosh,
  sin: Math.sin,
  sinh: Math.sinh,
  tan: Math.tan,
  tanh: Math.tanh,
};

const DATE: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return Math.floor((d.getTime() - start) / 86_400_000) + 1;
  },
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

const HIST_STATS: Record<string, (h: FloatHistogram) => number> = {
  histogram_count: (h) => h.count,
  histogram_sum: (h) => h.sum,
  histogram_avg: (h) => h.sum / h.count,
  histogram_stdvar: (h) => stdvarH(h),
  histogram_stddev: (h) => Math.sqrt(stdvarH(h)),
};

function mapFloats(
  v: VectorValue,
  steps: number,
  fn: (x: number, i: number) => number | undefined,
  keepName = false,
): VectorValue {
  const out: StepSeries[] = [];
  for (const s of v.series) {
    const o: StepSeries = {
      labels: s.labels,
      f: new Float64Array(steps),
      h: null,
      has: new Uint8Array(steps),
      dropName: s.dropName || !keepName,
    };
    let any = false;
    for (let i = 0; i < steps; i++) {
      if (!s.has[i] || s.h?.[i]) continue;
      const r = fn(s.f[i] as number, i);
      if (r === undefined) continue;
      o.f[i] = r;
      o.has[i] = 1;
      any = true;
    }
    if (any) out.push(o);
  }
  return { type: 'vector', series: out };
}

function unwrap(e: Expr): Expr {
  return e.kind === 'paren' ? unwrap(e.expr) : e;
}

/** Labels `absent()` reports: the equality matchers of a plain selector argument. */
function absentLabels(arg: Expr): Labels {
  const e = unwrap(arg);
  let matchers: Matcher[] = [];
  if (e.kind === 'vectorSelector') matchers = e.matchers;
  else if (e.kind === 'matrixSelector') matchers = e.selector.matchers;
  const out = new Map<string, string>();
  const dup = new Set<string>();
  for (const m of matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !out.has(m.name) && !dup.has(m.name)) out.set(m.name, m.value);
    else if (out.has(m.name)) {
      out.delete(m.name);
      dup.add(m.name);
    }
  }
  return normalize([...out].map(([name, value]) => ({ name, value })));
}

/** Evaluates a function call at all times. */
export async function evalCall(ctx: EvalContext, e: Call, ts: Float64Array): Promise<Value> {
  const steps = ts.length;
  const name = e.func;
  const rangeFn = RANGE_FUNCTIONS.get(name);
  if (rangeFn) {
    const only = e.args.length === 1 ? e.args[0] : undefined;
    if (only?.kind === 'matrixSelector') {
      // A function of one range selector reduces each series as it is read.
      const out: StepSeries[] = [];
      let apply: ((s: RangeSeries, k: number) => StepSeries | undefined) | undefined;
      await ctx.eachRangeSeries(only, ts, (s, k, count, ends, range) => {
        apply ??= rangeApplier(ctx, name, rangeFn, ends, range, [], ts, count);
        const o = apply(s, k);
        if (o !== undefined) out.push(o);
      });
      return { type: 'vector', series: out };
    }
    const args = await Promise.all(e.args.map((a) => ctx.eval(a, ts)));
    const m = args.find((a): a is MatrixValue => a.type === 'matrix');
    if (!m) throw new EngineError('bad_data', `expected a range vector in call to ${name}`);
    const scalars = args.filter((a) => a.type === 'scalar').map((a) => scalarArg(a));
    return { type: 'vector', series: applyRange(ctx, name, rangeFn, m, scalars, ts) };
  }
  if (name === 'absent_over_time') {
    const m = await ctx.eval(e.args[0] as Expr, ts);
    if (m.type !== 'matrix') throw new EngineError('bad_data', 'expected a range vector');
    const present = applyRange(
      ctx,
      'present_over_time',
      RANGE_FUNCTIONS.get('present_over_time') as never,
      m,
      [],
      ts,
    );
    return absentFrom(present, absentLabels(e.args[0] as Expr), steps);
  }
  const math = MATH[name];
  if (math) return mapFloats(vectorArg(await ctx.eval(e.args[0] as Expr, ts)), steps, math);
  const hstat = HIST_STATS[name];
  if (hstat) {
    const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
    const out: StepSeries[] = [];
    for (const s of v.series) {
      const o: StepSeries = {
        labels: s.labels,
        f: new Float64Array(steps),
        h: null,
        has: new Uint8Array(steps),
        dropName: true,
      };
      let any = false;
      for (let i = 0; i < steps; i++) {
        const h = s.h?.[i];
        if (!s.has[i] || !h) continue;
        o.f[i] = hstat(h);
        o.has[i] = 1;
        any = true;
      }
      if (any) out.push(o);
    }
    return { type: 'vector', series: out };
  }
  const date = DATE[name];
  if (date) {
    if (e.args.length === 0) {
      const s: StepSeries = {
        labels: [],
        f: new Float64Array(steps),
        h: null,
        has: new Uint8Array(steps).fill(1),
        dropName: false,
      };
      for (let i = 0; i < steps; i++) s.f[i] = date(new Date(ts[i] as number));
      return { type: 'vector', series: [s] };
    }
    return mapFloats(vectorArg(await ctx.eval(e.args[0] as Expr, ts)), steps, (x) =>
      Number.isFinite(x) ? date(new Date(Math.trunc(x) * 1000)) : Number.NaN,
    );
  }
  if (LABEL_CALLS.has(name)) return evalLabelCall(ctx, e, ts);
  return evalValueCall(ctx, e, ts);
}

/** Evaluates the remaining calls: time, constants, conversions, rounding, clamping, sorting, histogram estimates. */
async function evalValueCall(ctx: EvalContext, e: Call, ts: Float64Array): Promise<Value> {
  const steps = ts.length;
  const name = e.func;
  switch (name) {
    case 'time':
      return { type: 'scalar', v: ts.map((t) => t / 1000) };
    case 'pi':
      return { type: 'scalar', v: new Float64Array(steps).fill(Math.PI) };
    case 'vector': {
      const v = scalarArg(await ctx.eval(e.args[0] as Expr, ts));
      return {
        type: 'vector',
        series: [
          {
            labels: [],
            f: Float64Array.from(v),
            h: null,
            has: new Uint8Array(steps).fill(1),
            dropName: false,
          },
        ],
      };
    }
    case 'scalar': {
      const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
      const out = new Float64Array(steps);
      for (let i = 0; i < steps; i++) {
        let n = 0;
        let val = Number.NaN;
        for (const s of v.series) {
          if (!s.has[i] || s.h?.[i]) continue;
          n++;
          val = s.f[i] as number;
        }
        out[i] = n === 1 ? val : Number.NaN;
      }
      return { type: 'scalar', v: out };
    }
    case 'absent': {
      const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
      return absentFrom(v.series, absentLabels(e.args[0] as Expr), steps);
    }
    case 'timestamp': {
      const arg = unwrap(e.args[0] as Expr);
      if (arg.kind === 'vectorSelector') {
        const v = await ctx.vectorSelector(arg, ts, true);
        for (const s of v.series) s.dropName = true;
        return v;
      }
      const v = vectorArg(await ctx.eval(arg, ts));
      const out: StepSeries[] = v.series.map((s) => ({
        labels: s.labels,
        f: ts.map((t) => t / 1000),
        h: null,
        has: s.has,
        dropName: true,
      }));
      return { type: 'vector', series: out };
    }
    case 'round': {
      const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
      const to = e.args[1] ? scalarArg(await ctx.eval(e.args[1], ts)) : new Float64Array(steps).fill(1);
      return mapFloats(v, steps, (x, i) => {
        const inv = 1 / (to[i] as number);
        return Math.floor(x * inv + 0.5) / inv;
      });
    }
    case 'clamp':
    case 'clamp_min':
    case 'clamp_max': {
      const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
      const a = scalarArg(await ctx.eval(e.args[1] as Expr, ts));
      const b = name === 'clamp' ? scalarArg(await ctx.eval(e.args[2] as Expr, ts)) : undefined;
      return mapFloats(v, steps, (x, i) => {
        if (name === 'clamp_min') return Math.max(a[i] as number, x);
        if (name === 'clamp_max') return Math.min(a[i] as number, x);
        const lo = a[i] as number;
        const hi = (b as Float64Array)[i] as number;
        if (hi < lo) return undefined;
        return Math.max(lo, Math.min(hi, x));
      });
    }
    case 'sort':
    case 'sort_desc': {
      // Sorting is by float value; histogram samples are left out.
      const v = vectorArg(await ctx.eval(e.args[0] as Expr, ts));
      const out: StepSeries[] = [];
      for (const s of v.series) {
        if (!s.h) {
          out.push(s);
          continue;
        }
        const has = s.has.map((x, i) => (x && !s.h?.[i] ? 1 : 0));
        if (has.some((x) => x === 1)) out.push({ ...s, h: null, has });
      }
      return { type: 'vector', series: out };
    }
    case 'histogram_quantile':
    case 'histogram_fraction':
      return histogramEstimate(ctx, e, ts);
    default:
      throw new EngineError('bad_data', `function "${name}" is not supported`);
  }
}

function absentFrom(present: StepSeries[], labels: Labels, steps: number): VectorValue {
  const s: StepSeries = {
    labels,
    f: new Float64Array(steps),
    h: null,
    has: new Uint8Array(steps),
    dropName: false,
  };
  let any = false;
  for (let i = 0; i < steps; i++) {
    if (present.some((p) => p.has[i])) continue;
    s.has[i] = 1;
    s.f[i] = 1;
    any = true;
  }
  return { type: 'vector', series: any ? [s] : [] };
}

interface BucketPoint {
  upper: number;
  count: number;
}

/** Quantile over classic buckets (Prometheus' bucketQuantile), with a monotonicity fix. */
export function bucketQuantile(q: number, bs: BucketPoint[]): { v: number; fixed: boolean } {
  if (Number.isNaN(q)) return { v: Number.NaN, fixed: false };
  if (q < 0) return { v: Number.NEGATIVE_INFINITY, fixed: false };
  if (q > 1) return { v: Number.POSITIVE_INFINITY, fixed: false };
  bs.sort((a, b) => a.upper - b.upper);
  if (bs.length === 0 || (bs[bs.length - 1] as BucketPoint).upper !== Number.POSITIVE_INFINITY)
    return { v: Number.NaN, fixed: false };
  // Merge buckets with the same bound.
  const merged: BucketPoint[] = [];
  for (const b of bs) {
    const last = merged[merged.length - 1];
    if (last && last.upper === b.upper) last.count += b.count;
    else merged.push({ ...b });
  }
  let fixed = false;
  let max = Number.NEGATIVE_INFINITY;
  for (const b of merged) {
    if (b.count < max) {
      b.count = max;
      fixed = true;
    } else if (b.count > max) max = b.count;
  }
  if (merged.length < 2) return { v: Number.NaN, fixed };
  const total = (merged[merged.length - 1] as BucketPoint).count;
  if (total === 0 || Number.isNaN(total)) return { v: Number.NaN, fixed };
  let rank = q * total;
  let b = merged.findIndex((x) => x.count >= rank);
  if (b < 0) b = merged.length - 1;
  if (b === merged.length - 1) return { v: (merged[merged.length - 2] as BucketPoint).upper, fixed };
  if (b === 0 && (merged[0] as BucketPoint).upper <= 0) return { v: (merged[0] as BucketPoint).upper, fixed };
  let start = 0;
  const end = (merged[b] as BucketPoint).upper;
  let count = (merged[b] as BucketPoint).count;
  if (b > 0) {
    const prev = merged[b - 1] as BucketPoint;
    start = prev.upper;
    count -= prev.count;
    rank -= prev.count;
  }
  return { v: start + (end - start) * (rank / count), fixed };
}

/** Fraction of observations in [lower, upper] from classic buckets (linear interpolation). */
export function bucketFraction(lower: number, upper: number, input: BucketPoint[]): number {
  const bs = [...input].sort((a, b) => a.upper - b.upper);
  if (bs.length === 0 || (bs[bs.length - 1] as BucketPoint).upper !== Number.POSITIVE_INFINITY)
    return Number.NaN;
  const merged: BucketPoint[] = [];
  for (const b of bs) {
    const last = merged[merged.length - 1];
    if (last && last.upper === b.upper) last.count += b.count;
    else merged.push({ ...b });
  }
  const count = (merged[merged.length - 1] as BucketPoint).count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return Number.NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < merged.length; i++) {
    const b = merged[i] as BucketPoint;
    let lo = i > 0 ? (merged[i - 1] as BucketPoint).upper : Number.NEGATIVE_INFINITY;
    if (i === 0 && b.upper > 0) lo = 0;
    const hi = b.upper;
    const linear = (v: number) =>
      lo === Number.NEGATIVE_INFINITY || hi === Number.POSITIVE_INFINITY
        ? rank
        : rank + ((b.count - rank) * (v - lo)) / (hi - lo);
    if (!lowerSet && lo >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lo >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lo < lower && hi > lower) {
      lowerRank = linear(lower);
      lowerSet = true;
    }
    if (!upperSet && lo < upper && hi > upper) {
      upperRank = linear(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}

/**
 * `histogram_quantile` and `histogram_fraction` over classic buckets (series
 * grouped by their labels without `le`) and native histograms.
 */
async function histogramEstimate(ctx: EvalContext, e: Call, ts: Float64Array): Promise<Value> {
  const steps = ts.length;
  const fraction = e.func === 'histogram_fraction';
  const fn = e.func;
  const scalars: Float64Array[] = [];
  for (const a of e.args.slice(0, -1)) scalars.push(scalarArg(await ctx.eval(a, ts)));
  const v = vectorArg(await ctx.eval(e.args[e.args.length - 1] as Expr, ts));
  const q = scalars[0] as Float64Array;
  if (!fraction)
    for (const qi of new Set(q))
      if (Number.isNaN(qi) || qi < 0 || qi > 1)
        ctx.warnings.add(`PromQL warning: quantile value should be between 0 and 1, got ${qi}`);
  const b = new SeriesBuilder(steps);
  // Classic buckets grouped by their labels without `le` (the name stays until the query ends).
  const groups = new Map<
    string,
    { labels: Labels; members: { s: StepSeries; upper: number }[]; dropName: boolean }
  >();
  const natives: { s: StepSeries; key: string }[] = [];
  for (const s of v.series) {
    if (s.h?.some((h) => h !== undefined)) natives.push({ s, key: labelsKey(s.labels) });
    if (!s.has.some((x, i) => x === 1 && !s.h?.[i])) continue;
    const le = labelValue(s.labels, 'le');
    const upper = le === '' ? Number.NaN : parseLe(le);
    if (Number.isNaN(upper)) {
      ctx.warnings.add(
        `PromQL warning: bucket label "le" is missing or has a malformed value of "${le}" for metric name "${labelValue(s.labels, METRIC_NAME)}"`,
      );
      continue;
    }
    const labels = s.labels.filter((l) => l.name !== 'le');
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (!g) {
      g = { labels, members: [], dropName: true };
      groups.set(key, g);
    }
    g.members.push({ s, upper });
  }
  for (let i = 0; i < steps; i++) {
    const qi = q[i] as number;
    const classicKeys = new Set<string>();
    for (const [key, g] of groups) {
      const bs: BucketPoint[] = [];
      for (const m of g.members)
        if (m.s.has[i] && !m.s.h?.[i]) bs.push({ upper: m.upper, count: m.s.f[i] as number });
      if (bs.length === 0) continue;
      if (natives.some((n) => n.key === key && n.s.has[i] && n.s.h?.[i])) {
        ctx.warnings.add(
          `PromQL warning: vector contains a mix of classic and native histograms for metric name "${labelValue(g.labels, METRIC_NAME)}"`,
        );
        classicKeys.add(key);
        continue;
      }
      let r: number;
      if (fraction) r = bucketFraction(qi, (scalars[1] as Float64Array)[i] as number, bs);
      else {
        const res = bucketQuantile(qi, bs);
        if (res.fixed)
          ctx.infos.add(
            `PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name "${labelValue(g.labels, METRIC_NAME)}"`,
          );
        r = res.v;
      }
      b.setF(b.get(g.labels, true, key), i, r);
    }
    for (const n of natives) {
      const h = n.s.h?.[i];
      if (!n.s.has[i] || !h || classicKeys.has(n.key)) continue;
      const name = labelValue(n.s.labels, METRIC_NAME);
      let r: number;
      if (fraction) {
        r = fractionH(qi, (scalars[1] as Float64Array)[i] as number, h);
        if (Number.isNaN(h.sum) && h.count > 0)
          ctx.infos.add(
            `PromQL info: input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name "${name}"`,
          );
      } else {
        r = quantileH(qi, h);
        if (Number.isNaN(h.sum) && h.count > 0) {
          const inBuckets = bucketsTotal(h);
          const skew = Number.isNaN(r) || qi * h.count > inBuckets ? 'is NaN' : 'is skewed higher';
          ctx.infos.add(
            `PromQL info: input to ${fn} has NaN observations, result ${skew} for metric name "${name}"`,
          );
        }
      }
      b.setF(b.get(n.s.labels, true), i, r);
    }
  }
  return { type: 'vector', series: b.series };
}

function bucketsTotal(h: FloatHistogram): number {
  let t = h.zeroCount;
  for (const c of h.positiveBuckets) t += c;
  for (const c of h.negativeBuckets) t += c;
  return t;
}

function parseLe(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === '+inf' || t === 'inf') return Number.POSITIVE_INFINITY;
  if (t === '-inf') return Number.NEGATIVE_INFINITY;
  if (t === 'nan') return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t) && !/^0x[0-9a-f]+$/.test(t)) return Number.NaN;
  return Number(t);
}
