import type { FloatHistogram } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import { kahanInc, quantileSorted } from './aggregate.js';
import type { EvalContext } from './context.js';
import { mean, variance } from './float-stats.js';
import { addH, copyH, detectReset, IncompatibleBoundsError, scaleH } from './histogram.js';
import { lastAtOrBefore, type MatrixValue, type RangeSeries, type StepSeries } from './values.js';

/**
 * Functions over range vectors (`rate`, the `*_over_time` family, ...). Each
 * runs per series and per evaluation time on the window (end - range, end]
 * of the series' typed arrays.
 */

/** A window of one series: indices [lo, hi) and its bounds in milliseconds. */
export interface Window {
  s: RangeSeries;
  lo: number;
  hi: number;
  start: number;
  end: number;
  range: number;
  /** The evaluation time (differs from `end` under `@` and `offset`). */
  evalT: number;
}

export type RangeResult = number | FloatHistogram | undefined;

/** A range function: a value for a window, or undefined for no output. */
export type RangeFn = (ctx: EvalContext, w: Window, args: number[]) => RangeResult;

function hasHist(w: Window): { floats: number; hists: number } {
  let hists = 0;
  if (w.s.h) for (let k = w.lo; k < w.hi; k++) if (w.s.h[k]) hists++;
  return { floats: w.hi - w.lo - hists, hists };
}

/** Histogram samples in a window (0 without a histogram column, no allocation). */
function histCount(w: Window): number {
  const h = w.s.h;
  if (!h) return 0;
  let hists = 0;
  for (let k = w.lo; k < w.hi; k++) if (h[k]) hists++;
  return hists;
}

// The counter-name info of the last metric name asked for: windows of one series come in a
// row and series of one metric mostly too, so the name test runs once per name, not per step.
let counterInfoName: string | undefined;
let counterInfoText: string | null = null;

/** The info for a counter function over a metric whose name does not look like a counter, or null. */
function counterNameInfo(labels: RangeSeries['labels']): string | null {
  let metric: string | undefined;
  for (const l of labels)
    if (l.name === '__name__') {
      metric = l.value;
      break;
    }
  if (metric === undefined) return null;
  if (metric === counterInfoName) return counterInfoText;
  counterInfoName = metric;
  counterInfoText = !/_(total|sum|count|bucket)$/.test(metric)
    ? `PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "${metric}"`
    : null;
  return counterInfoText;
}

function floatsOf(w: Window): number[] {
  const out: number[] = [];
  for (let k = w.lo; k < w.hi; k++) if (!w.s.h?.[k]) out.push(w.s.f[k] as number);
  return out;
}

function floatIdx(w: Window): number[] {
  const out: number[] = [];
  for (let k = w.lo; k < w.hi; k++) if (!w.s.h?.[k]) out.push(k);
  return out;
}

function mixWarning(ctx: EvalContext, fn: string): void {
  ctx.warnings.add(`PromQL warning: encountered a mix of histograms and floats for metric name in ${fn}`);
}

