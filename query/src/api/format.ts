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

/** The evaluation times of a range query: `start + i * step` for i in [0, count). */
export interface TimeGrid {
  start: number;
  step: number;
  count: number;
}

/**
 * Timestamps repeat across the series of one answer (every series of a range
 * query has the same steps), so each is formatted once per answer. Times on
 * the range query's grid are found by index, others through a map.
 */
class TimeText {
  private readonly cache = new Map<number, string>();
  private readonly onGrid: string[] = [];

  constructor(private readonly grid?: TimeGrid) {
    if (grid !== undefined && grid.step > 0 && grid.count <= 100_000)
      for (let i = 0; i < grid.count; i++) this.onGrid.push(formatTimestamp(grid.start + i * grid.step));
  }

  get(ms: number): string {
    const g = this.grid;
    if (g !== undefined && this.onGrid.length > 0) {
      const i = Math.round((ms - g.start) / g.step);
      // The engine computes step times as start + i * step: the same expression, the same double.
      if (i >= 0 && i < this.onGrid.length && g.start + i * g.step === ms) return this.onGrid[i]!;
    }
    let s = this.cache.get(ms);
    if (s === undefined) {
      s = formatTimestamp(ms);
      if (this.cache.size < 100_000) this.cache.set(ms, s);
    }
    return s;
  }
}

/** Size of an answer's first byte chunk; each next one doubles, up to `MAX_CHUNK_BYTES`. */
const FIRST_CHUNK_BYTES = 4 * 1024;
/** Largest byte chunk an answer is written in. */
const MAX_CHUNK_BYTES = 256 * 1024;

/**
 * JSON text collected as bytes in fixed-size chunks: an answer's millions of
 * points are written character by character into typed arrays, with no
 * string per point and no rope of concatenations to flatten and encode
 * afterwards. `onChunk` sees each chunk when it is full (to compress while
 * the rest is written).
 */
export class JsonSink {
  private buf = new Uint8Array(FIRST_CHUNK_BYTES);
  private at = 0;
  private readonly full: Uint8Array[] = [];

  constructor(private readonly onChunk?: (chunk: Uint8Array) => void) {}

  /** Bytes written so far. */
  get length(): number {
    let n = this.at;
    for (const c of this.full) n += c.length;
    return n;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    this.emit();
    if (n > this.buf.length) this.buf = new Uint8Array(n);
  }

  private emit(): void {
    if (this.at === 0) return;
    const chunk = this.buf.subarray(0, this.at);
    this.full.push(chunk);
    this.onChunk?.(chunk);
    // Small answers stay small; large ones go in few large chunks.
    this.buf = new Uint8Array(Math.min(this.buf.length * 2, MAX_CHUNK_BYTES));
    this.at = 0;
  }

  /** Writes text known to be ASCII (numbers, keys, punctuation). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const b = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) b[at++] = s.charCodeAt(i);
    this.at = at;
  }

  /** Writes `[<time>,"<value>"]` (both ASCII): one point, with one room check. */
  point(time: string, value: string): void {
    const tn = time.length;
    const vn = value.length;
    this.room(tn + vn + 5);
    const b = this.buf;
    let at = this.at;
    b[at++] = OPEN_BRACKET;
    for (let i = 0; i < tn; i++) b[at++] = time.charCodeAt(i);
    b[at++] = COMMA;
    b[at++] = QUOTE;
    for (let i = 0; i < vn; i++) b[at++] = value.charCodeAt(i);
    b[at++] = QUOTE;
    b[at++] = CLOSE_BRACKET;
    this.at = at;
  }

  /** Writes one ASCII character code. */
  byte(c: number): void {
    this.room(1);
    this.buf[this.at++] = c;
  }

  /** Writes any text as UTF-8. */
  text(s: string): void {
    if (isAscii(s)) this.ascii(s);
    else {
      const b = Buffer.from(s, 'utf8');
      this.room(b.length);
      this.buf.set(b, this.at);
      this.at += b.length;
    }
  }

  /** Writes a JSON string literal of `s`. */
  string(s: string): void {
    if (isPlainAscii(s)) {
      this.byte(QUOTE);
      this.ascii(s);
      this.byte(QUOTE);
    } else this.text(JSON.stringify(s));
  }

  /** Ends the text: every chunk, the last one too (which `onChunk` also sees). */
  finish(): Uint8Array[] {
    this.emit();
    return this.full;
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Printable ASCII without quote or backslash: its JSON literal is the text in quotes. */
function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return false;
  }
  return true;
}

function writeLabels(out: JsonSink, labels: Labels): void {
  out.byte(OPEN_BRACE);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) out.byte(COMMA);
    out.string(l.name);
    out.byte(COLON);
    out.string(l.value);
  }
  out.byte(CLOSE_BRACE);
}

