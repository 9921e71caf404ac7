import type { FloatHistogram, Labels } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import type { AggregateExpr } from './ast.js';
import type { EvalContext } from './context.js';
import { addH, buckets, IncompatibleBoundsError, scaleH } from './histogram.js';
import { goQuote, isValidLabelName, labelsKey, METRIC_NAME, normalize } from './labels.js';
import { SeriesBuilder, type StepSeries, type Value } from './values.js';
import { xxhash64 } from './xxhash.js';

/** Aggregation operators (`sum`, `topk`, `quantile`, ...) evaluated per time over groups. */

/** Go's strconv.FormatFloat(f, 'f', -1, 64): shortest digits, never an exponent. */
export function formatFloatPlain(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Number.POSITIVE_INFINITY) return '+Inf';
  if (f === Number.NEGATIVE_INFINITY) return '-Inf';
  const s = String(f);
  if (!/e/.test(s)) return s;
  const [mant, expS] = s.split('e') as [string, string];
  const exp = Number(expS);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const pointPos =
    (mant.replace('-', '').indexOf('.') < 0
      ? mant.replace('-', '').length
      : mant.replace('-', '').indexOf('.')) + exp;
  let out: string;
  if (pointPos <= 0) out = `0.${'0'.repeat(-pointPos)}${digits}`;
  else if (pointPos >= digits.length) out = digits + '0'.repeat(pointPos - digits.length);
  else out = `${digits.slice(0, pointPos)}.${digits.slice(pointPos)}`;
  return neg ? `-${out}` : out;
}

/** Quantile of sorted values with linear interpolation (Prometheus' `quantile`). */
export function quantileSorted(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const n = values.length;
  const rank = q * (n - 1);
  const lo = Math.max(0, Math.floor(rank));
  const hi = Math.min(n - 1, lo + 1);
  const w = rank - Math.floor(rank);
  return (values[lo] as number) * (1 - w) + (values[hi] as number) * w;
}

/** Kahan-compensated summation step. */
export function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  let nc = c;
  if (!Number.isFinite(t)) nc = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) nc += sum - t + inc;
  else nc += inc - t + sum;
  return [t, nc];
}

function labelsHash(ls: Labels): bigint {
  const parts: number[] = [];
  const enc = new TextEncoder();
  for (const l of ls) {
    parts.push(...enc.encode(l.name), 0xff, ...enc.encode(l.value), 0xff);
  }
  return xxhash64(Uint8Array.from(parts));
}

const MAX_U64 = 2 ** 64 - 1;

function groupLabels(ls: Labels, e: AggregateExpr, set: Set<string>): Labels {
  if (e.without) return ls.filter((l) => l.name !== METRIC_NAME && !set.has(l.name));
  return ls.filter((l) => set.has(l.name));
}

