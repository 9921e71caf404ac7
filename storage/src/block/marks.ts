/**
 * Thanos' block marks: small JSON files beside a block's meta.json that
 * mark it for deletion, or exclude it from compaction or downsampling.
 * Written byte for byte as Thanos writes them (Go's encoding/json, fields in
 * the order of Thanos' structs) and read as Thanos reads them; the format is
 * specified in storage/docs/bucket-catalog.md.
 */
import { StorageError, StorageErrorCode, type StorageErrorContext } from '../errors.js';
import type { ObjectStore } from '../objstore/object-store.js';
import { isUlid } from './ulid.js';

/** File name of a deletion mark inside a block's directory. */
export const DELETION_MARK = 'deletion-mark.json';
/** File name of a no-compact mark inside a block's directory. */
export const NO_COMPACT_MARK = 'no-compact-mark.json';
/** File name of a no-downsample mark inside a block's directory. */
export const NO_DOWNSAMPLE_MARK = 'no-downsample-mark.json';

/** The ULID Go writes for a mark whose `id` is missing (the zero ULID). */
const ZERO_ULID = '00000000000000000000000000';

/** `deletion-mark.json`: the block is to be deleted once the deletion delay has passed. */
export interface DeletionMark {
  /** ULID of the block. */
  id: string;
  version: 1;
  /** Why, for people; omitted when empty. */
  details?: string;
  /** Unix seconds when the block was marked. */
  deletion_time: number;
}

/** `no-compact-mark.json`: neither horizontal nor vertical compaction may use the block. */
export interface NoCompactMark {
  id: string;
  version: 1;
  details?: string;
  /** Unix seconds when the block was marked. */
  no_compact_time: number;
  /** One of `NoCompactReason`, or another writer's own. */
  reason: string;
}

/** `no-downsample-mark.json`: the block is not downsampled. */
export interface NoDownsampleMark {
  id: string;
  version: 1;
  details?: string;
  /** Unix seconds when the block was marked. */
  no_downsample_time: number;
  reason: string;
}

/** The reasons Thanos writes in no-compact marks. */
export const NoCompactReason = {
  /** Marked by an operator. */
  Manual: 'manual',
  /** The compacted index would pass the 64 GiB an index can address. */
  IndexSizeExceeding: 'index-size-exceeding',
  /** The index holds out-of-order chunks; compacting it would fail every time. */
  OutOfOrderChunks: 'block-index-out-of-order-chunk',
  /** Overlapping downsampled blocks, which cannot be merged. */
  DownsampleVerticalCompaction: 'downsample-vertical-compaction',
} as const;

/** The reason Thanos writes in no-downsample marks. */
export const NoDownsampleReason = { Manual: 'manual' } as const;

/** How one kind of mark is named, written and read. */
export interface MarkFormat<M extends { id: string }> {
  /** File name inside the block's directory. */
  readonly file: string;
  /** The bytes Thanos writes for the mark. */
  encode(mark: M): Uint8Array;
  /** Reads a mark as Thanos does; throws `corrupt`, or `unsupported` for a version other than 1. */
  parse(bytes: Uint8Array, ctx: StorageErrorContext): M;
}

/**
 * A string as Go's encoding/json writes it: as JSON.stringify, but with
 * `<`, `>`, `&`, U+2028 and U+2029 escaped, and lone surrogates (invalid
 * UTF-8 to Go) as U+FFFD.
 */
