/**
 * The blocks of one store view (a tenant's prefix, or a bucket that holds
 * blocks at its root), refreshed by listing it: each block's meta.json (read
 * once; blocks are immutable), its Thanos marks, and the blocks that could
 * not be read, with why. The bucket format is in storage/docs/bucket-catalog.md.
 */
import { isStorageError, StorageError, StorageErrorCode } from '../errors.js';
import type { ObjectStore } from '../objstore/object-store.js';
import {
  DELETION_MARK,
  type DeletionMark,
  deletionMarkFormat,
  type MarkFormat,
  NO_COMPACT_MARK,
  NO_DOWNSAMPLE_MARK,
  type NoCompactMark,
  type NoDownsampleMark,
  newDeletionMark,
  newNoCompactMark,
  newNoDownsampleMark,
  noCompactMarkFormat,
  noDownsampleMarkFormat,
  removeMark,
  writeMark,
} from './marks.js';
import { type BlockMeta, parseMeta } from './meta.js';
import { type Resolution, resolutionOf } from './resolution.js';
import { isUlid } from './ulid.js';

/** File name of a block's meta; it is uploaded last, so a block without it is partial. */
export const META_FILE = 'meta.json';

/** A block with a readable meta.json, and its marks. */
export interface CatalogBlock {
  readonly meta: BlockMeta;
  /** The block's downsample resolution, ms (raw when the meta has no thanos section). */
  readonly resolution: Resolution;
  readonly deletionMark?: DeletionMark;
  readonly noCompactMark?: NoCompactMark;
  readonly noDownsampleMark?: NoDownsampleMark;
}

/** A block the catalog could not use, and why. */
export interface SkippedBlock {
  ulid: string;
  /**
   * `partial` when the block has no meta.json (an upload in progress or
   * abandoned, or a deletion that stopped after removing it); else the code
   * of the error that reading meta.json gave (`corrupt`, `unsupported`).
   */
  code: StorageErrorCode | 'partial';
  reason: string;
  /** The block's deletion mark, when a deletion stopped half-way (so the rest can go). */
  deletionMark?: DeletionMark;
  /**
   * For a partial block, the newest write time of its objects (ms), when the
   * store dates them: how old an abandoned upload is (its ULID's time is not).
   */
  lastModified?: number;
}

/** A mark that did not read. As Thanos does, the block is then taken as unmarked. */
export interface BadMark {
  ulid: string;
  /** The mark's file name (`deletion-mark.json`, ...). */
  file: string;
  code: StorageErrorCode;
  reason: string;
}

/** What one refresh found. */
export interface CatalogSnapshot {
  /** Every block with a readable meta.json, marked or not, by minTime then ULID. */
  all: CatalogBlock[];
  /** Metas of the blocks without a deletion mark, by minTime then ULID. */
  blocks: BlockMeta[];
  /** Blocks marked for deletion, with their marks, by ULID. */
  marked: { meta: BlockMeta; mark: DeletionMark }[];
  /** Blocks without meta.json (partial) or with one that does not read, by ULID. */
  skipped: SkippedBlock[];
  /** Marks that did not read, by ULID. */
  badMarks: BadMark[];
}

/** Options of a catalog. */
export interface CatalogOptions {
  /** Called for each block skipped in a refresh (logging, metrics). */
  onSkip?: (b: SkippedBlock) => void;
  /** Called for each mark that did not read in a refresh. */
  onBadMark?: (m: BadMark) => void;
  /** Clock for marks and deletion delays, ms since the epoch. */
  now?: () => number;
  /** Reads in flight at once in a refresh (default 16). */
  concurrency?: number;
}

/**
 * The blocks of a snapshot that are not marked for deletion, at one
 * resolution or at all of them, by minTime then ULID: what a query reads.
 */
export function liveBlocks(snap: CatalogSnapshot, filter: { resolution?: Resolution } = {}): CatalogBlock[] {
  return snap.all.filter(
    (b) =>
      b.deletionMark === undefined && (filter.resolution === undefined || b.resolution === filter.resolution),
  );
}

const MARK_FORMATS = [deletionMarkFormat, noCompactMarkFormat, noDownsampleMarkFormat] as const;

/** The files the catalog reads of one block directory, from the listing. */
interface BlockFiles {
  meta: boolean;
  /** Newest `lastModified` of the directory's objects; NaN when one is undated. */
  lastModified: number;
  /** Size of each mark file present, by file name. */
  marks: Map<string, number>;
}

/** Runs `fn` over the items with at most `limit` calls in flight. */
async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function byTimeThenUlid(a: BlockMeta, b: BlockMeta): number {
  return a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0);
}

