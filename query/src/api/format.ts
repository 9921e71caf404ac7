import type { FloatHistogram, Labels } from '@promstream/storage';
import type { MatrixSeries, QueryValue, VectorSample } from '../engine-types.js';

/**
 * Prometheus' JSON encoding of query results, written straight to a string:
 * results can hold millions of points and an object per point would cost
 * more than the text itself. Floats are strings in Go's shortest `'f'`
 * format (never exponent notation), times are seconds with up to three
 * decimals.
 */

/** A float as Prometheus writes it: `NaN`, `+Inf`, `-Inf`, or plain decimal digits. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  return expandExponent(s.slice(0, e), Number(s.slice(e + 1)));
}

/** Rewrites `d.ddd` × 10^exp without an exponent, as Go's `'f'` with precision -1 does. */
function expandExponent(mantissa: string, exp: number): string {
  const negative = mantissa.startsWith('-');
  const body = negative ? mantissa.slice(1) : mantissa;
  const dot = body.indexOf('.');
  const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1);
  // Position of the decimal point counted from the start of `digits`.
  const point = (dot < 0 ? body.length : dot) + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}

/** A millisecond timestamp as Prometheus writes it: seconds, up to three decimals, no trailing zeros. */
export function formatTimestamp(ms: number): string {
  if (ms % 1000 === 0) return String(ms / 1000);
  const negative = ms < 0;
  const abs = Math.abs(ms);
  const seconds = Math.floor(abs / 1000);
  const frac = abs - seconds * 1000;
  let out = String(seconds);
  if (frac !== 0) {
    let f = String(Math.round(frac)).padStart(3, '0');
    while (f.endsWith('0')) f = f.slice(0, -1);
    out += `.${f}`;
  }
  return negative ? `-${out}` : out;
}

/** A label set as a JSON object, in label order. */
export function labelsJson(labels: Labels): string {
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) out += ',';
    out += `${JSON.stringify(l.name)}:${JSON.stringify(l.value)}`;
  }
  return `${out}}`;
}

/** The upper bound of bucket `index` of an exponential schema (Prometheus' bucket boundaries). */
export function exponentialBound(index: number, schema: number): number {
  if (schema <= 0) return 2 ** (index * 2 ** -schema);
  const perOctave = 2 ** schema;
  const octave = Math.floor(index / perOctave);
  const within = index - octave * perOctave;
  return 2 ** (within / perOctave) * 2 ** octave;
}

/** Bucket boundary rules of the API: 0 open left, 1 open right, 2 open both, 3 closed both. */
type BucketRow = [rule: number, lower: number, upper: number, count: number];

/** Every non-empty bucket of a histogram from the lowest values to the highest. */
export function histogramBuckets(h: FloatHistogram): BucketRow[] {
  const rows: BucketRow[] = [];
  if (h.schema === -53) {
    // Custom buckets: bucket i spans (customValues[i-1], customValues[i]], the first from -Inf, the last to +Inf.
    forEachBucket(h.positiveSpans, h.positiveBuckets, (i, count) => {
      const lower = i === 0 ? Number.NEGATIVE_INFINITY : (h.customValues[i - 1] ?? Number.POSITIVE_INFINITY);
      const upper = h.customValues[i] ?? Number.POSITIVE_INFINITY;
      if (count !== 0) rows.push([0, lower, upper, count]);
    });
    return rows;
  }
  const negatives: BucketRow[] = [];
  forEachBucket(h.negativeSpans, h.negativeBuckets, (i, count) => {
    if (count !== 0)
      negatives.push([1, -exponentialBound(i, h.schema), -exponentialBound(i - 1, h.schema), count]);
  });
  for (let i = negatives.length - 1; i >= 0; i--) rows.push(negatives[i]!);
  if (h.zeroCount !== 0) rows.push([3, -h.zeroThreshold, h.zeroThreshold, h.zeroCount]);
  forEachBucket(h.positiveSpans, h.positiveBuckets, (i, count) => {
    if (count !== 0) rows.push([0, exponentialBound(i - 1, h.schema), exponentialBound(i, h.schema), count]);
  });
  return rows;
}