/** `[<time>,"<value>"]` */
function writePoint(out: JsonSink, time: string, value: number): void {
  out.point(time, formatFloat(value));
}

function writeVectorSample(out: JsonSink, s: VectorSample, times: TimeText): void {
  out.ascii('{"metric":');
  writeLabels(out, s.metric);
  if (s.h !== undefined) {
    out.ascii(`,"histogram":[${times.get(s.t)},`);
    out.text(histogramJson(s.h));
    out.ascii(']}');
    return;
  }
  out.ascii(',"value":');
  writePoint(out, times.get(s.t), s.f);
  out.byte(CLOSE_BRACE);
}

function writeMatrixSeries(out: JsonSink, s: MatrixSeries, times: TimeText): void {
  out.ascii('{"metric":');
  writeLabels(out, s.metric);
  const { t, f } = s.floats;
  if (t.length > 0) {
    out.ascii(',"values":[');
    for (let i = 0; i < t.length; i++) {
      if (i > 0) out.byte(COMMA);
      writePoint(out, times.get(t[i]!), f[i]!);
    }
    out.byte(CLOSE_BRACKET);
  }
  const hs = s.histograms;
  if (hs.length > 0) {
    out.ascii(',"histograms":[');
    for (let i = 0; i < hs.length; i++) {
      const p = hs[i]!;
      if (i > 0) out.byte(COMMA);
      out.ascii(`[${times.get(p.t)},`);
      out.text(histogramJson(p.h));
      out.byte(CLOSE_BRACKET);
    }
    out.byte(CLOSE_BRACKET);
  }
  out.byte(CLOSE_BRACE);
}

/**
 * Writes the `data` object of a query answer (`grid`: a range query's
 * evaluation times), pausing after each series (see `queryAnswerParts`).
 */
function* queryDataParts(out: JsonSink, value: QueryValue, grid?: TimeGrid): Generator<void> {
  const times = new TimeText(grid);
  out.ascii(`{"resultType":"${value.resultType}","result":`);
  switch (value.resultType) {
    case 'vector': {
      out.byte(OPEN_BRACKET);
      const r = value.result;
      for (let i = 0; i < r.length; i++) {
        if (i > 0) out.byte(COMMA);
        writeVectorSample(out, r[i]!, times);
        yield;
      }
      out.byte(CLOSE_BRACKET);
      break;
    }
    case 'matrix': {
      out.byte(OPEN_BRACKET);
      const r = value.result;
      for (let i = 0; i < r.length; i++) {
        if (i > 0) out.byte(COMMA);
        writeMatrixSeries(out, r[i]!, times);
        yield;
      }
      out.byte(CLOSE_BRACKET);
      break;
    }
    case 'scalar':
      writePoint(out, formatTimestamp(value.result.t), value.result.f);
      break;
    case 'string':
      out.ascii(`[${formatTimestamp(value.result.t)},`);
      out.text(JSON.stringify(value.result.s));
      out.byte(CLOSE_BRACKET);
      break;
  }
  out.byte(CLOSE_BRACE);
}

/** Writes the `data` object of a query answer (`grid`: a range query's evaluation times). */
export function writeQueryData(out: JsonSink, value: QueryValue, grid?: TimeGrid): void {
  for (const _ of queryDataParts(out, value, grid));
}

/**
 * Writes a whole success answer of a query, with annotations when there are
 * any (`grid` as for `writeQueryData`). The generator pauses after each
 * series, so a caller may let finished chunks be compressed while the rest
 * is written; run to its end it has written the whole answer.
 */
export function* queryAnswerParts(
  out: JsonSink,
  value: QueryValue,
  warnings: readonly string[] = [],
  infos: readonly string[] = [],
  grid?: TimeGrid,
): Generator<void> {
  out.ascii('{"status":"success","data":');
  yield* queryDataParts(out, value, grid);
  if (warnings.length > 0) out.text(`,"warnings":${JSON.stringify(warnings)}`);
  if (infos.length > 0) out.text(`,"infos":${JSON.stringify(infos)}`);
  out.byte(CLOSE_BRACE);
}

/** Writes a whole success answer of a query at once (see `queryAnswerParts`). */
export function writeQueryAnswer(
  out: JsonSink,
  value: QueryValue,
  warnings: readonly string[] = [],
  infos: readonly string[] = [],
  grid?: TimeGrid,
): void {
  for (const _ of queryAnswerParts(out, value, warnings, infos, grid));
}

/** The `data` object of a query answer, as a string. */
export function queryDataJson(value: QueryValue): string {
  const out = new JsonSink();
  writeQueryData(out, value);
  return Buffer.concat(out.finish()).toString('utf8');
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
