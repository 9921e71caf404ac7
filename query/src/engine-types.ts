import type { FloatHistogram, Labels } from '@promstream/storage';
import type { Querier } from './querier.js';

/**
 * The seam between the PromQL engine and its callers (the HTTP API, the
 * conformance runner, the rule evaluator). Results are built once per query,
 * after evaluation has run on typed arrays; float points of matrices stay in
 * typed arrays.
 */

/** One point of a float series: time in milliseconds and value. */
export interface FPoint {
  t: number;
  f: number;
}

/** One point of a histogram series. */
export interface HPoint {
  t: number;
  h: FloatHistogram;
}

/** An instant-vector element. Exactly one of `f`/`h` is meaningful. */
export interface VectorSample {
  metric: Labels;
  t: number;
  f: number;
  h?: FloatHistogram;
}

/**
 * The float points of a matrix series as parallel arrays (an answer can hold
 * millions of points; an object per point would cost more than the point).
 */
export interface FloatColumns {
  /** Times in milliseconds, ascending. */
  t: Float64Array;
  /** Values, one per time. */
  f: Float64Array;
}

/** A range-vector (matrix) element. */
export interface MatrixSeries {
  metric: Labels;
  floats: FloatColumns;
  histograms: HPoint[];
}

/** The float points of a matrix series as objects (for tests and small answers). */
export function floatPoints(s: MatrixSeries): FPoint[] {
  const out: FPoint[] = new Array(s.floats.t.length);
  for (let i = 0; i < out.length; i++) out[i] = { t: s.floats.t[i] as number, f: s.floats.f[i] as number };
  return out;
}

/** Float columns from points (for tests and callers building small answers). */
export function floatColumns(points: readonly FPoint[]): FloatColumns {
  return { t: Float64Array.from(points, (p) => p.t), f: Float64Array.from(points, (p) => p.f) };
}

/** The value of an evaluated expression, as the HTTP API reports it. */
export type QueryValue =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: FPoint }
  | { resultType: 'string'; result: { t: number; s: string } };

/** A query's value with the annotations Prometheus returns beside it. */
export interface QueryResult {
  value: QueryValue;
  warnings: string[];
  infos: string[];
}

/** Limits and defaults of one engine, as Prometheus' engine options. */
export interface EngineOptions {
  /** Lookback delta in milliseconds (default 5 minutes). */
  lookbackDelta?: number;
  /** Maximum samples loaded at once by one query (default 50 million). */
  maxSamples?: number;
  /** Query timeout in milliseconds (default 2 minutes). */
  timeout?: number;
  /** Injected clock for timeouts. */
  now?: () => number;
}

/** Evaluates PromQL against a querier. Times are milliseconds. */
export interface QueryEngine {
  instantQuery(querier: Querier, expr: string, time: number, signal?: AbortSignal): Promise<QueryResult>;
  rangeQuery(
    querier: Querier,
    expr: string,
    start: number,
    end: number,
    step: number,
    signal?: AbortSignal,
  ): Promise<QueryResult>;
}

/**
 * Error kinds the engine throws (as `EngineError` with one of these codes);
 * the API maps them to Prometheus' errorType and status.
 * bad_data → 400, execution → 422, timeout → 503, canceled → 499/503, too_many_samples → 422.
 */
export const ENGINE_ERROR_CODES = [
  'bad_data',
  'execution',
  'timeout',
  'canceled',
  'too_many_samples',
] as const;
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

/** An error from parsing or evaluating a query, with a stable code. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineError';
  }
}