/** Evaluates an aggregation. */
export async function evalAggregate(ctx: EvalContext, e: AggregateExpr, ts: Float64Array): Promise<Value> {
  const steps = ts.length;
  let param: Float64Array | undefined;
  let paramStr = '';
  if (e.param) {
    const p = await ctx.eval(e.param, ts);
    if (p.type === 'scalar') param = p.v;
    else if (p.type === 'string') paramStr = p.s;
  }
  const v = await ctx.eval(e.expr, ts);
  if (v.type !== 'vector') throw new EngineError('bad_data', 'aggregation over a non-vector');
  const set = new Set(e.grouping);
  const groupOf: number[] = [];
  const groups: { labels: Labels; key: string }[] = [];
  const gIndex = new Map<string, number>();
  for (const s of v.series) {
    const gl = groupLabels(s.labels, e, set);
    const key = labelsKey(gl);
    let g = gIndex.get(key);
    if (g === undefined) {
      g = groups.length;
      gIndex.set(key, g);
      groups.push({ labels: gl, key });
    }
    groupOf.push(g);
  }
  const b = new SeriesBuilder(steps);
  const op = e.op;
  if (
    (op === 'quantile' || op === 'limit_ratio' || op === 'topk' || op === 'bottomk' || op === 'limitk') &&
    param
  ) {
    if (op === 'quantile')
      for (const q of new Set(param))
        if (Number.isNaN(q) || q < 0 || q > 1)
          ctx.warnings.add(`PromQL warning: quantile value should be between 0 and 1, got ${formatGo(q)}`);
  }
  // Grouping by the metric name keeps names that are due for removal, as Prometheus does.
  const byName = !e.without && set.has(METRIC_NAME);
  if (op === 'count_values') {
    if (!isValidLabelName(paramStr))
      throw new EngineError('execution', `invalid label name ${goQuote(paramStr)}`);
    for (let i = 0; i < steps; i++) {
      const counts = new Map<string, { labels: Labels; n: number }>();
      v.series.forEach((s, j) => {
        if (!s.has[i]) return;
        const h = s.h?.[i];
        const str = h ? histogramString(h) : formatFloatPlain(s.f[i] as number);
        const g = groups[groupOf[j] as number] as { labels: Labels };
        const labels = normalize([
          ...g.labels.filter((l) => l.name !== paramStr),
          { name: paramStr, value: str },
        ]);
        const k = labelsKey(labels);
        const c = counts.get(k);
        if (c) c.n++;
        else counts.set(k, { labels, n: 1 });
      });
      for (const [k, c] of counts) b.setF(b.get(c.labels, false, k), i, c.n);
    }
    return { type: 'vector', series: b.series };
  }
  if (op === 'topk' || op === 'bottomk' || op === 'limitk' || op === 'limit_ratio') {
    return selectK(ctx, e, v.series, groupOf, groups.length, param as Float64Array, steps);
  }
  const floatOnly = v.series.every((s) => s.h === null);
  if (
    floatOnly &&
    (op === 'sum' || op === 'count' || op === 'group' || op === 'min' || op === 'max' || op === 'avg')
  ) {
    return columnar(ctx, op, v.series, groupOf, groups, steps, byName);
  }
  const outSeries: (StepSeries | undefined)[] = new Array(groups.length);
  const members: number[][] = groups.map(() => []);
  v.series.forEach((_, j) => {
    members[groupOf[j] as number]?.push(j);
  });
  for (let i = 0; i < steps; i++) {
    ctx.check();
    for (let g = 0; g < groups.length; g++) {
      const idx = members[g] as number[];
      const floats: number[] = [];
      const hists: FloatHistogram[] = [];
      for (const j of idx) {
        const s = v.series[j] as StepSeries;
        if (!s.has[i]) continue;
        const h = s.h?.[i];
        if (h) hists.push(h);
        else floats.push(s.f[i] as number);
      }
      if (floats.length + hists.length === 0) continue;
      const res = aggregateGroup(ctx, op, floats, hists, param ? (param[i] as number) : 0);
      if (res === undefined) continue;
      const grp = groups[g] as { labels: Labels; key: string };
      let out = outSeries[g];
      if (!out) {
        out = b.get(grp.labels, byName && (v.series[idx[0] as number] as StepSeries).dropName, grp.key);
        outSeries[g] = out;
      }
      if (typeof res === 'number') b.setF(out, i, res);
      else b.setH(out, i, res);
    }
  }
  return { type: 'vector', series: b.series };
}

/**
 * The common float aggregations without per-step arrays: one pass over the
 * series, accumulating into typed arrays indexed by group and step.
 */
