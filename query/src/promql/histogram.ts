import type { FloatHistogram, HistogramSpan } from '@promstream/storage';

/**
 * Native-histogram arithmetic on `FloatHistogram` (absolute bucket counts):
 * bucket iteration, scaling, schema reduction, addition and subtraction,
 * and the quantile/fraction estimates PromQL defines over them.
 */

/** A bucket with its bounds, in order of index. */
export interface Bucket {
  lower: number;
  upper: number;
  count: number;
  index: number;
}

/** A deep copy. */
export function copyH(h: FloatHistogram): FloatHistogram {
  return {
    counterResetHint: h.counterResetHint,
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    count: h.count,
    sum: h.sum,
    positiveSpans: h.positiveSpans.map((s) => ({ ...s })),
    negativeSpans: h.negativeSpans.map((s) => ({ ...s })),
    positiveBuckets: [...h.positiveBuckets],
    negativeBuckets: [...h.negativeBuckets],
    customValues: [...h.customValues],
  };
}

/** Whether the histogram uses custom bucket bounds (NHCB). */
export function isCustom(h: FloatHistogram): boolean {
  return h.schema === -53;
}

/** Upper bound of bucket `index` for an exponential schema. */
export function bucketUpper(schema: number, index: number): number {
  if (schema >= 0) return 2 ** (index / 2 ** schema);
  const factor = 2 ** -schema;
  return 2 ** (index * factor);
}

/** The index of the exponential bucket holding v (> 0). */
export function bucketIndex(schema: number, v: number): number {
  // Index i holds (base^(i-1), base^i] with base = 2^(2^-schema).
  const base = schema >= 0 ? 2 ** (2 ** -schema) : 2 ** (2 ** -schema);
  let i = Math.ceil(Math.log2(v) * 2 ** schema);
  if (schema < 0) i = Math.ceil(Math.log2(v) / 2 ** -schema);
  // Correct rounding at exact powers.
  while (bucketUpperSchema(schema, i) < v) i++;
  while (bucketUpperSchema(schema, i - 1) >= v) i--;
  void base;
  return i;
}

function bucketUpperSchema(schema: number, i: number): number {
  return bucketUpper(schema, i);
}

/** Expands spans and buckets into a map index → count. */
function toMap(spans: HistogramSpan[], buckets: number[]): Map<number, number> {
  const m = new Map<number, number>();
  let idx = 0;
  let b = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let j = 0; j < s.length; j++) {
      m.set(idx, (m.get(idx) ?? 0) + (buckets[b] ?? 0));
      idx++;
      b++;
    }
  }
  return m;
}

/** Builds spans and buckets from an index → count map (keeps zero buckets between used ones compactly). */
function fromMap(m: Map<number, number>): { spans: HistogramSpan[]; buckets: number[] } {
  const idxs = [...m.keys()].filter((k) => (m.get(k) ?? 0) !== 0).sort((a, b) => a - b);
  const spans: { offset: number; length: number }[] = [];
  const buckets: number[] = [];
  let prevEnd = 0;
  let first = true;
  for (const i of idxs) {
    const last = spans[spans.length - 1];
    if (!first && last && i === prevEnd) {
      last.length++;
    } else if (!first && last && i - prevEnd <= 2) {
      // Fill small gaps with zero buckets rather than opening a span.
      for (let g = prevEnd; g < i; g++) buckets.push(0);
      last.length += i - prevEnd + 1;
    } else {
      spans.push({ offset: first ? i : i - prevEnd, length: 1 });
    }
    buckets.push(m.get(i) as number);
    prevEnd = i + 1;
    first = false;
  }
  return { spans, buckets };
}

