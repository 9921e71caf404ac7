/**
 * Typed errors of the ingest package. Callers branch on `code`, never on the
 * message; `status` is the HTTP answer a remote-write client gets for it and
 * `retryable` says whether sending the same request again can help.
 */

/** The stable error codes of the ingest package. */
export const IngestErrorCode = {
  /** The body does not decode: bad snappy, bad protobuf, a symbol reference out of range. */
  MalformedRequest: 'malformed_request',
  /** The request decodes but breaks a rule: label syntax, order, limits. */
  InvalidSeries: 'invalid_series',
  /** The tenant ID (`X-Scope-OrgID`, or a configured tenant) breaks the tenant-ID rule. */
  InvalidTenant: 'invalid_tenant',
  /** The request carries more samples, series or bytes than allowed. */
  LimitExceeded: 'limit_exceeded',
  /** The body, compressed or as its declared decompressed size, is larger than allowed. */
  PayloadTooLarge: 'payload_too_large',
  /** Samples older than the tenant's window into the past (Prometheus' and Mimir's "out of bounds"). */
  OutOfBounds: 'out_of_bounds',
  /** Samples newer than now plus the tenant's creation grace period (Mimir's "too far in the future"). */
  TooFarInFuture: 'too_far_in_future',
  /** The content type or encoding is not one the gateway speaks. */
  UnsupportedMediaType: 'unsupported_media_type',
  /** The tenant sends faster than its ingestion rate. */
  RateLimited: 'rate_limited',
  /** The log did not acknowledge the write; the sender should retry. */
  LogUnavailable: 'log_unavailable',
  /** A configuration value is invalid. */
  InvalidConfig: 'invalid_config',
  /** The agent's disk buffer failed to read or write. */
  BufferIo: 'buffer_io',
} as const;
export type IngestErrorCode = (typeof IngestErrorCode)[keyof typeof IngestErrorCode];

const statusByCode: Record<IngestErrorCode, number> = {
  malformed_request: 400,
  invalid_series: 400,
  invalid_tenant: 400,
  limit_exceeded: 400,
  payload_too_large: 413,
  out_of_bounds: 400,
  too_far_in_future: 400,
  unsupported_media_type: 415,
  rate_limited: 429,
  log_unavailable: 503,
  invalid_config: 500,
  buffer_io: 500,
};

const retryableCodes: ReadonlySet<IngestErrorCode> = new Set<IngestErrorCode>([
  IngestErrorCode.RateLimited,
  IngestErrorCode.LogUnavailable,
  IngestErrorCode.BufferIo,
]);

/** An error from the ingest package with a stable code and the HTTP status it maps to. */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  readonly code: IngestErrorCode;
  readonly status: number;
  readonly retryable: boolean;

  constructor(code: IngestErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = statusByCode[code];
    this.retryable = retryableCodes.has(code);
  }
}

/** Whether a value is an IngestError, optionally with the given code. */
export function isIngestError(e: unknown, code?: IngestErrorCode): e is IngestError {
  return e instanceof IngestError && (code === undefined || e.code === code);
}
