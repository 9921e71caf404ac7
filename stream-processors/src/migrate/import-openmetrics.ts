/**
 * Imports an OpenMetrics text file straight into a bucket as blocks aligned
 * to the block duration, under `<tenant>/<ULID>/`. Block names are derived
 * from their content, so importing the same file again rewrites the same
 * keys with the same bytes; blocks already present are skipped.
 */
import { readFile } from 'node:fs/promises';
import {
  createBlocksFromOpenMetrics,
  DEFAULT_BLOCK_DURATION,
  MemoryObjectStore,
  type ObjectStore,
} from '@promstream/storage';
import { MigrateError } from './errors.js';
import { exportBlocks } from './export-blocks.js';
import { checkTenant } from './import-blocks.js';
import type { MigrateResult, OnProgress } from './progress.js';

/** Options of importOpenMetrics. */
export interface ImportOpenMetricsOptions {
  tenant?: string;
  /** Block duration in ms (default two hours, as promtool). */
  blockDuration?: number;
  onProgress?: OnProgress;
}

/** Builds the blocks of an OpenMetrics file and copies them into the store. */
export async function importOpenMetrics(
  file: string,
  store: ObjectStore,
  options: ImportOpenMetricsOptions = {},
): Promise<MigrateResult> {
  const started = performance.now();
  const tenant = checkTenant(options.tenant ?? 'anonymous');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new MigrateError('SOURCE_READ', `read ${file}`, { cause: e });
  }
  // Blocks are built in memory first, then copied with the same skip-if-present
  // rule as an export, so the bucket never holds a block without its meta.json.
  const staging = new MemoryObjectStore();
  try {
    await createBlocksFromOpenMetrics(text, staging, tenant, {
      blockDuration: options.blockDuration ?? DEFAULT_BLOCK_DURATION,
    });
  } catch (e) {
    throw new MigrateError('BAD_INPUT', `parse OpenMetrics ${file}`, { cause: e });
  }
  const result = await exportBlocks(staging, store, { tenants: [tenant], onProgress: options.onProgress });
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