function extrapolatedRate(
  ctx: EvalContext,
  w: Window,
  isCounter: boolean,
  isRate: boolean,
  name: string,
): RangeResult {
  const n = w.hi - w.lo;
  if (n < 2) return undefined;
  const hists = histCount(w);
  if (hists > 0 && n - hists > 0) {
    mixWarning(ctx, name);
    return undefined;
  }
  const { s, lo, hi } = w;
  const firstT = s.t[lo] as number;
  const lastT = s.t[hi - 1] as number;
  let resultF = 0;
  let resultH: FloatHistogram | undefined;
  if (hists > 0) {
    const first = s.h?.[lo] as FloatHistogram;
    const last = s.h?.[hi - 1] as FloatHistogram;
    try {
      if (isCounter) {
        // Split the window at counter resets: the first stretch counts from its first sample,
        // every later one from zero. A first stretch of one sample adds nothing, so a layout
        // change right after it (new custom bounds, exponential to custom) needs no subtraction.
        let segStart = lo;
        const addSeg = (a: number, b: number) => {
          const segFirst = s.h?.[a] as FloatHistogram;
          const segLast = s.h?.[b] as FloatHistogram;
          let part: FloatHistogram | undefined;
          if (a === lo) {
            if (b > a) {
              part = addH(segLast, segFirst, -1);
            }
          } else {
            part = segLast;
          }
          if (part) resultH = resultH ? addH(resultH, part) : copyH(part);
        };
        for (let k = lo + 1; k < hi; k++) {
          const prev = s.h?.[k - 1] as FloatHistogram;
          const cur = s.h?.[k] as FloatHistogram;
          if (detectReset(prev, cur)) {
            addSeg(segStart, k - 1);
            segStart = k;
          }
        }
        addSeg(segStart, hi - 1);
      } else {
        resultH = addH(last, first, -1);
      }
    } catch (e) {
      if (e instanceof IncompatibleBoundsError) {
        ctx.warnings.add(
          `PromQL warning: vector contains histograms with incompatible custom buckets for ${name}`,
        );
        return undefined;
      }
      throw e;
    }
    if (!resultH) return undefined;
    if (isCounter && (first.counterResetHint === 3 || last.counterResetHint === 3))
      ctx.warnings.add(`PromQL warning: this native histogram metric is not a counter: in ${name}`);
    if (!isCounter && (first.counterResetHint !== 3 || last.counterResetHint !== 3))
      ctx.warnings.add(`PromQL warning: this native histogram metric is not a gauge: in ${name}`);
  } else {
    if (isCounter) {
      const info = counterNameInfo(s.labels);
      if (info !== null) ctx.infos.add(info);
    }
    resultF = (s.f[hi - 1] as number) - (s.f[lo] as number);
    if (isCounter) {
      for (let k = lo + 1; k < hi; k++) {
        const prev = s.f[k - 1] as number;
        if ((s.f[k] as number) < prev) resultF += prev;
      }
    }
  }
  // Histograms are not extrapolated towards a zero point: the conformance scripts expect
  // the plain extrapolation for them.
  const zeroFrom = isCounter && !resultH && resultF > 0 ? (s.f[lo] as number) / resultF : -1;
  let factor = extrapolation(firstT, lastT, w.start, w.end, n, zeroFrom);
  if (isRate) factor /= w.range / 1000;
  if (resultH) {
    const r = scaleH(resultH, factor);
    // A rate, increase or delta is a gauge whatever its input was, as in Prometheus.
    r.counterResetHint = 3;
    return r;
  }
  return resultF * factor;
}

function instantValue(ctx: EvalContext, w: Window, isRate: boolean): RangeResult {
  if (w.hi - w.lo < 2) return undefined;
  const name = isRate ? 'irate' : 'idelta';
  const ph = w.s.h?.[w.hi - 2];
  const lh = w.s.h?.[w.hi - 1];
  if (ph || lh) {
    if (!ph || !lh) {
      mixWarning(ctx, name);
      return undefined;
    }
    if (isRate && (ph.counterResetHint === 3 || lh.counterResetHint === 3))
      ctx.warnings.add(`PromQL warning: this native histogram metric is not a counter: in ${name}`);
    if (!isRate && (ph.counterResetHint !== 3 || lh.counterResetHint !== 3))
      ctx.warnings.add(`PromQL warning: this native histogram metric is not a gauge: in ${name}`);
    let r: FloatHistogram;
    try {
      r = isRate && detectReset(ph, lh) ? copyH(lh) : addH(lh, ph, -1);
    } catch (e) {
      if (e instanceof IncompatibleBoundsError) {
        ctx.warnings.add(
          `PromQL warning: vector contains histograms with incompatible custom buckets for ${name}`,
        );
        return undefined;
      }
      throw e;
    }
    const dt = ((w.s.t[w.hi - 1] as number) - (w.s.t[w.hi - 2] as number)) / 1000;
    if (isRate) {
      if (dt === 0) return undefined;
      r = scaleH(r, 1 / dt);
    }
    r.counterResetHint = 3;
    return r;
  }
  const idx = [w.hi - 2, w.hi - 1];
  const k = idx[idx.length - 1] as number;
  const p = idx[idx.length - 2] as number;
  const last = w.s.f[k] as number;
  const prev = w.s.f[p] as number;
  let r = isRate && last < prev ? last : last - prev;
  const dt = ((w.s.t[k] as number) - (w.s.t[p] as number)) / 1000;
  if (isRate) {
    if (dt === 0) return undefined;
    r /= dt;
  }
  return r;
}

