/**
 * Typed errors of the storage package. Callers branch on `code`, never on the
 * message; `retryable` says whether trying the same call again can help.
 */

/** The stable error codes of the storage package. */
export const StorageErrorCode = {
  /** The object, block or section does not exist. */
  NotFound: 'not_found',
  /** A conditional write lost: the object already exists. */
  PreconditionFailed: 'precondition_failed',
  /** Bytes do not decode: bad magic, bad CRC, truncated, malformed JSON. */
  Corrupt: 'corrupt',
  /** The store or the disk failed; the same call may succeed later. */
  Io: 'io',
  /** The caller passed something the API does not accept. */
  InvalidArgument: 'invalid_argument',
  /** A regex that RE2 syntax does not allow; the message is Go's (`error parsing regexp: ...`). */
  InvalidRegex: 'invalid_regex',
  /** A tenant ID breaks the tenant-ID rule (tenant.ts); the message says which part. */
  InvalidTenant: 'invalid_tenant',
  /** Samples arrived with a time before the previous one. */
  OutOfOrder: 'out_of_order',
  /** A chunk holds as many samples as its header can count. */
  ChunkFull: 'chunk_full',
  /** The format version or encoding is one this reader does not know. */
  Unsupported: 'unsupported',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

const retryableCodes: ReadonlySet<StorageErrorCode> = new Set([StorageErrorCode.Io]);

/** Where a storage error happened, so the message can name the block and section. */
export interface StorageErrorContext {
  /** Block ULID or block prefix in the store. */
  block?: string;
  /** Section of the block: meta.json, index/symbols, index/postings, chunks/000001, ... */
  section?: string;
  /** Object key in the store. */
  key?: string;
}

/** An error from the storage package with a stable code. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly retryable: boolean;
  readonly block: string | undefined;
  readonly section: string | undefined;
  readonly key: string | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    options: StorageErrorContext & { cause?: unknown } = {},
  ) {
    const where = [
      options.block !== undefined ? `block ${options.block}` : undefined,
      options.section !== undefined ? `section ${options.section}` : undefined,
      options.key !== undefined && options.block === undefined ? `key ${options.key}` : undefined,
    ].filter((s) => s !== undefined);
    super(where.length > 0 ? `${message} (${where.join(', ')})` : message, { cause: options.cause });
    this.code = code;
    this.retryable = retryableCodes.has(code);
    this.block = options.block;
    this.section = options.section;
    this.key = options.key;
  }
}

/** Whether a value is a StorageError, optionally with the given code. */
export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

/** Builds a `corrupt` error naming the block and section. */
export function corrupt(message: string, ctx: StorageErrorContext = {}, cause?: unknown): StorageError {
  return new StorageError(StorageErrorCode.Corrupt, message, { ...ctx, cause });
}

/** Returns the error with block/section context added when it is a StorageError without it. */
export function withContext(e: unknown, ctx: StorageErrorContext): unknown {
  if (e instanceof StorageError && e.block === undefined && e.section === undefined) {
    return new StorageError(e.code, e.message, { ...ctx, key: e.key, cause: e.cause ?? e });
  }
  return e;
}
