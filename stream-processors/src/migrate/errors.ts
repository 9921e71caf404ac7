/**
 * Typed errors of import and export, with stable codes. Callers branch on
 * `code`; `retryable` says whether running the command again can help
 * (imports and exports are idempotent, so a rerun resumes).
 */

/** Every error code of migration, with whether a retry can help. */
export const MIGRATE_ERROR_CODES = {
  /** The source (a directory, a file, a bucket) could not be read. */
  SOURCE_READ: { retryable: true },
  /** A block directory is not a Prometheus TSDB block (no meta.json, bad ULID, missing index). */
  NOT_A_BLOCK: { retryable: false },
  /** The OpenMetrics input does not parse. */
  BAD_INPUT: { retryable: false },
  /** Writing to the destination store did not succeed. */
  DESTINATION_WRITE: { retryable: true },
  /** Options are invalid (empty range, unknown tenant name form). */
  BAD_OPTIONS: { retryable: false },
} as const;

/** A migration error code. */
export type MigrateErrorCode = keyof typeof MIGRATE_ERROR_CODES;

/** An error of import or export. */
export class MigrateError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: MigrateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrateError';
    this.retryable = MIGRATE_ERROR_CODES[code].retryable;
  }
}