function columnar(
  ctx: EvalContext,
  op: 'sum' | 'count' | 'group' | 'min' | 'max' | 'avg',
  series: StepSeries[],
  groupOf: number[],
  groups: { labels: Labels; key: string }[],
  steps: number,
  byName: boolean,
): Value {
  const n = groups.length * steps;
  const acc = new Float64Array(n);
  const comp = new Float64Array(n);
  const cnt = new Float64Array(n);
  const isMin = op === 'min';
  for (let j = 0; j < series.length; j++) {
    if ((j & 1023) === 0) ctx.check();
    const s = series[j] as StepSeries;
    const base = (groupOf[j] as number) * steps;
    const f = s.f;
    const has = s.has;
    for (let i = 0; i < steps; i++) {
      if (!has[i]) continue;
      const k = base + i;
      const x = f[i] as number;
      const c = cnt[k] as number;
      cnt[k] = c + 1;
      if (op === 'sum' || op === 'avg') {
        // Kahan summation, as Prometheus sums.
        const sum = acc[k] as number;
        const t = sum + x;
        if (!Number.isFinite(t)) comp[k] = 0;
        else if (Math.abs(sum) >= Math.abs(x)) comp[k] = (comp[k] as number) + (sum - t + x);
        else comp[k] = (comp[k] as number) + (x - t + sum);
        acc[k] = t;
      } else if (op === 'min' || op === 'max') {
        const cur = acc[k] as number;
        if (c === 0 || Number.isNaN(cur) || (isMin ? x < cur : x > cur)) acc[k] = x;
      }
    }
  }
  const b = new SeriesBuilder(steps);
  for (let g = 0; g < groups.length; g++) {
    const grp = groups[g] as { labels: Labels; key: string };
    let out: StepSeries | undefined;
    for (let i = 0; i < steps; i++) {
      const k = g * steps + i;
      const c = cnt[k] as number;
      if (c === 0) continue;
      let r: number;
      switch (op) {
        case 'count':
          r = c;
          break;
        case 'group':
          r = 1;
          break;
        case 'sum':
          r = (acc[k] as number) + (comp[k] as number);
          break;
        case 'avg': {
          r = ((acc[k] as number) + (comp[k] as number)) / c;
          if (!Number.isFinite(r)) {
            // Overflow or infinities: redo this one the careful way.
            const xs: number[] = [];
            for (let j = 0; j < series.length; j++) {
              const s = series[j] as StepSeries;
              if (groupOf[j] === g && s.has[i]) xs.push(s.f[i] as number);
            }
            r = aggregateGroup(ctx, 'avg', xs, [], 0) as number;
          }
          break;
        }
        default:
          r = acc[k] as number;
      }
      if (!out) {
        const first = series.find((_, j) => groupOf[j] === g);
        out = b.get(grp.labels, byName && (first?.dropName ?? false), grp.key);
      }
      b.setF(out, i, r);
    }
  }
  return { type: 'vector', series: b.series };
}

/** Go's %g-like shortest float text, as Prometheus prints numbers in messages. */
export function formatGo(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Number.POSITIVE_INFINITY) return '+Inf';
  if (f === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(f);
}

/** A histogram as Prometheus' FloatHistogram.String() prints it. */
function histogramString(h: FloatHistogram): string {
  const parts = [`count:${formatGo(h.count)}`, `sum:${formatGo(h.sum)}`];
  for (const bk of buckets(h)) {
    if (bk.count === 0) continue;
    const isZero = h.schema !== -53 && bk.lower === -h.zeroThreshold && bk.upper === h.zeroThreshold;
    const lo = formatGo(bk.lower);
    const hi = formatGo(bk.upper);
    if (isZero) parts.push(`[${lo},${hi}]:${formatGo(bk.count)}`);
    else if (bk.upper <= 0) parts.push(`[${lo},${hi}):${formatGo(bk.count)}`);
    else parts.push(`(${lo},${hi}]:${formatGo(bk.count)}`);
  }
  return `{${parts.join(', ')}}`;
}

function aggregateGroup(
  ctx: EvalContext,
  op: AggregateExpr['op'],
  floats: number[],
  hists: FloatHistogram[],
  p: number,
): number | FloatHistogram | undefined {
  switch (op) {
    case 'count':
      return floats.length + hists.length;
    case 'group':
      return 1;
    case 'sum':
    case 'avg': {
      if (hists.length > 0) {
        if (floats.length > 0) {
          ctx.warnings.add(`PromQL warning: encountered a mix of histograms and floats for aggregation`);
          return undefined;
        }
        try {
          let acc = hists[0] as FloatHistogram;
          for (let k = 1; k < hists.length; k++) acc = addH(acc, hists[k] as FloatHistogram);
          if (hists.length === 1) acc = scaleH(acc, 1);
          return op === 'avg' ? scaleH(acc, 1 / hists.length) : acc;
        } catch (err) {
          if (err instanceof IncompatibleBoundsError) {
            ctx.warnings.add(
              `PromQL warning: vector contains histograms with incompatible custom buckets for aggregation`,
            );
            return undefined;
          }
          throw err;
        }
      }
      let sum = 0;
      let c = 0;
      for (const f of floats) [sum, c] = kahanInc(f, sum, c);
      if (op === 'sum') return sum + c;
      const n = floats.length;
      if (Number.isFinite(sum + c) || floats.some((f) => !Number.isFinite(f))) return (sum + c) / n;
      // The plain sum overflowed: fall back to an incremental mean.
      let mean = 0;
      let mc = 0;
      floats.forEach((f, k) => {
        [mean, mc] = kahanInc(f / (k + 1) - (mean + mc) / (k + 1), mean, mc);
      });
      return mean + mc;
    }
    case 'min':
    case 'max':
    case 'stddev':
    case 'stdvar':
    case 'quantile':
      if (hists.length > 0) ctx.infos.add(`PromQL info: ignored histogram in ${op} aggregation`);
      return floatAggregate(op, floats, p);
    default:
      return undefined;
  }
}

