import {
  type Labels,
  type Matcher,
  type SampleIterator,
  type SeriesChunk,
  StorageError,
  StorageErrorCode,
} from '@promstream/storage';
import { compareLabels, labelsKey } from '../merge-querier.js';
import type { SelectHints, Series } from '../querier.js';
import type { QueryableBlock } from './block-querier.js';
import { DownsampledIterator } from './downsampled-iterator.js';
import { type Aggregate, aggregateFor } from './resolution.js';

/**
 * One series of a select over downsampled blocks: its chunks from every
 * block, raw and AggrChunks in time order, read through one aggregate by
 * `DownsampledIterator`. It leaves `Series.chunks` unset (they do not decode
 * to its samples as they are); the selection codec sends `downsampledChunks`
 * and the aggregate to the evaluation thread, which reads them the same way.
 */
export class DownsampledSeries implements Series {
  constructor(
    readonly labels: Labels,
    readonly downsampledChunks: readonly SeriesChunk[],
    readonly aggregate: Aggregate,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  iterator(reuse?: SampleIterator): SampleIterator {
    const it = reuse instanceof DownsampledIterator ? reuse : new DownsampledIterator();
    it.reset(this.downsampledChunks, this.aggregate, this.mint, this.maxt);
    return it;
  }
}

/**
 * A select over blocks of which some are downsampled (as Thanos' querier
 * reads what its store gateway returns): each series' chunks from every block,
 * raw and AggrChunks, in time order, are one series read through the
 * aggregate the selector's function asks for (`aggregateFor`).
 */
export async function selectDownsampled(
  blocks: readonly QueryableBlock[],
  hints: SelectHints,
  matchers: readonly Matcher[],
): Promise<Series[]> {
  const labelsOnly = hints.func === 'series';
  const lists = await Promise.all(
    blocks.map((b) => b.select(matchers, hints.mint, hints.maxt, hints.signal, labelsOnly)),
  );
  const byKey = new Map<string, { labels: Labels; chunks: SeriesChunk[] }>();
  lists.forEach((list, k) => {
    for (const s of list) {
      if (s.chunks === undefined && !labelsOnly) {
        throw new StorageError(
          StorageErrorCode.Unsupported,
          `select block ${blocks[k]!.id}: its series carry no chunks, so they cannot be read downsampled`,
        );
      }
      const key = labelsKey(s.labels);
      let entry = byKey.get(key);
      if (entry === undefined) byKey.set(key, (entry = { labels: s.labels, chunks: [] }));
      if (s.chunks !== undefined) for (const c of s.chunks) entry.chunks.push(c);
    }
  });
  const aggregate = aggregateFor(hints.func ?? '');
  const out: Series[] = [];
  for (const { labels, chunks } of byKey.values()) {
    // Blocks come by start time but may overlap: their chunks are put in time order (a stable sort).
    chunks.sort((a, b) => a.minTime - b.minTime);
    out.push(new DownsampledSeries(labels, chunks, aggregate, hints.mint, hints.maxt));
  }
  return out.sort((a, b) => compareLabels(a.labels, b.labels));
}