function forEachBucket(
  spans: FloatHistogram['positiveSpans'],
  buckets: readonly number[],
  fn: (index: number, count: number) => void,
): void {
  let index = 0;
  let b = 0;
  for (let s = 0; s < spans.length; s++) {
    const span = spans[s]!;
    index += span.offset;
    for (let j = 0; j < span.length; j++) {
      fn(index, buckets[b] ?? 0);
      index++;
      b++;
    }
  }
}

/** A native histogram as the API writes it: count, sum and its non-empty buckets. */
export function histogramJson(h: FloatHistogram): string {
  let out = `{"count":"${formatFloat(h.count)}","sum":"${formatFloat(h.sum)}"`;
  const rows = histogramBuckets(h);
  if (rows.length > 0) {
    out += ',"buckets":[';
    for (let i = 0; i < rows.length; i++) {
      const [rule, lower, upper, count] = rows[i]!;
      if (i > 0) out += ',';
      out += `[${rule},"${formatFloat(lower)}","${formatFloat(upper)}","${formatFloat(count)}"]`;
    }
    out += ']';
  }
  return `${out}}`;
}

/**
 * Timestamps repeat across the series of one answer (every series of a range
 * query has the same steps), so each is formatted once per answer.
 */
class TimeText {
  private readonly cache = new Map<number, string>();
  get(ms: number): string {
    let s = this.cache.get(ms);
    if (s === undefined) {
      s = formatTimestamp(ms);
      if (this.cache.size < 100_000) this.cache.set(ms, s);
    }
    return s;
  }
}

function vectorSampleJson(s: VectorSample, times: TimeText): string {
  const metric = `{"metric":${labelsJson(s.metric)},`;
  if (s.h !== undefined) return `${metric}"histogram":[${times.get(s.t)},${histogramJson(s.h)}]}`;
  return `${metric}"value":[${times.get(s.t)},"${formatFloat(s.f)}"]}`;
}

function matrixSeriesJson(s: MatrixSeries, times: TimeText): string {
  let out = `{"metric":${labelsJson(s.metric)}`;
  const floats = s.floats;
  if (floats.length > 0) {
    out += ',"values":[';
    for (let i = 0; i < floats.length; i++) {
      const p = floats[i]!;
      out += `${i > 0 ? ',' : ''}[${times.get(p.t)},"${formatFloat(p.f)}"]`;
    }
    out += ']';
  }
  const hs = s.histograms;
  if (hs.length > 0) {
    out += ',"histograms":[';
    for (let i = 0; i < hs.length; i++) {
      const p = hs[i]!;
      out += `${i > 0 ? ',' : ''}[${times.get(p.t)},${histogramJson(p.h)}]`;
    }
    out += ']';
  }
  return `${out}}`;
}

/** The `data` object of a query answer. */
export function queryDataJson(value: QueryValue): string {
  const times = new TimeText();
  let result: string;
  switch (value.resultType) {
    case 'vector': {
      result = '[';
      const r = value.result;
      for (let i = 0; i < r.length; i++) result += (i > 0 ? ',' : '') + vectorSampleJson(r[i]!, times);
      result += ']';
      break;
    }
    case 'matrix': {
      result = '[';
      const r = value.result;
      for (let i = 0; i < r.length; i++) result += (i > 0 ? ',' : '') + matrixSeriesJson(r[i]!, times);
      result += ']';
      break;
    }
    case 'scalar':
      result = `[${formatTimestamp(value.result.t)},"${formatFloat(value.result.f)}"]`;
      break;
    case 'string':
      result = `[${formatTimestamp(value.result.t)},${JSON.stringify(value.result.s)}]`;
      break;
  }
  return `{"resultType":"${value.resultType}","result":${result}}`;
}

/** A success answer around already-encoded `data`, with annotations when there are any. */
export function successBody(
  dataJson: string,
  warnings: readonly string[] = [],
  infos: readonly string[] = [],
): string {
  let out = `{"status":"success","data":${dataJson}`;
  if (warnings.length > 0) out += `,"warnings":${JSON.stringify(warnings)}`;
  if (infos.length > 0) out += `,"infos":${JSON.stringify(infos)}`;
  return `${out}}`;
}
