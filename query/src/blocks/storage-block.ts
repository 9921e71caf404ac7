import {
  BlockReader,
  type FloatHistogram,
  type Matcher,
  type ObjectStore,
  type SampleIterator,
  ValueType,
} from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import type { Series } from '../querier.js';
import type { QueryableBlock } from './block-querier.js';
import type { BlockMetaSummary } from './store-lister.js';

/**
 * Adapts the storage package's `BlockReader` to the block querier: selects go
 * through the index postings and load only the chunks of the range; label
 * lookups with matchers read series labels from the index, not chunks.
 */
export async function openStorageBlock(
  store: ObjectStore,
  prefix: string,
  _meta: BlockMetaSummary,
): Promise<QueryableBlock> {
  const reader = await BlockReader.open(store, prefix);
  const labelsOf = async (matchers: readonly Matcher[]) =>
    reader.index.series(await reader.index.postingsForMatchers(matchers));
  return {
    id: reader.meta.ulid,
    minTime: reader.meta.minTime,
    maxTime: reader.meta.maxTime,
    async select(matchers, mint, maxt, signal, labelsOnly): Promise<Series[]> {
      if (signal?.aborted) throw new EngineError('canceled', 'query was canceled');
      if (labelsOnly) {
        // The index's chunk metas tell which series have samples in the range; no chunk is read.
        if (maxt < reader.meta.minTime || mint >= reader.meta.maxTime) return [];
        const entries = await labelsOf(matchers);
        return entries
          .filter((e) => e.chunks.some((c) => c.maxTime >= mint && c.minTime <= maxt))
          .map((e) => ({ labels: e.labels, iterator: emptyIterator }));
      }
      // A block series is a Series whose iterator takes back one the caller is done with
      // (see `ReusableSeries`): handed over as it is, no wrapper per series.
      return reader.select(matchers, mint, maxt);
    },
    async labelNames(matchers) {
      if (matchers.length === 0) return reader.labelNames();
      const names = new Set<string>();
      for (const e of await labelsOf(matchers)) for (const l of e.labels) names.add(l.name);
      return [...names].sort();
    },
    async labelValues(name, matchers) {
      if (matchers.length === 0) return reader.labelValues(name);
      const values = new Set<string>();
      for (const e of await labelsOf(matchers)) {
        const v = e.labels.find((l) => l.name === name)?.value;
        if (v !== undefined) values.add(v);
      }
      return [...values].sort();
    },
  };
}

function emptyIterator(): SampleIterator {
  return {
    next: () => ValueType.None,
    seek: () => ValueType.None,
    atT: () => Number.NaN,
    at: () => Number.NaN,
    atHistogram: (): FloatHistogram => {
      throw new Error('labels-only series has no samples');
    },
    err: () => undefined,
  };
}
