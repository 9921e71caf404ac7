/**
 * Uploads one encoded block into a bucket under `<tenant>/<ULID>/`, unless
 * the bucket already holds it (its meta.json exists). Files go in the
 * block's order, meta.json last, so a block cut off mid-upload stays
 * invisible and is uploaded again whole by the next run.
 */
import type { EncodedBlock, ObjectStore } from '@promstream/storage';
import { MigrateError } from './errors.js';
import type { MigrateResult } from './progress.js';

/** Uploads `block` and records it in `result` as copied or skipped. */
export async function uploadBlock(
  store: ObjectStore,
  tenant: string,
  block: EncodedBlock,
  result: MigrateResult,
): Promise<void> {
  const base = `${tenant}/${block.meta.ulid}`;
  result.samples += block.meta.stats.numSamples;
  let present: boolean;
  try {
    present = (await store.head(`${base}/meta.json`)) !== undefined;
  } catch (e) {
    throw new MigrateError('DESTINATION_WRITE', `check ${base}/meta.json`, { cause: e });
  }
  if (present) {
    result.skipped.push(block.meta.ulid);
    return;
  }
  for (const [name, bytes] of block.files) {
    try {
      await store.put(`${base}/${name}`, bytes);
    } catch (e) {
      throw new MigrateError('DESTINATION_WRITE', `write ${base}/${name}`, { cause: e });
    }
    result.bytes += bytes.length;
  }
  result.copied.push(block.meta.ulid);
}
