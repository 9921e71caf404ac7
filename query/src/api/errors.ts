import { StorageError } from '@promstream/storage';
import { EngineError } from '../engine-types.js';

/**
 * The error kinds of the HTTP API with Prometheus' errorType names and the
 * status codes Prometheus answers them with. Callers branch on `code`.
 */
export const API_ERROR_STATUS = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 499,
  internal: 500,
  not_found: 404,
  unavailable: 503,
} as const;

/** One of Prometheus' API errorType values. */
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** The list of codes, for tests and documentation. */
export const API_ERROR_CODES = Object.keys(API_ERROR_STATUS) as ApiErrorCode[];

/** An error the API reports as `{"status":"error","errorType":code,"error":message}`. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }

  /** The HTTP status Prometheus uses for this kind of error. */
  get status(): number {
    return API_ERROR_STATUS[this.code];
  }

  /** Whether sending the same request again may succeed. */
  get retryable(): boolean {
    return this.code === 'timeout' || this.code === 'unavailable';
  }
}

/** Prometheus' wording for a parameter that does not parse. */
export function invalidParam(name: string, reason: string, cause?: unknown): ApiError {
  return new ApiError('bad_data', `invalid parameter "${name}": ${reason}`, { cause });
}

/** Maps an engine error (or anything thrown while evaluating) to the API's error kinds. */
export function fromEngineError(err: unknown, param = 'query'): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof EngineError) {
    switch (err.code) {
      case 'bad_data':
        return invalidParam(param, err.message, err);
      case 'execution':
        return new ApiError('execution', err.message, { cause: err });
      case 'too_many_samples':
        return new ApiError('execution', err.message, { cause: err });
      case 'timeout':
        return new ApiError('timeout', err.message, { cause: err });
      case 'canceled':
        return new ApiError('canceled', err.message, { cause: err });
    }
  }
  if (err instanceof StorageError) {
    // A store that is down or slow may answer the same query later; anything else is ours to fix.
    return new ApiError(err.retryable ? 'unavailable' : 'internal', err.message, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError('internal', message, { cause: err });
}

/** The JSON body of an error answer, with any warnings gathered before the error. */
export function errorBody(err: ApiError, warnings: readonly string[] = []): string {
  const parts = [
    `"status":"error"`,
    `"errorType":${JSON.stringify(err.code)}`,
    `"error":${JSON.stringify(err.message)}`,
  ];
  if (warnings.length > 0) parts.push(`"warnings":${JSON.stringify(warnings)}`);
  return `{${parts.join(',')}}`;
}
