/**
 * Builds blocks from OpenMetrics or Prometheus text, as `promtool tsdb
 * create-blocks-from openmetrics` does: blocks aligned to the block duration
 * (2h by default), chunks cut as Prometheus' head cuts them.
 *
 * The input is read once, chunk by chunk. Each sample is appended to a
 * temporary file of its block range (24 bytes a sample); the series table
 * is the only thing that grows with the input, by its cardinality. Then
 * each range, oldest first, is read back, cut into chunks and written as a
 * block, so memory holds one range's compressed chunks at a time. promtool
 * instead reads its memory-mapped file once per range; one read of the text
 * and one of the compact spill is cheaper and works on stdin too.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError, StorageErrorCode } from '../errors.js';
import type { ObjectStore } from '../objstore/object-store.js';
import type { BlockMeta } from './meta.js';
import { RangeBuilder } from './range-builder.js';
import { RangeSpill } from './range-spill.js';
import { type BadLine, type TextFormat, TextSampleParser } from './text-parser.js';
import { type EncodedBlock, encodeBlock } from './writer.js';

/** Default block duration of promtool's backfill: two hours. */
export const DEFAULT_BLOCK_DURATION = 2 * 60 * 60 * 1000;

/** Progress of a backfill, reported after each input chunk and each block. */
export interface BackfillProgress {
  /** 'read' while the input is parsed, 'write' while blocks are built. */
  phase: 'read' | 'write';
  bytesRead: number;
  samplesRead: number;
  /** Samples in blocks written so far. */
  samplesOut: number;
  blocks: number;
}

/** Options of backfillText. */
export interface BackfillOptions {
  /** Block duration in ms (default two hours). */
  blockDuration?: number;
  /** Input format, or 'auto' (default) to detect it. */
  format?: TextFormat | 'auto';
  /** Count and skip malformed lines instead of stopping at the first. */
  skipBadLines?: boolean;
  /** Where range spill files go (default the system's temporary directory). */
  tmpDir?: string;
  onProgress?: (p: BackfillProgress) => void;
}

/** What a backfill did. */
export interface BackfillResult {
  blocks: BlockMeta[];
  format: TextFormat | undefined;
  bytesRead: number;
  lines: number;
  samplesRead: number;
  /** Samples in the blocks (repeated times of a series are dropped). */
  samplesOut: number;
  badLines: number;
  firstBadLines: BadLine[];
}

/** Takes each encoded block, oldest first. */
export type BlockSink = (block: EncodedBlock) => Promise<void>;

function checkDuration(duration: number): void {
  if (!Number.isSafeInteger(duration) || duration <= 0) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `block duration ${duration} is not a positive integer`,
    );
  }
}

/** Reads text input chunk by chunk, spilling samples to one file per block range. */
async function readIntoSpills(
  input: AsyncIterable<Uint8Array>,
  parser: TextSampleParser,
  spillDir: string,
  duration: number,
  progress: BackfillProgress,
  onProgress?: (p: BackfillProgress) => void,
): Promise<Map<number, RangeSpill>> {
  const spills = new Map<number, RangeSpill>();
  let last: RangeSpill | undefined;
  const drain = (): void => {
    while (parser.next()) {
      const t = parser.t;
      // Most samples fall in the same range as the one before.
      if (last === undefined || t < last.start || t >= last.start + duration) {
        const start = Math.floor(t / duration) * duration;
        last = spills.get(start);
        if (last === undefined) spills.set(start, (last = new RangeSpill(spillDir, start)));
      }
      last.add(parser.ref, t, parser.v);
      progress.samplesRead++;
    }
  };
  for await (const chunk of input) {
    parser.feed(chunk);
    drain();
    progress.bytesRead += chunk.length;
    onProgress?.(progress);
  }
  parser.end();
  drain();
  return spills;
}

/**
 * Writes the blocks of a text input through `sink`, one block range at a
 * time, oldest first. A malformed line stops the run before any block is
 * written, unless `skipBadLines` is set.
 */
