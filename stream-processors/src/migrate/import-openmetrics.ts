/**
 * Imports an OpenMetrics or Prometheus text file (or stdin) straight into a
 * bucket as blocks aligned to the block duration, under `<tenant>/<ULID>/`.
 * The input is streamed through storage's backfill, which holds one block
 * range at a time; each block is uploaded as soon as it is built. Block
 * names are derived from their content, so importing the same file again
 * gives the same keys with the same bytes; blocks already present are
 * skipped.
 */
import {
  type BackfillProgress,
  type BackfillResult,
  backfillText,
  DEFAULT_BLOCK_DURATION,
  type ObjectStore,
  openTextInput,
  StorageError,
  type TextFormat,
} from '@promstream/storage';
import { MigrateError } from './errors.js';
import { checkTenant } from './import-blocks.js';
import type { MigrateResult } from './progress.js';
import { uploadBlock } from './upload-block.js';

/** Options of importOpenMetrics. */
export interface ImportOpenMetricsOptions {
  tenant?: string;
  /** Block duration in ms (default two hours, as promtool). */
  blockDuration?: number;
  /** Input format, or 'auto' (default) to detect it. */
  format?: TextFormat | 'auto';
  /** Count and skip malformed lines instead of stopping at the first. */
  skipBadLines?: boolean;
  /** Where block ranges spill while the input is read (default the system temp dir). */
  tmpDir?: string;
  /** Progress of reading and building, after each input chunk and each block. */
  onProgress?: (p: BackfillProgress) => void;
}

/** What an OpenMetrics import did: the migration result and what the text held. */
export interface ImportOpenMetricsResult extends MigrateResult {
  text: BackfillResult;
}

/** Builds the blocks of a text file ('-' for stdin) and uploads each one as it is built. */
export async function importOpenMetrics(
  file: string,
  store: ObjectStore,
  options: ImportOpenMetricsOptions = {},
): Promise<ImportOpenMetricsResult> {
  const started = performance.now();
  const tenant = checkTenant(options.tenant ?? 'anonymous');
  let input: AsyncIterable<Uint8Array>;
  try {
    input = (await openTextInput(file)).input;
  } catch (e) {
    throw new MigrateError('SOURCE_READ', `read ${file}`, { cause: e });
  }
  const result: MigrateResult = { copied: [], skipped: [], bytes: 0, samples: 0, seconds: 0 };
  let text: BackfillResult;
  try {
    text = await backfillText(input, (block) => uploadBlock(store, tenant, block, result), {
      blockDuration: options.blockDuration ?? DEFAULT_BLOCK_DURATION,
      format: options.format,
      skipBadLines: options.skipBadLines,
      tmpDir: options.tmpDir,
      onProgress: options.onProgress,
    });
  } catch (e) {
    if (e instanceof MigrateError) throw e;
    if (e instanceof StorageError && e.code === 'invalid_argument') {
      throw new MigrateError('BAD_INPUT', `parse ${file}: ${e.message}`, { cause: e });
    }
    throw new MigrateError('SOURCE_READ', `read ${file}`, { cause: e });
  }
  result.seconds = (performance.now() - started) / 1000;
  return { ...result, text };
}