function goQuote(s: string): string {
  const wellFormed = s.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
  return JSON.stringify(wellFormed).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An object's fields in the given order, as Go writes a struct (no spaces, no newline). */
function goObject(fields: [string, string | number | undefined][]): Uint8Array {
  const parts: string[] = [];
  for (const [k, v] of fields) {
    if (v === undefined) continue;
    parts.push(`"${k}":${typeof v === 'string' ? goQuote(v) : String(v)}`);
  }
  return new TextEncoder().encode(`{${parts.join(',')}}`);
}

/**
 * The fields of a mark's JSON object, read as Go's encoding/json reads them
 * into Thanos' structs: a missing field is its zero value, a field of the
 * wrong type fails.
 */
class MarkReader {
  private readonly o: Record<string, unknown>;

  constructor(
    bytes: Uint8Array,
    private readonly file: string,
    private readonly ctx: StorageErrorContext,
  ) {
    let v: unknown;
    try {
      v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (e) {
      throw this.corrupt('not JSON', e);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.corrupt('not a JSON object');
    this.o = v as Record<string, unknown>;
  }

  private corrupt(what: string, cause?: unknown): StorageError {
    return new StorageError(StorageErrorCode.Corrupt, `read ${this.file}: ${what}`, {
      ...this.ctx,
      section: this.file,
      cause,
    });
  }

  id(): string {
    const v = this.o.id;
    if (v === undefined) return ZERO_ULID;
    if (typeof v !== 'string' || !isUlid(v)) throw this.corrupt('field id is not a ULID');
    return v;
  }

  int(name: string): number {
    const v = this.o[name];
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v))
      throw this.corrupt(`field ${name} is not an integer`);
    return v;
  }

  str(name: string): string {
    const v = this.o[name];
    if (v === undefined) return '';
    if (typeof v !== 'string') throw this.corrupt(`field ${name} is not a string`);
    return v;
  }

  /** Checks the version after the fields decoded, as Thanos' ReadMarker does. */
  version(): 1 {
    const v = this.int('version');
    if (v !== 1) {
      throw new StorageError(StorageErrorCode.Unsupported, `read ${this.file}: version ${v} is not 1`, {
        ...this.ctx,
        section: this.file,
      });
    }
    return 1;
  }
}

function withDetails<M extends { details?: string }>(mark: M, details: string): M {
  if (details !== '') mark.details = details;
  return mark;
}

/** Deletion marks: `{"id":…,"version":1,"details":…,"deletion_time":…}`, details omitted when empty. */
export const deletionMarkFormat: MarkFormat<DeletionMark> = {
  file: DELETION_MARK,
  encode: (m) =>
    goObject([
      ['id', m.id],
      ['version', m.version],
      ['details', m.details || undefined],
      ['deletion_time', m.deletion_time],
    ]),
  parse(bytes, ctx) {
    const r = new MarkReader(bytes, DELETION_MARK, ctx);
    const mark: DeletionMark = { id: r.id(), version: 1, deletion_time: r.int('deletion_time') };
    withDetails(mark, r.str('details'));
    mark.version = r.version();
    return mark;
  },
};

/** No-compact marks: `{"id":…,"version":1,"details":…,"no_compact_time":…,"reason":…}`. */
export const noCompactMarkFormat: MarkFormat<NoCompactMark> = {
  file: NO_COMPACT_MARK,
  encode: (m) =>
    goObject([
      ['id', m.id],
      ['version', m.version],
      ['details', m.details || undefined],
      ['no_compact_time', m.no_compact_time],
      ['reason', m.reason],
    ]),
  parse(bytes, ctx) {
    const r = new MarkReader(bytes, NO_COMPACT_MARK, ctx);
    const mark: NoCompactMark = {
      id: r.id(),
      version: 1,
      no_compact_time: r.int('no_compact_time'),
      reason: r.str('reason'),
    };
    withDetails(mark, r.str('details'));
    mark.version = r.version();
    return mark;
  },
};

/** No-downsample marks: `{"id":…,"version":1,"details":…,"no_downsample_time":…,"reason":…}`. */
export const noDownsampleMarkFormat: MarkFormat<NoDownsampleMark> = {
  file: NO_DOWNSAMPLE_MARK,
  encode: (m) =>
    goObject([
      ['id', m.id],
      ['version', m.version],
      ['details', m.details || undefined],
      ['no_downsample_time', m.no_downsample_time],
      ['reason', m.reason],
    ]),
  parse(bytes, ctx) {
    const r = new MarkReader(bytes, NO_DOWNSAMPLE_MARK, ctx);
    const mark: NoDownsampleMark = {
      id: r.id(),
      version: 1,
      no_downsample_time: r.int('no_downsample_time'),
      reason: r.str('reason'),
    };
    withDetails(mark, r.str('details'));
    mark.version = r.version();
    return mark;
  },
};

/** Unix seconds of a clock reading in milliseconds, as Go's `time.Now().Unix()`. */
function unixSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** A deletion mark for a block, dated by the clock (ms since the epoch). */
export function newDeletionMark(ulid: string, nowMs: number, details = ''): DeletionMark {
  return withDetails<DeletionMark>({ id: ulid, version: 1, deletion_time: unixSeconds(nowMs) }, details);
}

/** A no-compact mark for a block, dated by the clock (ms since the epoch). */
export function newNoCompactMark(ulid: string, nowMs: number, reason: string, details = ''): NoCompactMark {
  return withDetails<NoCompactMark>(
    { id: ulid, version: 1, no_compact_time: unixSeconds(nowMs), reason },
    details,
  );
}

/** A no-downsample mark for a block, dated by the clock (ms since the epoch). */
export function newNoDownsampleMark(
  ulid: string,
  nowMs: number,
  reason: string,
  details = '',
): NoDownsampleMark {
  return withDetails<NoDownsampleMark>(
    { id: ulid, version: 1, no_downsample_time: unixSeconds(nowMs), reason },
    details,
  );
}

function checkBlock(ulid: string): void {
  if (!isUlid(ulid)) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `mark block: ${JSON.stringify(ulid)} is not a ULID`,
    );
  }
}

/**
 * Reads a block's mark of one kind from a store (a tenant's view or a
 * bucket); undefined when the block has none. Throws `corrupt` or
 * `unsupported` when the mark does not read, `io` when the store fails.
 */
export async function readMark<M extends { id: string }>(
  store: ObjectStore,
  ulid: string,
  format: MarkFormat<M>,
): Promise<M | undefined> {
  checkBlock(ulid);
  const key = `${ulid}/${format.file}`;
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (e) {
    if (e instanceof StorageError && e.code === StorageErrorCode.NotFound) return undefined;
    throw e;
  }
  return format.parse(bytes, { block: ulid });
}

/**
 * Writes a mark into its block's directory unless the block already has
 * one of that kind, which is kept (as Thanos does); true when this call
 * wrote it. The write is a conditional create, so of racing writers one wins.
 */
export async function writeMark<M extends { id: string }>(
  store: ObjectStore,
  format: MarkFormat<M>,
  mark: M,
): Promise<boolean> {
  checkBlock(mark.id);
  try {
    await store.put(`${mark.id}/${format.file}`, format.encode(mark), { ifNoneMatch: true });
    return true;
  } catch (e) {
    if (e instanceof StorageError && e.code === StorageErrorCode.PreconditionFailed) return false;
    throw e;
  }
}

/** Removes a block's mark of one kind (as `thanos tools bucket mark --remove`); a missing mark is fine. */
export async function removeMark<M extends { id: string }>(
  store: ObjectStore,
  ulid: string,
  format: MarkFormat<M>,
): Promise<void> {
  checkBlock(ulid);
  await store.delete(`${ulid}/${format.file}`);
}