/** Least-squares slope and intercept (at interceptTime) of a window's floats. */
function linearRegression(w: Window, interceptTime: number): [number, number] {
  const idx = floatIdx(w);
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = w.s.f[idx[0] as number] as number;
  let constY = true;
  for (const k of idx) {
    const y = w.s.f[k] as number;
    if (constY && y !== initY) constY = false;
    n++;
    const x = ((w.s.t[k] as number) - interceptTime) / 1000;
    [sumX, cX] = kahanInc(x, sumX, cX);
    [sumY, cY] = kahanInc(y, sumY, cY);
    [sumXY, cXY] = kahanInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY)) return [Number.NaN, Number.NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

function floatsOnly(ctx: EvalContext, w: Window, name: string): number[] | undefined {
  const { floats, hists } = hasHist(w);
  if (hists > 0 && floats === 0) {
    ctx.infos.add(`PromQL info: ignored histograms in ${name}`);
    return undefined;
  }
  if (hists > 0) ctx.infos.add(`PromQL info: ignored histograms in ${name}`);
  return floatsOf(w);
}

function histSumOrAvg(ctx: EvalContext, w: Window, avg: boolean, name: string): RangeResult {
  const { floats, hists } = hasHist(w);
  if (hists > 0 && floats > 0) {
    mixWarning(ctx, name);
    return undefined;
  }
  if (hists > 0) {
    try {
      let acc = copyH(w.s.h?.[w.lo] as FloatHistogram);
      for (let k = w.lo + 1; k < w.hi; k++) acc = addH(acc, w.s.h?.[k] as FloatHistogram);
      acc.counterResetHint = 3;
      return avg ? scaleH(acc, 1 / hists) : acc;
    } catch (e) {
      if (e instanceof IncompatibleBoundsError) {
        ctx.warnings.add(
          `PromQL warning: vector contains histograms with incompatible custom buckets for ${name}`,
        );
        return undefined;
      }
      throw e;
    }
  }
  const vals = floatsOf(w);
  if (avg) return mean(vals);
  let sum = 0;
  let c = 0;
  for (const v of vals) [sum, c] = kahanInc(v, sum, c);
  return sum + c;
}

function tsOf(w: Window, pick: 'min' | 'max' | 'first' | 'last'): RangeResult {
  if (pick === 'first' && w.hi > w.lo) return (w.s.t[w.lo] as number) / 1000;
  if (pick === 'last' && w.hi > w.lo) return (w.s.t[w.hi - 1] as number) / 1000;
  const idx = floatIdx(w);
  if (idx.length === 0) return undefined;
  if (pick === 'first') return (w.s.t[idx[0] as number] as number) / 1000;
  if (pick === 'last') return (w.s.t[idx[idx.length - 1] as number] as number) / 1000;
  let best = idx[0] as number;
  for (const k of idx) {
    const v = w.s.f[k] as number;
    const b = w.s.f[best] as number;
    if (Number.isNaN(b) || (pick === 'min' ? v <= b : v >= b)) best = k;
  }
  return (w.s.t[best] as number) / 1000;
}

function smoothing(ctx: EvalContext, w: Window, args: number[]): RangeResult {
  const sf = args[0] as number;
  const tf = args[1] as number;
  if (!(sf > 0 && sf < 1))
    throw new EngineError('execution', `invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf}`);
  if (!(tf > 0 && tf < 1))
    throw new EngineError('execution', `invalid trend factor. Expected: 0 < tf < 1, got: ${tf}`);
  const vals = floatsOnly(ctx, w, 'double_exponential_smoothing');
  if (!vals || vals.length < 2) return undefined;
  let s0 = 0;
  let s1 = vals[0] as number;
  let b = (vals[1] as number) - (vals[0] as number);
  for (let i = 1; i < vals.length; i++) {
    const x = sf * (vals[i] as number);
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

/** The range functions by name. */
export const RANGE_FUNCTIONS: ReadonlyMap<string, RangeFn> = new Map<string, RangeFn>([
  ['rate', (ctx, w) => extrapolatedRate(ctx, w, true, true, 'rate')],
  ['increase', (ctx, w) => extrapolatedRate(ctx, w, true, false, 'increase')],
  ['delta', (ctx, w) => extrapolatedRate(ctx, w, false, false, 'delta')],
  ['irate', (ctx, w) => instantValue(ctx, w, true)],
  ['idelta', (ctx, w) => instantValue(ctx, w, false)],
  [
    'deriv',
    (ctx, w) => {
      const idx = floatIdx(w);
      if (idx.length < w.hi - w.lo) ctx.infos.add('PromQL info: ignored histograms in deriv');
      if (idx.length < 2) return undefined;
      return linearRegression(w, w.s.t[idx[0] as number] as number)[0];
    },
  ],
  [
    'predict_linear',
    (ctx, w, args) => {
      const idx = floatIdx(w);
      if (idx.length < w.hi - w.lo) ctx.infos.add('PromQL info: ignored histograms in predict_linear');
      if (idx.length < 2) return undefined;
      const [slope, intercept] = linearRegression(w, w.evalT);
      return slope * (args[0] as number) + intercept;
    },
  ],
  [
    'changes',
    (_ctx, w) => {
      if (w.hi - w.lo === 0) return undefined;
      let c = 0;
      for (let k = w.lo + 1; k < w.hi; k++) {
        const ph = w.s.h?.[k - 1];
        const ch = w.s.h?.[k];
        if (ph || ch) {
          if (!ph || !ch || detectReset(ph, ch) || ph.count !== ch.count || ph.sum !== ch.sum) c++;
          continue;
        }
        const a = w.s.f[k - 1] as number;
        const b = w.s.f[k] as number;
        if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) c++;
      }
      return c;
    },
  ],
  [
    'resets',
    (_ctx, w) => {
      if (w.hi - w.lo === 0) return undefined;
      let c = 0;
      for (let k = w.lo + 1; k < w.hi; k++) {
        const ph = w.s.h?.[k - 1];
        const ch = w.s.h?.[k];
        if (ph && ch) {
          if (detectReset(ph, ch)) c++;
          continue;
        }
        // A switch between float and histogram samples counts as a reset.
        if (ph || ch) {
          c++;
          continue;
        }
        if ((w.s.f[k] as number) < (w.s.f[k - 1] as number)) c++;
      }
      return c;
    },
  ],
  ['avg_over_time', (ctx, w) => histSumOrAvg(ctx, w, true, 'avg_over_time')],
  ['sum_over_time', (ctx, w) => histSumOrAvg(ctx, w, false, 'sum_over_time')],
  ['count_over_time', (_ctx, w) => (w.hi > w.lo ? w.hi - w.lo : undefined)],
  ['present_over_time', (_ctx, w) => (w.hi > w.lo ? 1 : undefined)],
  [
    'last_over_time',
    (_ctx, w) => (w.hi > w.lo ? (w.s.h?.[w.hi - 1] ?? (w.s.f[w.hi - 1] as number)) : undefined),
  ],
  ['first_over_time', (_ctx, w) => (w.hi > w.lo ? (w.s.h?.[w.lo] ?? (w.s.f[w.lo] as number)) : undefined)],
  [
    'min_over_time',
    (ctx, w) => {
      const v = floatsOnly(ctx, w, 'min_over_time');
      if (!v || v.length === 0) return undefined;
      let r = v[0] as number;
      for (const x of v) if (Number.isNaN(r) || x < r) r = x;
      return r;
    },
  ],
  [
    'max_over_time',
    (ctx, w) => {
      const v = floatsOnly(ctx, w, 'max_over_time');
      if (!v || v.length === 0) return undefined;
      let r = v[0] as number;
      for (const x of v) if (Number.isNaN(r) || x > r) r = x;
      return r;
    },
  ],
  [
    'stddev_over_time',
    (ctx, w) => {
      const v = floatsOnly(ctx, w, 'stddev_over_time');
      return v && v.length > 0 ? Math.sqrt(variance(v)) : undefined;
    },
  ],
  [
    'stdvar_over_time',
    (ctx, w) => {
      const v = floatsOnly(ctx, w, 'stdvar_over_time');
      return v && v.length > 0 ? variance(v) : undefined;
    },
  ],
  [
    'quantile_over_time',
    (ctx, w, args) => {
      const v = floatsOnly(ctx, w, 'quantile_over_time');
      if (!v || v.length === 0) return undefined;
      const q = args[0] as number;
      if (Number.isNaN(q) || q < 0 || q > 1)
        ctx.warnings.add(`PromQL warning: quantile value should be between 0 and 1, got ${q}`);
      return quantileSorted(
        q,
        v.sort((a, b) => a - b),
      );
    },
  ],
  [
    'mad_over_time',
    (ctx, w) => {
      const v = floatsOnly(ctx, w, 'mad_over_time');
      if (!v || v.length === 0) return undefined;
      const med = quantileSorted(
        0.5,
        [...v].sort((a, b) => a - b),
      );
      return quantileSorted(
        0.5,
        v.map((x) => Math.abs(x - med)).sort((a, b) => a - b),
      );
    },
  ],
  ['ts_of_min_over_time', (_ctx, w) => tsOf(w, 'min')],
  ['ts_of_max_over_time', (_ctx, w) => tsOf(w, 'max')],
  ['ts_of_first_over_time', (_ctx, w) => tsOf(w, 'first')],
  ['ts_of_last_over_time', (_ctx, w) => tsOf(w, 'last')],
  ['double_exponential_smoothing', smoothing],
]);

/** Range functions that keep the metric name. */
export const KEEPS_NAME: ReadonlySet<string> = new Set(['last_over_time', 'first_over_time']);

/** rate, increase and delta: over series without histograms they run as `rateFloats`. */
const FLOAT_RATE_KERNELS: ReadonlyMap<string, { isCounter: boolean; isRate: boolean }> = new Map([
  ['rate', { isCounter: true, isRate: true }],
  ['increase', { isCounter: true, isRate: false }],
  ['delta', { isCounter: false, isRate: false }],
]);

/**
 * `extrapolatedRate` for a series without histograms at every step, with
 * window ends that only grow: the same arithmetic in the same order, written
 * straight into the output arrays (no window object, no boxed result per
 * step). Returns whether any step has a value.
 */
function rateFloats(
  ctx: EvalContext,
  s: RangeSeries,
  o: StepSeries,
  ends: Float64Array,
  range: number,
  isCounter: boolean,
  isRate: boolean,
): boolean {
  const { t, f, n: count } = s;
  // A counter that never falls needs no reset scan per window.
  let resets = false;
  if (isCounter)
    for (let k = 1; k < count; k++)
      if ((f[k] as number) < (f[k - 1] as number)) {
        resets = true;
        break;
      }
  const of = o.f;
  const has = o.has;
  let hi = 0;
  let lo = 0;
  let any = false;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    const start = end - range;
    while (hi < count && (t[hi] as number) <= end) hi++;
    while (lo < count && (t[lo] as number) <= start) lo++;
    const n = hi - lo;
    if (n < 2) continue;
    const firstT = t[lo] as number;
    const lastT = t[hi - 1] as number;
    const firstF = f[lo] as number;
    let resultF = (f[hi - 1] as number) - firstF;
    if (resets) {
      for (let k = lo + 1; k < hi; k++) {
        const prev = f[k - 1] as number;
        if ((f[k] as number) < prev) resultF += prev;
      }
    }
    let factor = extrapolation(
      firstT,
      lastT,
      start,
      end,
      n,
      isCounter && resultF > 0 ? firstF / resultF : -1,
    );
    if (isRate) factor /= range / 1000;
    of[i] = resultF * factor;
    has[i] = 1;
    any = true;
  }
  if (any && isCounter) {
    const info = counterNameInfo(s.labels);
    if (info !== null) ctx.infos.add(info);
  }
  return any;
}

/** Applies a range function to every series of a range vector at every time. */
export function applyRange(
  ctx: EvalContext,
  name: string,
  fn: RangeFn,
  m: MatrixValue,
  scalarArgs: Float64Array[],
  ts: Float64Array,
): StepSeries[] {
  const out: StepSeries[] = [];
  const apply = rangeApplier(ctx, name, fn, m.ends, m.range, scalarArgs, ts, m.series.length);
  for (let k = 0; k < m.series.length; k++) {
    const o = apply(m.series[k] as RangeSeries, k);
    if (o !== undefined) out.push(o);
  }
  return out;
}

/**
 * A range function bound to window ends, range and arguments, applied one
 * series at a time (series k of `count`): the step series it yields, or
 * undefined when no step has a value. Series may be handed over as they are
 * read (the function keeps nothing of the series' arrays).
 */
export function rangeApplier(
  ctx: EvalContext,
  name: string,
  fn: RangeFn,
  ends: Float64Array,
  range: number,
  scalarArgs: Float64Array[],
  ts: Float64Array,
  count: number,
): (s: RangeSeries, k: number) => StepSeries | undefined {
  const steps = ts.length;
  const keep = KEEPS_NAME.has(name);
  // One allocation for all series' slots; each series views its own region.
  const fAll = new Float64Array(steps * count);
  const hasAll = new Uint8Array(steps * count);
  let monotone = true;
  for (let i = 1; i < steps; i++) if ((ends[i] as number) < (ends[i - 1] as number)) monotone = false;
  const kernel = FLOAT_RATE_KERNELS.get(name);
  const args: number[] = new Array(scalarArgs.length);
  return (s, k) => {
    ctx.check();
    const o: StepSeries = {
      labels: s.labels,
      f: fAll.subarray(k * steps, (k + 1) * steps),
      h: null,
      has: hasAll.subarray(k * steps, (k + 1) * steps),
      dropName: !keep || s.dropName,
    };
    if (kernel !== undefined && s.h === null && monotone)
      return rateFloats(ctx, s, o, ends, range, kernel.isCounter, kernel.isRate) ? o : undefined;
    // With growing window ends, both window edges only move forward.
    let hiC = 0;
    let loC = 0;
    let any = false;
    // One window object per series, updated per step.
    const w: Window = { s, lo: 0, hi: 0, start: 0, end: 0, range, evalT: 0 };
    for (let i = 0; i < steps; i++) {
      const end = ends[i] as number;
      const start = end - range;
      let hi: number;
      let lo: number;
      if (monotone) {
        while (hiC < s.n && (s.t[hiC] as number) <= end) hiC++;
        while (loC < s.n && (s.t[loC] as number) <= start) loC++;
        hi = hiC;
        lo = loC;
      } else {
        hi = lastAtOrBefore(s.t, s.n, end) + 1;
        lo = lastAtOrBefore(s.t, s.n, start) + 1;
      }
      if (hi <= lo) continue;
      w.lo = lo;
      w.hi = hi;
      w.start = start;
      w.end = end;
      w.evalT = ts[i] as number;
      for (let a = 0; a < scalarArgs.length; a++) args[a] = (scalarArgs[a] as Float64Array)[i] as number;
      const r = fn(ctx, w, args);
      if (r === undefined) continue;
      any = true;
      o.has[i] = 1;
      if (typeof r === 'number') o.f[i] = r;
      else {
        if (!o.h) o.h = new Array(steps);
        o.h[i] = r;
      }
    }
    return any ? o : undefined;
  };
}

/**
 * The factor that extrapolates an increase seen between the first and last of
 * n samples (ms) to the window [start, end], as Prometheus does: each side by
 * the gap to the window's edge, or by half the average interval when the gap
 * is over 1.1 of it. `zeroFrom` (first value / increase, or negative when not
 * a counter) keeps a counter from being extrapolated below zero at the start.
 */
function extrapolation(
  firstT: number,
  lastT: number,
  start: number,
  end: number,
  n: number,
  zeroFrom: number,
): number {
  let toStart = (firstT - start) / 1000;
  let toEnd = (end - lastT) / 1000;
  const sampled = (lastT - firstT) / 1000;
  const avg = sampled / (n - 1);
  const threshold = avg * 1.1;
  if (toStart >= threshold) toStart = avg / 2;
  if (zeroFrom >= 0) {
    const toZero = sampled * zeroFrom;
    if (toZero < toStart) toStart = toZero;
  }
  if (toEnd >= threshold) toEnd = avg / 2;
  return (sampled + toStart + toEnd) / sampled;
}
