/**
 * Copies the blocks of a bucket that overlap a time range into another
 * bucket, tenant by tenant, keeping their keys. A block the destination
 * already holds (its meta.json exists) is skipped and meta.json is copied
 * last, so an interrupted export is finished by running it again.
 */
import {
  BlockCatalog,
  type BlockMeta,
  DELETION_MARK,
  listTenants,
  META_FILE,
  NO_COMPACT_MARK,
  NO_DOWNSAMPLE_MARK,
  type ObjectStore,
  putStream,
  readChunks,
  tenantStore,
} from '@promstream/storage';
import { MigrateError } from './errors.js';
import { checkTenant } from './import-blocks.js';
import type { MigrateResult, OnProgress } from './progress.js';

/** Objects are copied in ranges of this many bytes. */
const COPY_CHUNK = 8 * 1024 * 1024;

/** Options of exportBlocks. */
export interface ExportBlocksOptions {
  /** Start of the range, inclusive (ms); default the beginning of time. */
  from?: number;
  /** End of the range, exclusive (ms); default no end. */
  to?: number;
  /** Only these tenants; default every tenant of the source bucket. */
  tenants?: string[];
  onProgress?: OnProgress;
}

/** Deletion marks and other per-block markers that must not travel with a copy. */
const NOT_COPIED = new Set([META_FILE, DELETION_MARK, NO_COMPACT_MARK, NO_DOWNSAMPLE_MARK]);

/** Copies blocks overlapping [from, to) from `source` to `dest`. */
export async function exportBlocks(
  source: ObjectStore,
  dest: ObjectStore,
  options: ExportBlocksOptions = {},
): Promise<MigrateResult> {
  const started = performance.now();
  const from = options.from ?? Number.MIN_SAFE_INTEGER;
  const to = options.to ?? Number.MAX_SAFE_INTEGER;
  if (!(from < to)) throw new MigrateError('BAD_OPTIONS', `empty range: from ${from} is not before to ${to}`);
  let tenants: string[];
  try {
    tenants = options.tenants?.map(checkTenant) ?? (await listTenants(source));
  } catch (e) {
    if (e instanceof MigrateError) throw e;
    throw new MigrateError('SOURCE_READ', 'list tenants of the source bucket', { cause: e });
  }
  // Every block to copy with its objects, listed first so progress has totals.
  const plan: { tenant: string; meta: BlockMeta; objects: { key: string; size: number }[] }[] = [];
  try {
    for (const tenant of tenants) {
      const snap = await new BlockCatalog(tenantStore(source, tenant)).refresh();
      for (const meta of snap.blocks) {
        if (meta.minTime >= to || meta.maxTime <= from) continue;
        const objects: { key: string; size: number }[] = [];
        for await (const o of source.list(`${tenant}/${meta.ulid}/`, { recursive: true })) {
          const rel = o.key.slice(tenant.length + meta.ulid.length + 2);
          if (!NOT_COPIED.has(rel)) objects.push({ key: o.key, size: o.size });
        }
        plan.push({ tenant, meta, objects });
      }
    }
  } catch (e) {
    throw new MigrateError('SOURCE_READ', 'list blocks of the source bucket', { cause: e });
  }
  const totalBytes = plan.reduce((n, b) => n + b.objects.reduce((m, o) => m + o.size, 0), 0);
  const result: MigrateResult = { copied: [], skipped: [], bytes: 0, samples: 0, seconds: 0 };
  let done = 0;
  const report = (): void =>
    options.onProgress?.({
      blocks: result.copied.length + result.skipped.length,
      totalBlocks: plan.length,
      bytes: done,
      totalBytes,
      samples: result.samples,
      skipped: result.skipped.length,
    });
  report();
  for (const b of plan) {
    const base = `${b.tenant}/${b.meta.ulid}`;
    const blockBytes = b.objects.reduce((m, o) => m + o.size, 0);
    if ((await dest.head(`${base}/meta.json`)) !== undefined) {
      result.skipped.push(b.meta.ulid);
      result.samples += b.meta.stats.numSamples;
      done += blockBytes;
      report();
      continue;
    }
    for (const o of b.objects) {
      // Copied range by range: no object is held whole, however large its chunk file.
      const n = await putStream(dest, o.key, sourceRanges(source, o.key, o.size)).catch((e: unknown) => {
        if (e instanceof MigrateError) throw e;
        throw new MigrateError('DESTINATION_WRITE', `write ${o.key}`, { cause: e });
      });
      done += n;
      result.bytes += n;
      report();
    }
    try {
      const meta = await source.get(`${base}/meta.json`);
      await dest.put(`${base}/meta.json`, meta);
      result.bytes += meta.length;
    } catch (e) {
      throw new MigrateError('DESTINATION_WRITE', `copy ${base}/meta.json`, { cause: e });
    }
    result.copied.push(b.meta.ulid);
    result.samples += b.meta.stats.numSamples;
    report();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** The object's bytes in ranges of 8 MiB; a failed read is the source's error. */
async function* sourceRanges(source: ObjectStore, key: string, size: number): AsyncIterable<Uint8Array> {
  try {
    yield* readChunks(source, key, size, COPY_CHUNK);
  } catch (e) {
    throw new MigrateError('SOURCE_READ', `read ${key}`, { cause: e });
  }
}
