import {
  type BlockMeta,
  type BucketCatalog,
  liveBlocks,
  type ObjectStore,
  type Resolution,
  StorageError,
} from '@promstream/storage';
import type { QueryableBlock } from './block-querier.js';
import { withoutSuperseded } from './superseded.js';
import type { BlockLister, ListedBlock } from './tenant-blocks.js';

/** Opens the block under `prefix` (e.g. `default/01J.../`) of the bucket, whose meta the catalog read. */
export type BlockOpener = (store: ObjectStore, prefix: string, meta: BlockMeta) => Promise<QueryableBlock>;

/** Options of the catalog lister. */
export interface CatalogListerOptions {
  /**
   * List only blocks of this resolution (default: every resolution; the
   * block querier picks among them per query).
   */
  resolution?: Resolution;
}

/**
 * Lists a tenant's blocks through the storage package's bucket catalog:
 * the blocks with a readable meta.json, of every resolution, not marked for
 * deletion and not superseded by another block (the blocks replacing them
 * hold their data; see `withoutSuperseded`). A block whose meta
 * does not read is listed with an `open` that fails with the catalog's
 * error, so it is reported as a bad block; a partial block (upload in
 * progress) is left out.
 */
export function catalogBlockLister(
  catalog: BucketCatalog,
  open: BlockOpener,
  options: CatalogListerOptions = {},
): BlockLister {
  const filter = options.resolution === undefined ? {} : { resolution: options.resolution };
  return async (tenant: string): Promise<ListedBlock[]> => {
    const snap = await catalog.tenant(tenant).refresh();
    const out: ListedBlock[] = withoutSuperseded(liveBlocks(snap, filter)).map(({ meta }) => ({
      id: meta.ulid,
      open: () => open(catalog.store, `${tenant}/${meta.ulid}/`, meta),
    }));
    for (const s of snap.skipped) {
      if (s.code === 'partial') continue;
      const err = new StorageError(s.code, s.reason, { block: `${tenant}/${s.ulid}` });
      out.push({ id: s.ulid, open: () => Promise.reject(err) });
    }
    return out;
  };
}
