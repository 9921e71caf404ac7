import type { FloatHistogram, Labels } from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import { labelsKey } from './labels.js';

/**
 * The evaluator's value shapes. An expression is evaluated at a list of
 * times at once (a `Float64Array` of milliseconds); an instant vector holds,
 * per series, one slot per time in typed arrays with a presence mask.
 */

/** One series of an instant vector over all evaluation times. */
export interface StepSeries {
  labels: Labels;
  /** Float value per time (meaningful where `has` is 1 and no histogram is set). */
  f: Float64Array;
  /** Histogram per time, or null when the series has none. */
  h: (FloatHistogram | undefined)[] | null;
  /** 1 where the series has a value at that time. */
  has: Uint8Array;
  /** Whether the metric name is to be removed when the query finishes (delayed name removal). */
  dropName: boolean;
}

/** Raw samples of one series, as a range selector or subquery yields them. */
export interface RangeSeries {
  labels: Labels;
  t: Float64Array;
  f: Float64Array;
  h: (FloatHistogram | undefined)[] | null;
  n: number;
  dropName: boolean;
}

export interface VectorValue {
  type: 'vector';
  series: StepSeries[];
}
export interface ScalarValue {
  type: 'scalar';
  v: Float64Array;
}
export interface StringValue {
  type: 'string';
  s: string;
}
/** A range vector: raw series and, per evaluation time, the window (end - range, end]. */
export interface MatrixValue {
  type: 'matrix';
  series: RangeSeries[];
  ends: Float64Array;
  range: number;
}

export type Value = VectorValue | ScalarValue | StringValue | MatrixValue;

/** Builds the output series of an operation step by step, keyed by label set. */
export class SeriesBuilder {
  readonly series: StepSeries[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly steps: number) {}

  /** The series for a label set, created on first use. */
  get(labels: Labels, dropName: boolean, key = labelsKey(labels)): StepSeries {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.series.length;
      this.index.set(key, i);
      this.series.push({
        labels,
        f: new Float64Array(this.steps),
        h: null,
        has: new Uint8Array(this.steps),
        dropName,
      });
    }
    return this.series[i] as StepSeries;
  }

  /** Sets a float at step i; a second value for the same labels and step is an error. */
  setF(s: StepSeries, i: number, v: number): void {
    if (s.has[i]) throw duplicateLabelset();
    s.has[i] = 1;
    s.f[i] = v;
  }

  /** Sets a histogram at step i. */
  setH(s: StepSeries, i: number, h: FloatHistogram): void {
    if (s.has[i]) throw duplicateLabelset();
    s.has[i] = 1;
    if (!s.h) s.h = new Array(this.steps);
    s.h[i] = h;
  }
}

/** The error for two series with one label set at one time. */
export function duplicateLabelset(): EngineError {
  return new EngineError('execution', 'vector cannot contain metrics with the same labelset');
}

/** A new empty step series. */
export function newStepSeries(labels: Labels, steps: number, dropName: boolean): StepSeries {
  return { labels, f: new Float64Array(steps), h: null, has: new Uint8Array(steps), dropName };
}

/** Sets a histogram slot of a step series. */
export function putH(s: StepSeries, i: number, h: FloatHistogram, steps: number): void {
  if (!s.h) s.h = new Array(steps);
  s.h[i] = h;
  s.has[i] = 1;
}

/** Index of the last time <= ref in t[0..n), or -1. */
export function lastAtOrBefore(t: Float64Array, n: number, ref: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((t[mid] as number) <= ref) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
