/**
 * Typed errors of the stream processors, with stable codes. Callers branch on
 * `code`, never on message text. Each code says what a processor does with a
 * record that fails with it:
 * - `retryable`: the cause passes by itself (a store, broker or registry that
 *   does not answer); the processor waits with capped backoff and tries the
 *   same record again, for as long as it takes, and never dead-letters it.
 * - `deadLetter`: the record itself cannot be processed; it goes to the
 *   dead-letter topic under `reason` and the partition moves on.
 * - `recheck`: the verdict depends on something outside the record (the
 *   registry's answer), so it is tried a bounded number of times first.
 */

/** Every error code this package throws, with what a processor does about it. */
export const STREAM_ERROR_CODES = {
  /** A log record is not a SampleBatch: not the wire format, or a corrupt body or chunk. */
  BAD_RECORD: { retryable: false, deadLetter: true, recheck: false, reason: 'bad_record' },
  /** A record names a tenant the tenant-ID rule refuses. */
  INVALID_TENANT: { retryable: false, deadLetter: true, recheck: false, reason: 'invalid_tenant' },
  /** The registry has no schema with the record's id. */
  SCHEMA_UNKNOWN_ID: { retryable: false, deadLetter: true, recheck: true, reason: 'schema_unknown_id' },
  /** The record's schema does not resolve to the reader's, or does not decode its body. */
  SCHEMA_MISMATCH: { retryable: false, deadLetter: true, recheck: true, reason: 'schema_mismatch' },
  /** Samples older than what the partition already turned into blocks. */
  SAMPLE_TOO_OLD: { retryable: false, deadLetter: true, recheck: false, reason: 'sample_too_old' },
  /** Samples further ahead of their record's timestamp than the grace period. */
  SAMPLE_TOO_FAR_FUTURE: {
    retryable: false,
    deadLetter: true,
    recheck: false,
    reason: 'sample_too_far_future',
  },
  /** A record could not be decoded now (the schema registry did not answer); reading it again can succeed. */
  DECODE_UNAVAILABLE: { retryable: true, deadLetter: false, recheck: false, reason: 'registry_unavailable' },
  /** Writing a block or the partition state to the object store did not succeed. */
  UPLOAD: { retryable: true, deadLetter: false, recheck: false, reason: 'upload' },
  /** Reading the partition state from the object store did not succeed. */
  STATE_READ: { retryable: true, deadLetter: false, recheck: false, reason: 'state_read' },
  /** The partition state in the object store is not what this version writes. */
  STATE_FORMAT: { retryable: false, deadLetter: false, recheck: false, reason: 'state_format' },
  /** A Kafka operation (fetch, commit, offsets, a dead-letter write) did not succeed. */
  LOG: { retryable: true, deadLetter: false, recheck: false, reason: 'log' },
  /** Options given to a processor are invalid. */
  BAD_OPTIONS: { retryable: false, deadLetter: false, recheck: false, reason: 'bad_options' },
  /** An import source could not be read or parsed. */
  IMPORT: { retryable: false, deadLetter: false, recheck: false, reason: 'import' },
} as const;

/** A stream-processor error code. */
export type StreamErrorCode = keyof typeof STREAM_ERROR_CODES;

/** An error of the stream processors. */
export class StreamError extends Error {
  /** Waiting and trying again can help. */
  readonly retryable: boolean;
  /** A record failing with it goes to the dead-letter topic. */
  readonly deadLetter: boolean;
  /** It is tried a bounded number of times before it is dead-lettered. */
  readonly recheck: boolean;
  /** The dead-letter reason and metric label. */
  readonly reason: string;
  constructor(
    readonly code: StreamErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StreamError';
    const c = STREAM_ERROR_CODES[code];
    this.retryable = c.retryable;
    this.deadLetter = c.deadLetter;
    this.recheck = c.recheck;
    this.reason = c.reason;
  }
}
