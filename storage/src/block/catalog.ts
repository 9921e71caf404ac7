/**
 * The blocks of one tenant, refreshed by listing the bucket: each block's
 * meta.json (read once; blocks are immutable), Thanos deletion marks, and the
 * blocks that could not be read, with why.
 */
import { isStorageError, StorageError, StorageErrorCode } from '../errors.js';
import type { ObjectStore } from '../objstore/object-store.js';
import { isValidTenantId } from '../tenant.js';
import { type BlockMeta, parseMeta } from './meta.js';
import { isUlid } from './ulid.js';

/** File name of a Thanos deletion mark inside a block. */
export const DELETION_MARK = 'deletion-mark.json';

/** A Thanos deletion mark (deletion-mark.json). */
export interface DeletionMark {
  id: string;
  /** Unix seconds when the block was marked. */
  deletion_time: number;
  version: 1;
  details?: string;
}

/** A block the catalog could not use, and why. */
export interface SkippedBlock {
  ulid: string;
  code: StorageErrorCode | 'partial';
  reason: string;
}

/** What one refresh found. */
export interface CatalogSnapshot {
  /** Readable blocks without a deletion mark, by minTime then ULID. */
  blocks: BlockMeta[];
  /** Blocks marked for deletion, with their marks. */
  marked: { meta: BlockMeta; mark: DeletionMark }[];
  /** Blocks without meta.json (upload in progress or abandoned) or with a corrupt one. */
  skipped: SkippedBlock[];
}

/** Options of a catalog. */
export interface CatalogOptions {
  /** Called for each block skipped in a refresh (logging, metrics). */
  onSkip?: (b: SkippedBlock) => void;
  /** Clock for deletion marks, ms since the epoch. */
  now?: () => number;
}

/** The block catalog of a store (a tenant's prefixed view or a whole bucket). */
export class BlockCatalog {
  private readonly metas = new Map<string, BlockMeta>();
  private last: CatalogSnapshot = { blocks: [], marked: [], skipped: [] };
  private readonly now: () => number;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: CatalogOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The snapshot of the last refresh. */
  get snapshot(): CatalogSnapshot {
    return this.last;
  }

  /** Lists the store and reads new blocks' meta.json; corrupt blocks are skipped and reported. */
  async refresh(): Promise<CatalogSnapshot> {
    const ulids: string[] = [];
    for await (const o of this.store.list('')) {
      if (!o.isPrefix) continue;
      const name = o.key.slice(0, -1);
      if (isUlid(name)) ulids.push(name);
    }
    const seen = new Set(ulids);
    for (const k of [...this.metas.keys()]) if (!seen.has(k)) this.metas.delete(k);
    const snap: CatalogSnapshot = { blocks: [], marked: [], skipped: [] };
    const skip = (b: SkippedBlock): void => {
      snap.skipped.push(b);
      this.options.onSkip?.(b);
    };
    await Promise.all(
      ulids.map(async (ulid) => {
        let meta = this.metas.get(ulid);
        if (meta === undefined) {
          try {
            meta = parseMeta(await this.store.get(`${ulid}/meta.json`), { block: ulid });
            if (meta.ulid !== ulid) {
              throw new StorageError(
                StorageErrorCode.Corrupt,
                `read block meta: meta.json names ${meta.ulid}`,
                {
                  block: ulid,
                  section: 'meta.json',
                },
              );
            }
            this.metas.set(ulid, meta);
          } catch (e) {
            if (isStorageError(e, StorageErrorCode.NotFound)) {
              skip({
                ulid,
                code: 'partial',
                reason: 'meta.json is missing (upload in progress or abandoned)',
              });
            } else if (isStorageError(e)) {
              skip({ ulid, code: e.code, reason: e.message });
            } else {
              skip({ ulid, code: StorageErrorCode.Io, reason: String(e) });
            }
            return;
          }
        }
        const mark = await this.readMark(ulid);
        if (mark === undefined) snap.blocks.push(meta);
        else snap.marked.push({ meta, mark });
      }),
    );
    snap.blocks.sort((a, b) => a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : 1));
    snap.marked.sort((a, b) => (a.meta.ulid < b.meta.ulid ? -1 : 1));
    snap.skipped.sort((a, b) => (a.ulid < b.ulid ? -1 : 1));
    this.last = snap;
    return snap;
  }

  private async readMark(ulid: string): Promise<DeletionMark | undefined> {
    let b: Uint8Array;
    try {
      b = await this.store.get(`${ulid}/${DELETION_MARK}`);
    } catch (e) {
      if (isStorageError(e, StorageErrorCode.NotFound)) return undefined;
      throw e;
    }
    try {
      const m = JSON.parse(new TextDecoder().decode(b)) as DeletionMark;
      return typeof m === 'object' && m !== null ? m : { id: ulid, deletion_time: 0, version: 1 };
    } catch {
      // A mark that does not parse still marks the block, as in Thanos.
      return { id: ulid, deletion_time: 0, version: 1, details: 'unparseable deletion mark' };
    }
  }

  /** Writes a Thanos deletion mark for a block (idempotent: an existing mark is kept). */
  async markForDeletion(ulid: string, details?: string): Promise<void> {
    if (!isUlid(ulid)) throw new StorageError(StorageErrorCode.InvalidArgument, `${ulid} is not a ULID`);
    const mark: DeletionMark = { id: ulid, deletion_time: Math.floor(this.now() / 1000), version: 1 };
    if (details !== undefined) mark.details = details;
    try {
      await this.store.put(`${ulid}/${DELETION_MARK}`, new TextEncoder().encode(JSON.stringify(mark)), {
        ifNoneMatch: true,
      });
    } catch (e) {
      if (!isStorageError(e, StorageErrorCode.PreconditionFailed)) throw e;
    }
  }

  /**
   * Deletes blocks marked at least `delayMs` ago: meta.json first (so the
   * block stops being a block), then the rest, the mark last.
   */
  async deleteMarked(delayMs: number): Promise<string[]> {
    const deleted: string[] = [];
    for (const { meta, mark } of this.last.marked) {
      if (mark.deletion_time * 1000 + delayMs > this.now()) continue;
      await this.store.delete(`${meta.ulid}/meta.json`);
      const rest: string[] = [];
      for await (const o of this.store.list(`${meta.ulid}/`, { recursive: true })) rest.push(o.key);
      for (const k of rest.filter((k) => !k.endsWith(DELETION_MARK))) await this.store.delete(k);
      await this.store.delete(`${meta.ulid}/${DELETION_MARK}`);
      this.metas.delete(meta.ulid);
      deleted.push(meta.ulid);
    }
    return deleted;
  }
}

/**
 * Tenants of a bucket: the top-level prefixes that are valid tenant IDs (so
 * neither block ULIDs nor the processors' `_promstream/` state).
 */
export async function listTenants(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list('')) {
    if (o.isPrefix && isValidTenantId(o.key.slice(0, -1))) out.push(o.key.slice(0, -1));
  }
  return out;
}