function floatAggregate(op: AggregateExpr['op'], floats: number[], p: number): number | undefined {
  switch (op) {
    case 'min':
    case 'max': {
      if (floats.length === 0) return undefined;
      let r = floats[0] as number;
      for (const f of floats) {
        if (Number.isNaN(r) || (op === 'min' ? f < r : f > r)) r = f;
      }
      return r;
    }
    case 'stddev':
    case 'stdvar': {
      if (floats.length === 0) return undefined;
      let mean = 0;
      let m2 = 0;
      let n = 0;
      for (const f of floats) {
        n++;
        const d = f - mean;
        mean += d / n;
        m2 += d * (f - mean);
      }
      const variance = m2 / n;
      return op === 'stdvar' ? variance : Math.sqrt(variance);
    }
    case 'quantile': {
      if (floats.length === 0) return undefined;
      const sorted = [...floats].sort((a, b) => a - b);
      return quantileSorted(p, sorted);
    }
    default:
      return undefined;
  }
}

function selectK(
  ctx: EvalContext,
  e: AggregateExpr,
  series: StepSeries[],
  groupOf: number[],
  ngroups: number,
  param: Float64Array,
  steps: number,
): Value {
  const b = new SeriesBuilder(steps);
  const op = e.op;
  const hashes = op === 'limit_ratio' ? series.map((s) => Number(labelsHash(s.labels)) / MAX_U64) : [];
  // Output series per input series, found on first use.
  const outOf: (StepSeries | undefined)[] = new Array(series.length);
  // Members per group at the current step; emptied and refilled at every step.
  const byGroup: number[][] = Array.from({ length: ngroups }, () => []);
  // For topk/bottomk with a small k: the best k of each group at the current step.
  let ranks: Ranks | undefined;
  if (op === 'topk' || op === 'bottomk') {
    const ks = smallKs(param, steps, ngroups);
    if (ks !== undefined) return rankAllSteps(ctx, b, outOf, op === 'topk', ks, series, groupOf, ngroups);
  }
  for (let i = 0; i < steps; i++) {
    const p = param[i] as number;
    if (op === 'limit_ratio') {
      let r = p;
      if (Number.isNaN(r)) throw new EngineError('execution', 'Ratio value is NaN');
      if (r > 1) {
        ctx.warnings.add(`PromQL warning: ratio value should be between -1 and 1, got ${r}, capping to 1`);
        r = 1;
      } else if (r < -1) {
        ctx.warnings.add(`PromQL warning: ratio value should be between -1 and 1, got ${r}, capping to -1`);
        r = -1;
      }
      series.forEach((s, j) => {
        if (!s.has[i]) return;
        const hv = hashes[j] as number;
        const inRatio = r >= 0 ? hv < r : hv >= 1 + r;
        if (inRatio) copyPoint(b, outOf, j, s, i);
      });
      continue;
    }
    if (Number.isNaN(p)) throw new EngineError('execution', 'Parameter value is NaN');
    const k = p >= 9.2e18 ? Number.MAX_SAFE_INTEGER : Math.trunc(p);
    if (k < 1) continue;
    if ((op === 'topk' || op === 'bottomk') && k <= SMALL_K) {
      if (ranks === undefined || ranks.k < k) ranks = newRanks(ngroups, k);
      rankStep(ctx, ranks, op === 'topk', k, series, groupOf, i);
      const { count, index } = ranks;
      for (let g = 0; g < ngroups; g++) {
        const n = count[g] as number;
        for (let c = 0; c < n; c++) {
          const j = index[g * ranks.k + c] as number;
          copyPoint(b, outOf, j, series[j] as StepSeries, i);
        }
      }
      continue;
    }
    for (const idx of byGroup) idx.length = 0;
    for (let j = 0; j < series.length; j++) {
      const s = series[j] as StepSeries;
      if (!s.has[i]) continue;
      if (op !== 'limitk' && s.h?.[i]) {
        ctx.infos.add(`PromQL info: ignored histogram in ${op} aggregation`);
        continue;
      }
      byGroup[groupOf[j] as number]?.push(j);
    }
    for (const idx of byGroup) {
      let chosen = idx;
      if (op === 'topk' || op === 'bottomk') {
        const sign = op === 'topk' ? -1 : 1;
        const cmp = (x: number, y: number) => {
          const a = (series[x] as StepSeries).f[i] as number;
          const c = (series[y] as StepSeries).f[i] as number;
          if (Number.isNaN(a)) return Number.isNaN(c) ? 0 : 1;
          if (Number.isNaN(c)) return -1;
          return sign * (a - c);
        };
        if (k * 4 < idx.length) {
          // Small k: keep the best k in order while scanning (stable for ties, like the sort).
          const best: number[] = [];
          for (const j of idx) {
            if (best.length === k && cmp(j, best[k - 1] as number) >= 0) continue;
            let p = best.length;
            while (p > 0 && cmp(j, best[p - 1] as number) < 0) p--;
            best.splice(p, 0, j);
            if (best.length > k) best.pop();
          }
          chosen = best;
        } else chosen = [...idx].sort(cmp);
      }
      const m = Math.min(k, chosen.length);
      for (let c = 0; c < m; c++) {
        const j = chosen[c] as number;
        copyPoint(b, outOf, j, series[j] as StepSeries, i);
      }
    }
  }
  return { type: 'vector', series: b.series };
}

