import { isStorageError, type ObjectStore, StorageErrorCode } from '@promstream/storage';
import type { QueryableBlock } from './block-querier.js';
import type { BlockLister, ListedBlock } from './tenant-blocks.js';

/** The fields of a block's `meta.json` the query tier reads. */
export interface BlockMetaSummary {
  ulid: string;
  minTime: number;
  maxTime: number;
  /** Thanos downsample resolution in milliseconds; 0 for raw data. */
  resolution: number;
}

/** Opens the block under `prefix` (e.g. `default/01J.../`) of a store. */
export type BlockOpener = (
  store: ObjectStore,
  prefix: string,
  meta: BlockMetaSummary,
) => Promise<QueryableBlock>;

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Reads the summary of a `meta.json`; throws on a malformed one. */
export function parseMetaSummary(bytes: Uint8Array, where: string): BlockMetaSummary {
  const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof json !== 'object' || json === null) throw new Error(`${where}: meta.json is not an object`);
  const m = json as {
    ulid?: unknown;
    minTime?: unknown;
    maxTime?: unknown;
    thanos?: { downsample?: { resolution?: unknown } };
  };
  if (typeof m.ulid !== 'string' || typeof m.minTime !== 'number' || typeof m.maxTime !== 'number') {
    throw new Error(`${where}: meta.json lacks ulid, minTime or maxTime`);
  }
  const resolution = m.thanos?.downsample?.resolution;
  return {
    ulid: m.ulid,
    minTime: m.minTime,
    maxTime: m.maxTime,
    resolution: typeof resolution === 'number' ? resolution : 0,
  };
}

/**
 * Lists a tenant's blocks in the Thanos layout `<tenant>/<ULID>/meta.json`:
 * directories whose name is a ULID and that have a `meta.json` and no
 * `deletion-mark.json`, at raw resolution (downsampled blocks answer other
 * queries). A block whose meta does not read is still listed so that opening
 * it fails and is reported; a block still being uploaded has no meta yet
 * (meta.json is written last) and is left out.
 */
export function storeBlockLister(store: ObjectStore, open: BlockOpener): BlockLister {
  return async (tenant: string): Promise<ListedBlock[]> => {
    const out: ListedBlock[] = [];
    for await (const entry of store.list(`${tenant}/`)) {
      if (!entry.isPrefix) continue;
      const id = entry.key.slice(tenant.length + 1).replace(/\/$/, '');
      if (!ULID_RE.test(id)) continue;
      const prefix = `${tenant}/${id}/`;
      const [metaInfo, mark] = await Promise.all([
        store.head(`${prefix}meta.json`),
        store.head(`${prefix}deletion-mark.json`),
      ]);
      if (metaInfo === undefined || mark !== undefined) continue;
      let meta: BlockMetaSummary;
      try {
        meta = parseMetaSummary(await store.get(`${prefix}meta.json`), prefix);
      } catch (err) {
        if (isStorageError(err, StorageErrorCode.NotFound)) continue;
        out.push({ id, open: () => Promise.reject(err) });
        continue;
      }
      if (meta.resolution !== 0) continue;
      out.push({ id, open: () => open(store, prefix, meta) });
    }
    return out;
  };
}
