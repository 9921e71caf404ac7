/**
 * The data model every package shares: labels, matchers, and the pull-based
 * sample iterator. Kept in one small file so the engine, the head, the block
 * reader and the ingest path agree on one shape.
 */

import { compileRegex } from './regex/regex.js';

/** One label pair. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/** A label set, sorted by name, names unique. `__name__` is the metric name. */
export type Labels = readonly Label[];

/** The four PromQL matcher kinds. */
export type MatchType = '=' | '!=' | '=~' | '!~';

/** A label matcher. Regex matchers are fully anchored, as in Prometheus. */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** Whether a label value (the empty string when the label is absent) matches. */
  matches(value: string): boolean;
}

/**
 * Builds a matcher. Regexes are RE2 with Prometheus' semantics (see
 * `compileRegex`): fully anchored, `.` matching newlines, linear-time; one
 * that does not compile throws a StorageError with code `invalid_regex` and
 * Go's message.
 */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  switch (type) {
    case '=':
      return { type, name, value, matches: (v) => v === value };
    case '!=':
      return { type, name, value, matches: (v) => v !== value };
    case '=~':
    case '!~': {
      const re = compileRegex(value);
      return type === '=~'
        ? { type, name, value, matches: (v) => re.matches(v) }
        : { type, name, value, matches: (v) => !re.matches(v) };
    }
  }
}

/** What an iterator is positioned on, as Prometheus' chunkenc.ValueType. */
export const ValueType = {
  None: 0,
  Float: 1,
  Histogram: 2,
  FloatHistogram: 3,
} as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** A span of consecutive buckets in a native histogram. */
export interface HistogramSpan {
  /** Gap to the previous span (or the start index of the first span). */
  readonly offset: number;
  readonly length: number;
}

/**
 * A native histogram sample with float counts (the form the engine computes
 * on). Bucket counts are absolute, not deltas.
 */
export interface FloatHistogram {
  /** 0 unknown, 1 counter reset, 2 not a counter reset, 3 gauge. */
  counterResetHint: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positiveSpans: HistogramSpan[];
  negativeSpans: HistogramSpan[];
  positiveBuckets: number[];
  negativeBuckets: number[];
  /** Upper bounds of the buckets for schema -53 (custom buckets), else empty. */
  customValues: number[];
}

/**
 * A pull-based iterator over the samples of one series, reusable across
 * chunks and allocation-free per float sample (Prometheus' chunkenc.Iterator).
 */
export interface SampleIterator {
  /** Advances to the next sample; ValueType.None at the end or on error. */
  next(): ValueType;
  /** Advances to the first sample with time >= t (never moves back). */
  seek(t: number): ValueType;
  /** Time of the current sample, milliseconds since the epoch. */
  atT(): number;
  /** Value of the current float sample. */
  at(): number;
  /** The current histogram sample (ValueType.Histogram or FloatHistogram). */
  atHistogram(): FloatHistogram;
  /** The error that ended iteration, if any. */
  err(): Error | undefined;
}

/** The bit pattern Prometheus uses for a staleness marker. */
export const STALE_NAN_BITS = 0x7ff0000000000002n;

const staleView = new DataView(new ArrayBuffer(8));
staleView.setBigUint64(0, STALE_NAN_BITS);
/** The staleness marker as a number (a NaN with a specific payload). */
export const STALE_NAN = staleView.getFloat64(0);

/**
 * The staleness marker with the NaN quiet bit set. JavaScript engines may set
 * that bit when a NaN is stored in an object field or array, so both forms
 * count as stale; the XOR encoder writes Prometheus' exact bits.
 */
export const QUIET_STALE_NAN_BITS = 0x7ff8000000000002n;

/** Whether a float is the staleness marker (exact bits, or with the quiet bit set). */
export function isStaleNaN(v: number): boolean {
  if (!Number.isNaN(v)) return false;
  staleView.setFloat64(0, v);
  const bits = staleView.getBigUint64(0);
  return bits === STALE_NAN_BITS || bits === QUIET_STALE_NAN_BITS;
}