/** Largest k for which topk/bottomk keep per-group rankings in typed arrays. */
const SMALL_K = 64;

/** The best (at most k) members of every group at one step, best first. */
interface Ranks {
  k: number;
  /** Members ranked in group g: count[g]. */
  count: Int32Array;
  /** Series index of rank r in group g at g * k + r. */
  index: Int32Array;
  /** Its value. */
  value: Float64Array;
}

function newRanks(ngroups: number, k: number): Ranks {
  return {
    k,
    count: new Int32Array(ngroups),
    index: new Int32Array(ngroups * k),
    value: new Float64Array(ngroups * k),
  };
}

/**
 * Ranks the float samples of step i per group, as a stable sort by value
 * (largest first for topk, smallest for bottomk, NaN last) cut to k would:
 * a member only displaces those it is strictly better than, so ties keep
 * series order.
 */
function rankStep(
  ctx: EvalContext,
  ranks: Ranks,
  top: boolean,
  k: number,
  series: StepSeries[],
  groupOf: number[],
  i: number,
): void {
  const { count, index, value } = ranks;
  const stride = ranks.k;
  count.fill(0);
  for (let j = 0; j < series.length; j++) {
    const s = series[j] as StepSeries;
    if (!s.has[i]) continue;
    if (s.h?.[i]) {
      ctx.infos.add(`PromQL info: ignored histogram in ${top ? 'topk' : 'bottomk'} aggregation`);
      continue;
    }
    const g = groupOf[j] as number;
    offerRanked(count, index, value, g, g * stride, k, s.f[i] as number, j, top);
  }
}

/** Most rank slots (steps × groups × k) ranked for all steps at once. */
const MAX_RANK_SLOTS = 4_000_000;

/**
 * The k of every step when each is a number at most `SMALL_K` (0 where k < 1)
 * and all steps' rankings fit `MAX_RANK_SLOTS`; otherwise undefined.
 */
