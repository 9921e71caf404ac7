/**
 * Typed errors of the stream processors, with stable codes. Callers branch on
 * `code`, never on message text; `retryable` says whether trying again can help.
 */

/** Every error code this package throws, with whether a retry can help. */
export const STREAM_ERROR_CODES = {
  /** A log record could not be decoded into a SampleBatch. */
  BAD_RECORD: { retryable: false },
  /** A record could not be decoded now (the schema registry did not answer); reading it again can succeed. */
  DECODE_UNAVAILABLE: { retryable: true },
  /** Writing a block or the partition state to the object store did not succeed. */
  UPLOAD: { retryable: true },
  /** Reading the partition state from the object store did not succeed. */
  STATE_READ: { retryable: true },
  /** The partition state in the object store is not what this version writes. */
  STATE_FORMAT: { retryable: false },
  /** A Kafka operation (fetch, commit, offsets) did not succeed. */
  LOG: { retryable: true },
  /** Options given to a processor are invalid. */
  BAD_OPTIONS: { retryable: false },
  /** An import source could not be read or parsed. */
  IMPORT: { retryable: false },
} as const;

export type StreamErrorCode = keyof typeof STREAM_ERROR_CODES;

/** An error of the stream processors. */
export class StreamError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: StreamErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StreamError';
    this.retryable = STREAM_ERROR_CODES[code].retryable;
  }
}
