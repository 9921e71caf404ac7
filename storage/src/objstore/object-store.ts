/**
 * The object store seam: the few calls blocks and the catalog need from a
 * bucket. Implementations: filesystem, memory, S3; wrappers add a prefix,
 * metrics and a range cache.
 */
import { StorageError, StorageErrorCode } from '../errors.js';

/** A byte range of an object: `length` bytes from `offset`. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** What a listing or a head returns about one object. */
export interface ObjectInfo {
  /** Full key; for a common prefix (non-recursive listing) it ends with '/'. */
  readonly key: string;
  /** Size in bytes; 0 for a common prefix. */
  readonly size: number;
  /** Whether the entry is a common prefix rather than an object. */
  readonly isPrefix: boolean;
  /**
   * When the object was last written, ms since the epoch, for objects (not
   * prefixes) in listings and heads. S3 reports whole seconds. Cleaners use
   * it to date abandoned uploads, as Thanos does.
   */
  readonly lastModified?: number;
}

/** Options of a put. */
export interface PutOptions {
  /** Create only: fail with `precondition_failed` when the key exists. */
  readonly ifNoneMatch?: boolean;
}

/** Options of a listing. */
export interface ListOptions {
  /**
   * false (default): entries directly under the prefix, deeper keys folded
   * into common prefixes ending in '/'. true: every object under the prefix.
   */
  readonly recursive?: boolean;
}

/**
 * A bucket of immutable objects. Keys are '/'-separated paths without a
 * leading '/'. Listings come in key order.
 */
export interface ObjectStore {
  /**
   * The object's bytes, or the bytes of a range of it. A range running past
   * the end returns the bytes that exist (none when it starts past the end).
   * Throws `not_found` when the key does not exist.
   */
  get(key: string, range?: ByteRange): Promise<Uint8Array>;
  /** Writes an object whole: readers see the old object or the new one, never a part. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void>;
  /**
   * Writes an object from a stream of chunks, as `put` does, without holding
   * the whole body: readers see the old object or the new one. Resolves with
   * the bytes written. Stores without it are written through `putStream`'s
   * fallback, which collects the body first.
   */
  putStream?(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<number>;
  /** Objects whose keys start with the prefix, fetched page by page. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Removes an object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** The object's size, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
}

/** Throws `invalid_argument` for keys no store can hold the same way. */
export function checkKey(key: string): void {
  if (
    key === '' ||
    key.startsWith('/') ||
    key.endsWith('/') ||
    key.split('/').some((p) => p === '' || p === '.' || p === '..') ||
    key.includes('\0')
  ) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `object key ${JSON.stringify(key)} is not valid`,
      {
        key,
      },
    );
  }
}

/** Throws `invalid_argument` for a range with negative or fractional numbers. */
export function checkRange(key: string, range: ByteRange | undefined): void {
  if (range === undefined) return;
  if (
    !Number.isSafeInteger(range.offset) ||
    !Number.isSafeInteger(range.length) ||
    range.offset < 0 ||
    range.length < 0
  ) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `byte range ${range.offset}+${range.length} is not valid`,
      { key },
    );
  }
}

/** Folds a sorted key listing into the entries of a non-recursive listing. */
export async function* foldPrefixes(
  prefix: string,
  objects: AsyncIterable<ObjectInfo>,
): AsyncIterable<ObjectInfo> {
  let lastPrefix: string | undefined;
  for await (const o of objects) {
    const slash = o.key.indexOf('/', prefix.length);
    if (slash < 0) {
      yield o;
      continue;
    }
    const p = o.key.slice(0, slash + 1);
    if (p !== lastPrefix) {
      lastPrefix = p;
      yield { key: p, size: 0, isPrefix: true };
    }
  }
}

/**
 * Writes `body` to `key` chunk by chunk when the store can (filesystem, S3
 * and the wrappers over them), else collects it and puts it whole.
 */
export async function putStream(
  store: ObjectStore,
  key: string,
  body: AsyncIterable<Uint8Array>,
  options?: PutOptions,
): Promise<number> {
  if (store.putStream !== undefined) return store.putStream(key, body, options);
  const whole = await collect(body);
  await store.put(key, whole, options);
  return whole.length;
}

/** Concatenates a stream of chunks. */
export async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    parts.push(c);
    n += c.length;
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of parts) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Reads an object of `size` bytes as ranges of at most `chunkSize` bytes, one at a time. */
export async function* readChunks(
  store: ObjectStore,
  key: string,
  size: number,
  chunkSize = 8 * 1024 * 1024,
): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < size; offset += chunkSize) {
    const part = await store.get(key, { offset, length: Math.min(chunkSize, size - offset) });
    if (part.length === 0) return;
    yield part;
  }
}

/** Collects a listing into an array. */
export async function listAll(
  store: ObjectStore,
  prefix: string,
  options?: ListOptions,
): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of store.list(prefix, options)) out.push(o);
  return out;
}

/** Cuts a range out of a whole object's bytes with the store semantics. */
export function sliceRange(body: Uint8Array, range: ByteRange | undefined): Uint8Array {
  if (range === undefined) return body;
  const start = Math.min(range.offset, body.length);
  return body.subarray(start, Math.min(start + range.length, body.length));
}
