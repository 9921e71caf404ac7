import type { DurationExpr, Expr, MatrixSelector, VectorSelector } from './ast.js';
import type { RangeSeries, Value, VectorValue } from './values.js';

/** What operators and functions need from the running query. */
export interface EvalContext {
  /** Query start, end and step in milliseconds (step 0 for instant queries). */
  readonly start: number;
  readonly end: number;
  readonly interval: number;
  readonly lookback: number;
  readonly warnings: Set<string>;
  readonly infos: Set<string>;
  /** Throws when cancelled or out of time. */
  check(): void;
  /** Counts samples against the query's limit. */
  addSamples(n: number): void;
  duration(d: DurationExpr): number;
  eval(e: Expr, ts: Float64Array): Promise<Value>;
  vectorSelector(vs: VectorSelector, ts: Float64Array, withTimes: boolean): Promise<VectorValue>;
  /**
   * Hands a range selector's series to `visit` one at a time, each with its
   * index, the number selected, the window ends and the range; the series'
   * arrays are reused for the next one.
   */
  eachRangeSeries(
    ms: MatrixSelector,
    ts: Float64Array,
    visit: (s: RangeSeries, k: number, count: number, ends: Float64Array, range: number) => void,
  ): Promise<void>;
}
