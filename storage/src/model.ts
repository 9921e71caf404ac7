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
  /**
   * Bulk copy, offered by iterators that can copy a run of float samples at
   * once (block chunks, decoded columns): copies the current sample and the
   * float samples after it into `t`/`f` from index `at`, stopping before
   * index `limit`, past `maxt`, at the iterator's own end or at a histogram;
   * leaves the iterator on the last sample copied and returns how many were
   * copied (0 only when the current sample is past `maxt` or `at >= limit`).
   * Call only while positioned on a float sample; `next()` then moves past
   * the copied ones. The samples are exactly those `next()` would give.
   */
  copyFloats?(t: Float64Array, f: Float64Array, at: number, limit: number, maxt: number): number;
}

/**
 * A compressed chunk of a series as a block holds it: a series read from
 * blocks alone offers its chunks, so they can cross to another thread as
 * bytes instead of decoded samples.
 */
export interface SeriesChunk {
  /** First sample time in the chunk, inclusive, milliseconds. */
  readonly minTime: number;
  /** Last sample time in the chunk, inclusive, milliseconds. */
  readonly maxTime: number;
  /** Chunk encoding as Prometheus numbers them (1: XOR). */
  readonly encoding: number;
  /** The chunk's bytes, with the XOR sample-count header. */
  readonly bytes: Uint8Array;
}

/** One series a querier returns: its labels and iterators over its samples. */
export interface Series {
  readonly labels: Labels;
  /**
   * The series' chunks overlapping the select's range, in time order, when
   * it reads from blocks alone; decoded and clipped to [mint, maxt] they give
   * the iterator's samples. Absent for series from other sources.
   */
  readonly chunks?: readonly SeriesChunk[];
  /**
   * A fresh iterator over the samples in time order, one sample per
   * timestamp. The caller may hand back an iterator it has finished with
   * (from this or another series of any querier); an implementation reuses
   * it when it is one of its own and ignores it otherwise.
   */
  iterator(reuse?: SampleIterator): SampleIterator;
}

/** Hints a querier may use to read less; it must still honour mint and maxt. */
export interface SelectHints {
  /** Inclusive start, milliseconds. */
  readonly mint: number;
  /** Inclusive end, milliseconds. */
  readonly maxt: number;
  /** Aborted when the query is cancelled. */
  readonly signal?: AbortSignal;
  /**
   * As Prometheus' `SelectHints.Func`: `'series'` when the caller reads only
   * the labels (`/api/v1/series`), so a querier may skip loading samples and
   * return series whose iterators are empty; otherwise the name of the
   * innermost function or aggregation around the selector (`rate`,
   * `max_over_time`, `sum`), which picks the aggregate read from downsampled
   * blocks.
   */
  readonly func?: string;
  /** The range of a range selector (`x[5m]`), milliseconds, as Prometheus' `SelectHints.Range`. */
  readonly range?: number;
}

/**
 * The read seam (Prometheus' storage.Querier): the in-memory head, the block
 * reader, their merge and the evaluation thread's view all implement it.
 * The contract every implementation keeps is checked by one suite,
 * `query/test/querier.contract.test.ts`.
 */
export interface Querier {
  /**
   * Series matching every matcher that have samples in [mint, maxt] (both
   * ends inclusive), sorted by labels, each once. A series whose samples lie
   * on both sides of the range but none in it may be returned too (a chunk
   * spans the range); one whose samples all lie before mint or all after
   * maxt is not. Iterators may also yield samples outside the range:
   * readers seek to mint and stop past maxt.
   */
  select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]>;
  /** Label names present on series matching the matchers (all series when none), sorted. */
  labelNames(hints: SelectHints, matchers: readonly Matcher[]): Promise<string[]>;
  /** Values of one label on series matching the matchers, sorted. */
  labelValues(hints: SelectHints, name: string, matchers: readonly Matcher[]): Promise<string[]>;
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