function smallKs(param: Float64Array, steps: number, ngroups: number): Int32Array | undefined {
  const ks = new Int32Array(steps);
  let kMax = 0;
  for (let i = 0; i < steps; i++) {
    const p = param[i] as number;
    if (Number.isNaN(p)) return undefined;
    const k = p >= 9.2e18 ? Number.MAX_SAFE_INTEGER : Math.trunc(p);
    if (k > SMALL_K) return undefined;
    ks[i] = k < 1 ? 0 : k;
    if (k > kMax) kMax = k;
  }
  return steps * ngroups * kMax <= MAX_RANK_SLOTS ? ks : undefined;
}

/**
 * topk/bottomk ranked series by series for all steps at once (each series'
 * values are read in order, not one step of every series at a time); each
 * step's and group's ranking receives its members in series order, as the
 * step-by-step ranking does, so the answer is the same. Output series are
 * created step by step, group by group, best first, as there.
 */
function rankAllSteps(
  ctx: EvalContext,
  b: SeriesBuilder,
  outOf: (StepSeries | undefined)[],
  top: boolean,
  ks: Int32Array,
  series: StepSeries[],
  groupOf: number[],
  ngroups: number,
): Value {
  const steps = ks.length;
  let stride = 0;
  for (let i = 0; i < steps; i++) if ((ks[i] as number) > stride) stride = ks[i] as number;
  // Slot (step i, group g) starts at (i * ngroups + g) * stride.
  const count = new Int32Array(steps * ngroups);
  const index = new Int32Array(steps * ngroups * stride);
  const value = new Float64Array(steps * ngroups * stride);
  for (let j = 0; j < series.length; j++) {
    const s = series[j] as StepSeries;
    const { f, has, h } = s;
    const g = groupOf[j] as number;
    for (let i = 0; i < steps; i++) {
      if (!has[i]) continue;
      const k = ks[i] as number;
      if (k === 0) continue;
      if (h?.[i]) {
        ctx.infos.add(`PromQL info: ignored histogram in ${top ? 'topk' : 'bottomk'} aggregation`);
        continue;
      }
      const slot = i * ngroups + g;
      offerRanked(count, index, value, slot, slot * stride, k, f[i] as number, j, top);
    }
  }
  for (let i = 0; i < steps; i++) {
    for (let g = 0; g < ngroups; g++) {
      const slot = i * ngroups + g;
      const n = count[slot] as number;
      for (let c = 0; c < n; c++) {
        const j = index[slot * stride + c] as number;
        copyPoint(b, outOf, j, series[j] as StepSeries, i);
      }
    }
  }
  return { type: 'vector', series: b.series };
}

/** Whether a ranks strictly before b: larger (topk) or smaller (bottomk); NaN after every number. */
/**
 * Offers series j with value v to the ranking in `slot` (members from `base`,
 * at most k): it displaces only members it is strictly better than, so ties
 * keep series order; the last member falls off when the ranking is full.
 */
function offerRanked(
  count: Int32Array,
  index: Int32Array,
  value: Float64Array,
  slot: number,
  base: number,
  k: number,
  v: number,
  j: number,
  top: boolean,
): void {
  const c = count[slot] as number;
  if (c === k && !better(v, value[base + k - 1] as number, top)) return;
  let p = c === k ? k - 1 : c;
  while (p > 0 && better(v, value[base + p - 1] as number, top)) {
    value[base + p] = value[base + p - 1] as number;
    index[base + p] = index[base + p - 1] as number;
    p--;
  }
  value[base + p] = v;
  index[base + p] = j;
  if (c < k) count[slot] = c + 1;
}

function better(a: number, b: number, top: boolean): boolean {
  if (Number.isNaN(b)) return !Number.isNaN(a);
  return top ? a > b : a < b;
}

/** Copies input series j's point at step i to its output series (looked up once per series). */
function copyPoint(
  b: SeriesBuilder,
  outOf: (StepSeries | undefined)[],
  j: number,
  s: StepSeries,
  i: number,
): void {
  let o = outOf[j];
  if (o === undefined) {
    o = b.get(s.labels, s.dropName);
    outOf[j] = o;
  }
  const h = s.h?.[i];
  if (h) b.setH(o, i, h);
  else b.setF(o, i, s.f[i] as number);
}