/** Reduces a map of buckets to a coarser exponential schema. */
function reduceMap(m: Map<number, number>, from: number, to: number): Map<number, number> {
  if (from === to) return m;
  const out = new Map<number, number>();
  const shift = from - to;
  for (const [i, c] of m) {
    // Bucket i at schema `from` lands in ceil(i / 2^shift) at schema `to`.
    const j = Math.ceil(i / 2 ** shift);
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

/** Returns a copy with the given (lower or equal) schema. */
export function withSchema(h: FloatHistogram, schema: number): FloatHistogram {
  if (h.schema === schema || isCustom(h)) return copyH(h);
  const p = fromMap(reduceMap(toMap(h.positiveSpans, h.positiveBuckets), h.schema, schema));
  const n = fromMap(reduceMap(toMap(h.negativeSpans, h.negativeBuckets), h.schema, schema));
  return {
    ...copyH(h),
    schema,
    positiveSpans: p.spans,
    positiveBuckets: p.buckets,
    negativeSpans: n.spans,
    negativeBuckets: n.buckets,
  };
}

/** Error thrown when histograms with different custom bounds meet. */
export class IncompatibleBoundsError extends Error {}

/** a + sign*b as a new histogram; throws IncompatibleBoundsError for mismatched custom buckets. */
export function addH(a: FloatHistogram, b: FloatHistogram, sign = 1): FloatHistogram {
  if (isCustom(a) !== isCustom(b)) throw new IncompatibleBoundsError('mix of exponential and custom buckets');
  if (isCustom(a)) {
    if (
      a.customValues.length !== b.customValues.length ||
      a.customValues.some((v, i) => v !== b.customValues[i])
    )
      throw new IncompatibleBoundsError('custom buckets differ');
  }
  const schema = Math.min(a.schema, b.schema);
  let zt = a.zeroThreshold;
  let zc = a.zeroCount + sign * b.zeroCount;
  let pa = reduceMap(toMap(a.positiveSpans, a.positiveBuckets), a.schema, schema);
  let na = reduceMap(toMap(a.negativeSpans, a.negativeBuckets), a.schema, schema);
  let pb = reduceMap(toMap(b.positiveSpans, b.positiveBuckets), b.schema, schema);
  let nb = reduceMap(toMap(b.negativeSpans, b.negativeBuckets), b.schema, schema);
  if (!isCustom(a) && a.zeroThreshold !== b.zeroThreshold) {
    // Widen to the larger zero bucket, moving buckets that fall inside it.
    zt = Math.max(a.zeroThreshold, b.zeroThreshold);
    zc = 0;
    const absorb = (m: Map<number, number>, s: number): number => {
      let sum = 0;
      for (const [i, c] of [...m]) {
        if (bucketUpper(schema, i) <= zt) {
          sum += c * s;
          m.delete(i);
        }
      }
      return sum;
    };
    pa = new Map(pa);
    na = new Map(na);
    pb = new Map(pb);
    nb = new Map(nb);
    zc = a.zeroCount + absorb(pa, 1) + absorb(na, 1) + sign * (b.zeroCount + absorb(pb, 1) + absorb(nb, 1));
  }
  const pm = new Map(pa);
  for (const [i, c] of pb) pm.set(i, (pm.get(i) ?? 0) + sign * c);
  const nm = new Map(na);
  for (const [i, c] of nb) nm.set(i, (nm.get(i) ?? 0) + sign * c);
  const p = isCustom(a) ? fromMapKeepZeros(pm) : fromMap(pm);
  const n = fromMap(nm);
  return {
    counterResetHint: 0,
    schema,
    zeroThreshold: zt,
    zeroCount: zc,
    count: a.count + sign * b.count,
    sum: a.sum + sign * b.sum,
    positiveSpans: p.spans,
    positiveBuckets: p.buckets,
    negativeSpans: n.spans,
    negativeBuckets: n.buckets,
    customValues: [...a.customValues],
  };
}

function fromMapKeepZeros(m: Map<number, number>): { spans: HistogramSpan[]; buckets: number[] } {
  return fromMap(m);
}

/** h * f as a new histogram (a negative factor flips signs of counts, as Prometheus does). */
export function scaleH(h: FloatHistogram, f: number): FloatHistogram {
  const c = copyH(h);
  c.zeroCount *= f;
  c.count *= f;
  c.sum *= f;
  c.positiveBuckets = c.positiveBuckets.map((x) => x * f);
  c.negativeBuckets = c.negativeBuckets.map((x) => x * f);
  c.counterResetHint = 0;
  return c;
}

/** All buckets in ascending order of their bounds (negative, zero, positive). */
export function buckets(h: FloatHistogram): Bucket[] {
  const out: Bucket[] = [];
  if (isCustom(h)) {
    const m = toMap(h.positiveSpans, h.positiveBuckets);
    for (const [i, c] of [...m].sort((x, y) => x[0] - y[0])) {
      const upper = h.customValues[i] ?? Number.POSITIVE_INFINITY;
      const lower = i === 0 ? Number.NEGATIVE_INFINITY : (h.customValues[i - 1] as number);
      out.push({ lower, upper, count: c, index: i });
    }
    return out;
  }
  const neg = [...toMap(h.negativeSpans, h.negativeBuckets)].sort((x, y) => y[0] - x[0]);
  for (const [i, c] of neg) {
    out.push({ lower: -bucketUpper(h.schema, i), upper: -bucketUpper(h.schema, i - 1), count: c, index: i });
  }
  // The zero bucket is always listed, even when empty, so quantiles can interpolate across it.
  out.push({ lower: -h.zeroThreshold, upper: h.zeroThreshold, count: h.zeroCount, index: 0 });
  const pos = [...toMap(h.positiveSpans, h.positiveBuckets)].sort((x, y) => x[0] - y[0]);
  for (const [i, c] of pos) {
    out.push({ lower: bucketUpper(h.schema, i - 1), upper: bucketUpper(h.schema, i), count: c, index: i });
  }
  return out;
}

/** Whether two histograms are equal in every field that matters for comparison. */
export function equalH(a: FloatHistogram, b: FloatHistogram): boolean {
  if (a.schema !== b.schema || a.count !== b.count || a.zeroCount !== b.zeroCount) return false;
  if (a.zeroThreshold !== b.zeroThreshold) return false;
  if (!(a.sum === b.sum || (Number.isNaN(a.sum) && Number.isNaN(b.sum)))) return false;
  const eqMap = (x: Map<number, number>, y: Map<number, number>) => {
    const keys = new Set([...x.keys(), ...y.keys()]);
    for (const k of keys) if ((x.get(k) ?? 0) !== (y.get(k) ?? 0)) return false;
    return true;
  };
  if (isCustom(a) && a.customValues.join(',') !== b.customValues.join(',')) return false;
  return (
    eqMap(toMap(a.positiveSpans, a.positiveBuckets), toMap(b.positiveSpans, b.positiveBuckets)) &&
    eqMap(toMap(a.negativeSpans, a.negativeBuckets), toMap(b.negativeSpans, b.negativeBuckets))
  );
}

/** Whether the counts went down anywhere from prev to cur (a counter reset). */
export function detectReset(prev: FloatHistogram, cur: FloatHistogram): boolean {
  if (cur.counterResetHint === 1) return true;
  if (cur.counterResetHint === 3) return false;
  if (cur.count < prev.count) return true;
  if (isCustom(prev) !== isCustom(cur)) return true;
  if (isCustom(cur) && prev.customValues.join(',') !== cur.customValues.join(',')) return true;
  if (cur.schema > prev.schema) return true;
  if (cur.zeroThreshold < prev.zeroThreshold) return true;
  if (cur.zeroCount < prev.zeroCount && cur.zeroThreshold === prev.zeroThreshold) return true;
  const schema = Math.min(prev.schema, cur.schema);
  const check = (ps: HistogramSpan[], pb: number[], cs: HistogramSpan[], cb: number[]) => {
    const pm = reduceMap(toMap(ps, pb), prev.schema, schema);
    const cm = reduceMap(toMap(cs, cb), cur.schema, schema);
    for (const [i, c] of pm) if ((cm.get(i) ?? 0) < c) return true;
    return false;
  };
  return (
    check(prev.positiveSpans, prev.positiveBuckets, cur.positiveSpans, cur.positiveBuckets) ||
    check(prev.negativeSpans, prev.negativeBuckets, cur.negativeSpans, cur.negativeBuckets)
  );
}

/** Buckets with the zero bucket narrowed to one side when the histogram has buckets on one side only. */
function bucketsForEstimate(h: FloatHistogram): Bucket[] {
  const bs = buckets(h);
  if (isCustom(h)) return bs;
  const onlyPos = h.negativeBuckets.length === 0 && h.positiveBuckets.length > 0;
  const onlyNeg = h.positiveBuckets.length === 0 && h.negativeBuckets.length > 0;
  for (const b of bs) {
    if (b.lower < 0 && b.upper > 0 && b.lower === -h.zeroThreshold) {
      if (onlyPos) b.lower = 0;
      else if (onlyNeg) b.upper = 0;
    }
  }
  return bs;
}

function isZeroBucket(h: FloatHistogram, b: Bucket): boolean {
  return !isCustom(h) && b.lower <= 0 && b.upper >= 0;
}

/** The φ-quantile estimated from a native histogram (Prometheus' interpolation rules). */
export function quantileH(q: number, h: FloatHistogram): number {
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  if (h.count === 0 || Number.isNaN(q)) return Number.NaN;
  const all = bucketsForEstimate(h);
  // Below the median walk up from the bottom, above it down from the top, for precision.
  const forward = Number.isNaN(h.sum) || q < 0.5;
  const order = forward ? all : [...all].reverse();
  const rank = forward ? q * h.count : (1 - q) * h.count;
  let acc = 0;
  let chosen: Bucket | undefined;
  for (const b of order) {
    if (b.count === 0) continue;
    chosen = b;
    acc += b.count;
    if (acc >= rank) break;
  }
  if (!chosen) return Number.NaN;
  const b = { ...chosen };
  if (isCustom(h)) {
    if (b.lower === Number.NEGATIVE_INFINITY) {
      if (b.upper <= 0) return b.upper;
      b.lower = 0;
    } else if (b.upper === Number.POSITIVE_INFINITY) return b.lower;
  }
  if (acc > h.count) acc = h.count;
  // The rank lies among NaN observations, which have no place in any bucket.
  if (acc < rank) return Number.isNaN(h.sum) ? Number.NaN : b.upper;
  let fraction = (rank - (acc - b.count)) / b.count;
  if (!forward) fraction = 1 - fraction;
  if (isCustom(h) || isZeroBucket(h, b)) return b.lower + (b.upper - b.lower) * fraction;
  const logLower = Math.log2(Math.abs(b.lower));
  const logUpper = Math.log2(Math.abs(b.upper));
  if (b.lower > 0) return 2 ** (logLower + (logUpper - logLower) * fraction);
  return -(2 ** (logUpper + (logLower - logUpper) * (1 - fraction)));
}

/** The estimated fraction of observations in [lower, upper]. */
export function fractionH(lower: number, upper: number, h: FloatHistogram): number {
  if (h.count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return Number.NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (const b of bucketsForEstimate(h)) {
    const zero = isZeroBucket(h, b);
    if (isCustom(h) && b.lower === Number.NEGATIVE_INFINITY && b.upper > 0) b.lower = 0;
    const linear = (v: number) => rank + (b.count * (v - b.lower)) / (b.upper - b.lower);
    const exponential = (v: number) => {
      const logLower = Math.log2(Math.abs(b.lower));
      const logUpper = Math.log2(Math.abs(b.upper));
      const logV = Math.log2(Math.abs(v));
      const f =
        v > 0 ? (logV - logLower) / (logUpper - logLower) : 1 - (logV - logUpper) / (logLower - logUpper);
      return rank + b.count * f;
    };
    const interp = (v: number) => (isCustom(h) || zero ? linear(v) : exponential(v));
    if (!lowerSet && b.lower >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && b.lower >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && b.lower < lower && b.upper > lower) {
      lowerRank = interp(lower);
      lowerSet = true;
    }
    if (!upperSet && b.lower < upper && b.upper > upper) {
      upperRank = interp(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank += b.count;
  }
  // NaN observations count in the total but fall in no bucket.
  let cap = h.count;
  if (Number.isNaN(h.sum)) {
    cap = h.zeroCount;
    for (const c of h.positiveBuckets) cap += c;
    for (const c of h.negativeBuckets) cap += c;
  }
  if (!lowerSet || lowerRank > cap) lowerRank = cap;
  if (!upperSet || upperRank > cap) upperRank = cap;
  return (upperRank - lowerRank) / h.count;
}

/** Mean of the observations in one bucket, as used for stddev/stdvar estimates. */
export function bucketMidpoint(h: FloatHistogram, b: Bucket): number {
  if (!isCustom(h) && b.lower === -h.zeroThreshold && b.upper === h.zeroThreshold) return 0;
  if (isCustom(h)) {
    if (b.upper === Number.POSITIVE_INFINITY) return b.lower;
    if (b.lower === Number.NEGATIVE_INFINITY) return b.upper;
    return (b.lower + b.upper) / 2;
  }
  if (b.lower >= 0) return Math.sqrt(b.lower * b.upper);
  return -Math.sqrt(b.lower * b.upper);
}

/** Estimated variance of the observations. */
export function stdvarH(h: FloatHistogram): number {
  if (h.count === 0) return Number.NaN;
  const mean = h.sum / h.count;
  let acc = 0;
  for (const b of buckets(h)) {
    if (b.count === 0) continue;
    const d = bucketMidpoint(h, b) - mean;
    acc += b.count * d * d;
  }
  return acc / h.count;
}

/** Drops empty buckets; used before printing. */
export function compactH(h: FloatHistogram): FloatHistogram {
  if (isCustom(h)) {
    const m = toMap(h.positiveSpans, h.positiveBuckets);
    const p = fromMap(m);
    return { ...h, positiveSpans: p.spans, positiveBuckets: p.buckets };
  }
  const p = fromMap(toMap(h.positiveSpans, h.positiveBuckets));
  const n = fromMap(toMap(h.negativeSpans, h.negativeBuckets));
  return {
    ...h,
    positiveSpans: p.spans,
    positiveBuckets: p.buckets,
    negativeSpans: n.spans,
    negativeBuckets: n.buckets,
  };
}

/** The histogram as an index → count map for the positive (or negative) side. */
export function bucketMap(h: FloatHistogram, negative: boolean): Map<number, number> {
  return negative ? toMap(h.negativeSpans, h.negativeBuckets) : toMap(h.positiveSpans, h.positiveBuckets);
}
