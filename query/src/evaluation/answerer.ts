import { JsonSink, queryAnswerParts, type TimeGrid } from '../api/format.js';
import type { QueryEngine, QueryResult } from '../engine-types.js';
import type { Querier } from '../querier.js';

/** What to evaluate: an instant query at a time, or a range query over a grid. */
export type QueryText =
  | { kind: 'instant'; expr: string; time: number }
  | { kind: 'range'; expr: string; start: number; end: number; step: number };

/** One `/api/v1/query` or `/api/v1/query_range` request, as plain data (it crosses to worker threads). */
export type QueryRequest = QueryText & {
  /** Series kept in the answer (0: all). */
  limit: number;
  /** Longest the evaluation may run, milliseconds. */
  timeoutMs: number;
};

/**
 * The seam between the query API and evaluation: a query in, the bytes of
 * its whole success answer (the API's JSON) out, chunk by chunk. An error
 * before the first chunk is the query's error; the signal's abort rejects at
 * once with its reason. Implemented on this thread (`inlineAnswerer`) and by
 * the pool of evaluation threads (`EvaluationPool`).
 */
export interface QueryAnswerer {
  answer(querier: Querier, request: QueryRequest, signal: AbortSignal): AsyncIterable<Uint8Array>;
}

/** Evaluates a request with an engine. */
export function evaluate(
  engine: QueryEngine,
  querier: Querier,
  request: QueryRequest,
  signal?: AbortSignal,
): Promise<QueryResult> {
  return request.kind === 'instant'
    ? engine.instantQuery(querier, request.expr, request.time, signal)
    : engine.rangeQuery(querier, request.expr, request.start, request.end, request.step, signal);
}

/** Keeps the first `limit` series of a vector or matrix (0: all), warning when some are cut. */
export function limited(result: QueryResult, limit: number): QueryResult {
  const v = result.value;
  if (limit === 0 || (v.resultType !== 'vector' && v.resultType !== 'matrix') || v.result.length <= limit)
    return result;
  const value =
    v.resultType === 'vector'
      ? { resultType: v.resultType, result: v.result.slice(0, limit) }
      : { resultType: v.resultType, result: v.result.slice(0, limit) };
  return { ...result, value, warnings: [...result.warnings, 'results truncated due to limit'] };
}

/**
 * The answer's JSON in chunks, each yielded as soon as it is full (the writer
 * pauses after every series), so a caller can send or compress the first
 * chunks while the rest is written.
 */
export function* answerChunks(result: QueryResult, request: QueryRequest): Generator<Uint8Array> {
  const cut = limited(result, request.limit);
  const grid: TimeGrid | undefined =
    request.kind === 'range'
      ? {
          start: request.start,
          step: request.step,
          count: Math.floor((request.end - request.start) / request.step) + 1,
        }
      : undefined;
  const pending: Uint8Array[] = [];
  const out = new JsonSink((chunk) => pending.push(chunk));
  for (const _ of queryAnswerParts(out, cut.value, cut.warnings, cut.infos, grid)) {
    while (pending.length > 0) yield pending.shift()!;
  }
  out.finish();
  while (pending.length > 0) yield pending.shift()!;
}

/**
 * Evaluates on the calling thread: the engine's own checks of the signal
 * are all that stop a query. Kept for tests and embedders that bring their
 * own engine; the query role uses the evaluation pool.
 */
export function inlineAnswerer(engine: QueryEngine): QueryAnswerer {
  return {
    async *answer(querier, request, signal) {
      const result = await evaluate(engine, querier, request, signal);
      for (const chunk of answerChunks(result, request)) {
        yield chunk;
        // A turn of the event loop per chunk, so a large answer does not hold other requests up.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}