/**
 * The block catalog of a store view. `refresh` lists the view once,
 * recursively (every block's files, marks included, in one paged listing),
 * then reads only what it has not read before: meta.json of new blocks and
 * marks that are new or changed size. A store failure (`io`) fails the
 * refresh and keeps the last snapshot; a block or mark that does not read is
 * reported and left out.
 */
export class BlockCatalog {
  private readonly metas = new Map<string, BlockMeta>();
  private readonly marks = new Map<string, { size: number; mark: { id: string } }>();
  private last: CatalogSnapshot = { all: [], blocks: [], marked: [], skipped: [], badMarks: [] };
  private readonly now: () => number;

  constructor(
    /** The store view the catalog lists (block keys are `<ULID>/...` in it). */
    readonly store: ObjectStore,
    private readonly options: CatalogOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The snapshot of the last refresh. */
  get snapshot(): CatalogSnapshot {
    return this.last;
  }

  /** Lists the store and reads what changed; see the class comment. */
  async refresh(): Promise<CatalogSnapshot> {
    const dirs = await this.listBlockDirs();
    for (const k of [...this.metas.keys()]) if (!dirs.get(k)?.meta) this.metas.delete(k);
    for (const k of [...this.marks.keys()]) {
      const [ulid, file] = k.split('/') as [string, string];
      if (dirs.get(ulid)?.marks.get(file) !== this.marks.get(k)!.size) this.marks.delete(k);
    }
    const snap: CatalogSnapshot = { all: [], blocks: [], marked: [], skipped: [], badMarks: [] };
    await forEachLimit([...dirs], this.options.concurrency ?? 16, async ([ulid, files]) => {
      const marks = await this.readMarks(ulid, files, snap.badMarks);
      const deletionMark = marks.get(DELETION_MARK) as DeletionMark | undefined;
      if (!files.meta) {
        snap.skipped.push({
          ulid,
          code: 'partial',
          reason: 'meta.json is missing (upload in progress or abandoned, or deletion in progress)',
          ...(deletionMark !== undefined ? { deletionMark } : {}),
          ...(Number.isNaN(files.lastModified) ? {} : { lastModified: files.lastModified }),
        });
        return;
      }
      const meta = await this.readMeta(ulid);
      if (meta instanceof StorageError) {
        snap.skipped.push({ ulid, code: meta.code, reason: meta.message });
        return;
      }
      const block: CatalogBlock = {
        meta,
        resolution: resolutionOf(meta),
        ...(deletionMark !== undefined ? { deletionMark } : {}),
        ...(marks.has(NO_COMPACT_MARK) ? { noCompactMark: marks.get(NO_COMPACT_MARK) as NoCompactMark } : {}),
        ...(marks.has(NO_DOWNSAMPLE_MARK)
          ? { noDownsampleMark: marks.get(NO_DOWNSAMPLE_MARK) as NoDownsampleMark }
          : {}),
      };
      snap.all.push(block);
      if (deletionMark === undefined) snap.blocks.push(meta);
      else snap.marked.push({ meta, mark: deletionMark });
    });
    snap.all.sort((a, b) => byTimeThenUlid(a.meta, b.meta));
    snap.blocks.sort(byTimeThenUlid);
    snap.marked.sort((a, b) => (a.meta.ulid < b.meta.ulid ? -1 : 1));
    snap.skipped.sort((a, b) => (a.ulid < b.ulid ? -1 : 1));
    snap.badMarks.sort((a, b) => (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : a.file < b.file ? -1 : 1));
    for (const s of snap.skipped) this.options.onSkip?.(s);
    for (const m of snap.badMarks) this.options.onBadMark?.(m);
    this.last = snap;
    return snap;
  }

  /** Every block directory of the view with the files the catalog reads, from one recursive listing. */
  private async listBlockDirs(): Promise<Map<string, BlockFiles>> {
    const dirs = new Map<string, BlockFiles>();
    for await (const o of this.store.list('', { recursive: true })) {
      const slash = o.key.indexOf('/');
      if (slash < 0) continue;
      const ulid = o.key.slice(0, slash);
      if (!isUlid(ulid)) continue;
      let files = dirs.get(ulid);
      if (files === undefined) dirs.set(ulid, (files = { meta: false, lastModified: 0, marks: new Map() }));
      files.lastModified = Math.max(files.lastModified, o.lastModified ?? Number.NaN);
      const name = o.key.slice(slash + 1);
      if (name === META_FILE) files.meta = true;
      else if (MARK_FORMATS.some((f) => f.file === name)) files.marks.set(name, o.size);
    }
    return dirs;
  }

  /** The block's meta (cached), or the error that says why it does not read; store failures are thrown. */
  private async readMeta(ulid: string): Promise<BlockMeta | StorageError> {
    const known = this.metas.get(ulid);
    if (known !== undefined) return known;
    try {
      const meta = parseMeta(await this.store.get(`${ulid}/${META_FILE}`), { block: ulid });
      if (meta.ulid !== ulid) {
        return new StorageError(StorageErrorCode.Corrupt, `read block meta: meta.json names ${meta.ulid}`, {
          block: ulid,
          section: META_FILE,
        });
      }
      this.metas.set(ulid, meta);
      return meta;
    } catch (e) {
      // not_found: deleted between the listing and the read, so the next refresh will not list it.
      if (isStorageError(e) && !e.retryable) return e;
      throw e;
    }
  }

  /** The block's marks that read, by file name; the others go to `bad`. */
  private async readMarks(
    ulid: string,
    files: BlockFiles,
    bad: BadMark[],
  ): Promise<Map<string, { id: string }>> {
    const out = new Map<string, { id: string }>();
    for (const format of MARK_FORMATS) {
      const size = files.marks.get(format.file);
      if (size === undefined) continue;
      const key = `${ulid}/${format.file}`;
      const known = this.marks.get(key);
      if (known !== undefined) {
        out.set(format.file, known.mark);
        continue;
      }
      try {
        const mark = (format as MarkFormat<{ id: string }>).parse(await this.store.get(key), { block: ulid });
        this.marks.set(key, { size, mark });
        out.set(format.file, mark);
      } catch (e) {
        if (isStorageError(e, StorageErrorCode.NotFound)) continue;
        if (!isStorageError(e) || e.retryable) throw e;
        bad.push({ ulid, file: format.file, code: e.code, reason: e.message });
      }
    }
    return out;
  }

  /** Marks a block for deletion (an existing mark is kept); true when this call wrote the mark. */
  markForDeletion(ulid: string, details?: string): Promise<boolean> {
    return writeMark(this.store, deletionMarkFormat, newDeletionMark(ulid, this.now(), details));
  }

  /** Excludes a block from compaction (an existing mark is kept); true when this call wrote the mark. */
  markNoCompact(ulid: string, reason: string, details?: string): Promise<boolean> {
    return writeMark(this.store, noCompactMarkFormat, newNoCompactMark(ulid, this.now(), reason, details));
  }

  /** Excludes a block from downsampling (an existing mark is kept); true when this call wrote the mark. */
  markNoDownsample(ulid: string, reason: string, details?: string): Promise<boolean> {
    return writeMark(
      this.store,
      noDownsampleMarkFormat,
      newNoDownsampleMark(ulid, this.now(), reason, details),
    );
  }

  /** Removes a block's mark of one kind; a missing mark is fine. */
  removeMark<M extends { id: string }>(ulid: string, format: MarkFormat<M>): Promise<void> {
    return removeMark(this.store, ulid, format);
  }

  /**
   * Deletes the blocks of the last snapshot marked at least `delayMs` ago,
   * and finishes deletions that stopped half-way (partial blocks with a
   * deletion mark that old). Returns their ULIDs.
   */
  async deleteMarked(delayMs: number): Promise<string[]> {
    const due = (m: DeletionMark): boolean => m.deletion_time * 1000 + delayMs <= this.now();
    const ulids = [
      ...this.last.marked.filter((b) => due(b.mark)).map((b) => b.meta.ulid),
      ...this.last.skipped
        .filter((s) => s.deletionMark !== undefined && due(s.deletionMark))
        .map((s) => s.ulid),
    ];
    for (const ulid of ulids) {
      await deleteBlock(this.store, ulid);
      this.metas.delete(ulid);
    }
    return ulids;
  }
}

/**
 * Deletes a block's objects in Thanos' order: meta.json first (so the block
 * stops being a block at once), then the rest, the deletion mark last (so a
 * deletion that stops half-way is a partial block still marked, which the
 * next `deleteMarked` finishes).
 */
export async function deleteBlock(store: ObjectStore, ulid: string): Promise<void> {
  if (!isUlid(ulid)) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `delete block: ${JSON.stringify(ulid)} is not a ULID`,
    );
  }
  await store.delete(`${ulid}/${META_FILE}`);
  const rest: string[] = [];
  for await (const o of store.list(`${ulid}/`, { recursive: true })) rest.push(o.key);
  for (const k of rest) if (k !== `${ulid}/${DELETION_MARK}`) await store.delete(k);
  await store.delete(`${ulid}/${DELETION_MARK}`);
}
