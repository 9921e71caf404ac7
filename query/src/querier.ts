import type { Labels, Matcher, SampleIterator } from '@promstream/storage';

/** One series a querier returns: its labels and a fresh iterator over its samples. */
export interface Series {
  readonly labels: Labels;
  /** Iterates the samples in time order, one sample per timestamp. */
  iterator(): SampleIterator;
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
   * `'series'` when the caller reads only the labels (`/api/v1/series`), as
   * Prometheus' `SelectHints.Func`: a querier may then skip loading samples
   * and return series whose iterators are empty.
   */
  readonly func?: 'series';
}

/**
 * The narrow read seam of the query tier (Prometheus' storage.Querier): the
 * in-memory head, the block reader and their merge all implement it.
 */
export interface Querier {
  /** Series matching every matcher that may have samples in [mint, maxt], sorted by labels. */
  select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]>;
  /** Label names present on series matching the matchers (all series when none), sorted. */
  labelNames(hints: SelectHints, matchers: readonly Matcher[]): Promise<string[]>;
  /** Values of one label on series matching the matchers, sorted. */
  labelValues(hints: SelectHints, name: string, matchers: readonly Matcher[]): Promise<string[]>;
}