export async function backfillText(
  input: AsyncIterable<Uint8Array>,
  sink: BlockSink,
  options: BackfillOptions = {},
): Promise<BackfillResult> {
  const duration = options.blockDuration ?? DEFAULT_BLOCK_DURATION;
  checkDuration(duration);
  const parser = new TextSampleParser({ format: options.format, skipBadLines: options.skipBadLines });
  const tmp = options.tmpDir ?? tmpdir();
  removeStaleSpills(tmp);
  const spillDir = mkdtempSync(join(tmp, `${SPILL_PREFIX}${process.pid}-`));
  const progress: BackfillProgress = {
    phase: 'read',
    bytesRead: 0,
    samplesRead: 0,
    samplesOut: 0,
    blocks: 0,
  };
  const blocks: BlockMeta[] = [];
  let spills = new Map<number, RangeSpill>();
  try {
    spills = await readIntoSpills(input, parser, spillDir, duration, progress, options.onProgress);
    progress.phase = 'write';
    for (const start of [...spills.keys()].sort((a, b) => a - b)) {
      const block = buildRange(spills.get(start)!, duration, parser);
      spills.delete(start);
      await sink(block);
      blocks.push(block.meta);
      progress.blocks++;
      progress.samplesOut += block.meta.stats.numSamples;
      options.onProgress?.(progress);
    }
  } finally {
    for (const s of spills.values()) s.remove();
    rmSync(spillDir, { recursive: true, force: true });
  }
  return {
    blocks,
    format: parser.format,
    bytesRead: progress.bytesRead,
    lines: parser.lines,
    samplesRead: progress.samplesRead,
    samplesOut: progress.samplesOut,
    badLines: parser.badLines,
    firstBadLines: parser.firstBadLines,
  };
}

/**
 * The block of one range. Its own function so the range's chunkers and
 * their slabs are garbage once the block is encoded, not kept alive through
 * the upload that follows.
 */
function buildRange(spill: RangeSpill, duration: number, parser: TextSampleParser): EncodedBlock {
  // The backfill head's chunk range is twice the block size.
  const builder = new RangeBuilder(2 * duration, !spill.interleaved);
  spill.drain((records, count) => builder.addRecords(records, count));
  return encodeBlock(builder.series((ref) => parser.series.labels(ref)));
}

/** Spill directories are named `<prefix><pid>-<random>`. */
const SPILL_PREFIX = 'promstream-backfill-';

/**
 * Removes the spill directories of backfills whose process is gone (killed
 * before its cleanup ran), so a killed run leaves nothing behind once the
 * next one starts.
 */
export function removeStaleSpills(tmp: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = new RegExp(`^${SPILL_PREFIX}(\\d+)-`).exec(name);
    if (m === null || processAlive(Number(m[1]))) continue;
    rmSync(join(tmp, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Whether a process with this id exists (signal 0 checks without sending). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A sink that writes each block under `dir` in the store, meta.json last. */
export function storeBlockSink(store: ObjectStore, dir: string): BlockSink {
  const prefix = dir === '' ? '' : `${dir.replace(/\/+$/, '')}/`;
  return async (block) => {
    for (const [name, bytes] of block.files) await store.put(`${prefix}${block.meta.ulid}/${name}`, bytes);
  };
}

/** Writes the blocks of an OpenMetrics text under `dir` in the store; returns their metas. */
export async function createBlocksFromOpenMetrics(
  text: string,
  store: ObjectStore,
  dir: string,
  options: { blockDuration?: number } = {},
): Promise<BlockMeta[]> {
  checkDuration(options.blockDuration ?? DEFAULT_BLOCK_DURATION);
  async function* once(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(text, 'utf8');
  }
  const r = await backfillText(once(), storeBlockSink(store, dir), {
    blockDuration: options.blockDuration,
    format: 'openmetrics',
  });
  return r.blocks;
}
