import { type MatchType, StorageError, type StorageErrorCode } from '@promstream/storage';
import { ApiError, type ApiErrorCode } from '../api/errors.js';
import { EngineError, type EngineErrorCode } from '../engine-types.js';
import type { QueryRequest } from './answerer.js';
import type { EncodedSelection } from './selection-codec.js';

/**
 * The messages between the main thread (which owns the HTTP server, the
 * head and the blocks) and one evaluation thread. A thread evaluates one
 * query at a time:
 *
 * ```
 * main                                    evaluation thread
 *  │ ── eval {request, options} ─────────────▶ │ parse, evaluate
 *  │ ◀──────────── call {id, method, args} ─── │ a select / labelNames / labelValues
 *  │ ── result {id, value} | failure {id} ───▶ │ (selections as EncodedSelection, buffers transferred)
 *  │ ◀─────────────────── chunk {bytes} ────── │ the answer's JSON, chunk by chunk (transferred)
 *  │ ◀──────────── done | failed {error} ───── │
 *  │ ── cancel ───────────────────────────────▶│ the engine stops at its next check
 * ```
 *
 * Matchers cross as their three strings and are compiled again on the other
 * side; errors cross as their kind, code and message.
 */

/** A matcher as plain data. */
export interface MatcherData {
  type: MatchType;
  name: string;
  value: string;
}

/** Engine limits an evaluation thread applies to every query. */
export interface EvaluationOptions {
  lookbackDelta?: number;
  maxSamples?: number;
  /** The query's timeout, milliseconds: the engine stops itself past it. */
  timeoutMs: number;
}

/** A querier method called from an evaluation thread. */
export type QuerierCall =
  | { method: 'select'; mint: number; maxt: number; matchers: MatcherData[]; func: string; range: number }
  | { method: 'labelNames'; mint: number; maxt: number; matchers: MatcherData[] }
  | { method: 'labelValues'; mint: number; maxt: number; name: string; matchers: MatcherData[] };

/** From the main thread to an evaluation thread. */
export type ToWorker =
  | { type: 'eval'; request: QueryRequest; options: EvaluationOptions }
  | { type: 'result'; id: number; value: EncodedSelection | string[] }
  | { type: 'failure'; id: number; error: ErrorData }
  | { type: 'cancel' };

/** From an evaluation thread to the main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'call'; id: number; call: QuerierCall }
  | { type: 'chunk'; bytes: Uint8Array }
  | { type: 'done' }
  | { type: 'failed'; error: ErrorData };

/** An error as it crosses threads: which kind of typed error, its code and message. */
export interface ErrorData {
  kind: 'engine' | 'api' | 'storage' | 'other';
  code: string;
  message: string;
  retryable?: boolean;
}

/** An error as plain data. */
export function errorData(err: unknown): ErrorData {
  if (err instanceof EngineError) return { kind: 'engine', code: err.code, message: err.message };
  if (err instanceof ApiError) return { kind: 'api', code: err.code, message: err.message };
  if (err instanceof StorageError)
    return { kind: 'storage', code: err.code, message: err.message, retryable: err.retryable };
  return { kind: 'other', code: '', message: err instanceof Error ? err.message : String(err) };
}

/** The typed error plain data stands for. */
export function errorFromData(d: ErrorData): Error {
  switch (d.kind) {
    case 'engine':
      return new EngineError(d.code as EngineErrorCode, d.message);
    case 'api':
      return new ApiError(d.code as ApiErrorCode, d.message);
    case 'storage': {
      // The message already names the block and section.
      const err = new StorageError(d.code as StorageErrorCode, d.message);
      return err;
    }
    case 'other':
      return new Error(d.message);
  }
}
