/**
 * Reads every series of a block in label order with its chunks, a batch of
 * series at a time, so a compaction never holds a whole block.
 */
import type { IndexSeriesEntry } from '../block/index-reader.js';
import type { BlockReader, LoadedChunk } from '../block/reader.js';
import type { Labels } from '../model.js';

/** One series of a block with all its chunks. */
export interface FullSeries {
  readonly labels: Labels;
  readonly chunks: readonly LoadedChunk[];
}

/** Series read per batch. */
const SERIES_BATCH = 512;

/** Every series of the block, in the index's (label) order. */
export async function* blockSeries(reader: BlockReader, batch = SERIES_BATCH): AsyncGenerator<FullSeries> {
  const refs = await reader.index.postings('', '');
  for (let i = 0; i < refs.length; i += batch) {
    const entries: IndexSeriesEntry[] = await reader.index.series(refs.subarray(i, i + batch));
    const metas = entries.flatMap((e) => e.chunks);
    const loaded = await reader.loadChunks(metas);
    let k = 0;
    for (const e of entries) {
      yield { labels: e.labels, chunks: loaded.slice(k, k + e.chunks.length) };
      k += e.chunks.length;
    }
  }
}
