/**
 * Builds blocks from OpenMetrics text, as `promtool tsdb
 * create-blocks-from openmetrics` does: blocks aligned to the block
 * duration (2h by default), chunks cut as Prometheus' head cuts them.
 */
import { StorageError, StorageErrorCode } from '../errors.js';
import type { ObjectStore } from '../objstore/object-store.js';
import { SeriesChunker } from './chunker.js';
import { formatLabels } from './labels.js';
import type { BlockMeta } from './meta.js';
import { parseOpenMetrics } from './openmetrics.js';
import { type SeriesInput, writeBlock } from './writer.js';

/** Default block duration of promtool's backfill: two hours. */
export const DEFAULT_BLOCK_DURATION = 2 * 60 * 60 * 1000;

/** Writes the blocks of an OpenMetrics text under `dir` in the store; returns their metas. */
export async function createBlocksFromOpenMetrics(
  text: string,
  store: ObjectStore,
  dir: string,
  options: { blockDuration?: number } = {},
): Promise<BlockMeta[]> {
  const duration = options.blockDuration ?? DEFAULT_BLOCK_DURATION;
  if (!Number.isSafeInteger(duration) || duration <= 0) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `block duration ${duration} is not a positive integer`,
    );
  }
  // Samples of each block window, per series, in input order.
  const windows = new Map<
    number,
    Map<string, { labels: SeriesInput['labels']; ts: number[]; vs: number[] }>
  >();
  for (const s of parseOpenMetrics(text)) {
    const start = Math.floor(s.t / duration) * duration;
    let w = windows.get(start);
    if (w === undefined) windows.set(start, (w = new Map()));
    const key = formatLabels(s.labels);
    let series = w.get(key);
    if (series === undefined) w.set(key, (series = { labels: s.labels, ts: [], vs: [] }));
    series.ts.push(s.t);
    series.vs.push(s.v);
  }
  const metas: BlockMeta[] = [];
  for (const start of [...windows.keys()].sort((a, b) => a - b)) {
    const series: SeriesInput[] = [];
    for (const s of windows.get(start)!.values()) {
      // Prometheus' head appends in time order and drops repeats; sort first (stable).
      const order = s.ts.map((_, i) => i).sort((a, b) => s.ts[a]! - s.ts[b]!);
      // The backfill head's chunk range is twice the block size.
      const chunker = new SeriesChunker(2 * duration);
      for (const i of order) chunker.append(s.ts[i]!, s.vs[i]!);
      chunker.flush();
      series.push({ labels: s.labels, chunks: chunker.chunks });
    }
    metas.push(await writeBlock(store, dir, series));
  }
  return metas;
}
