import {
  type BlockMeta,
  BlockReader,
  type ChunkMeta,
  type FloatHistogram,
  type IndexSeriesEntry,
  type LoadedChunk,
  LoadedSeries,
  type Matcher,
  type ObjectStore,
  resolutionOf,
  type SampleIterator,
  ValueType,
} from '@promstream/storage';
import { EngineError } from '../engine-types.js';
import type { Series } from '../querier.js';
import type { QueryableBlock } from './block-querier.js';
import {
  chunkBytes,
  entriesBytes,
  matchersKey,
  type Selection,
  type SelectionCache,
} from './selection-cache.js';

/**
 * Adapts the storage package's `BlockReader` to the block querier (given the
 * block's meta, as the catalog read it, meta.json is not read again): selects go
 * through the index postings and load only the chunks of the range; label
 * lookups with matchers read series labels from the index, not chunks.
 */
export async function openStorageBlock(
  store: ObjectStore,
  prefix: string,
  meta?: BlockMeta,
  cache?: SelectionCache,
): Promise<QueryableBlock> {
  const reader = await BlockReader.open(store, prefix, meta);
  const labelsOf = async (matchers: readonly Matcher[]) =>
    cache === undefined
      ? reader.index.series(await reader.index.postingsForMatchers(matchers))
      : (await selection(reader, cache, matchers)).entries;
  return {
    id: reader.meta.ulid,
    minTime: reader.meta.minTime,
    maxTime: reader.meta.maxTime,
    resolution: resolutionOf(reader.meta),
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
      if (cache !== undefined) return cachedSelect(reader, cache, matchers, mint, maxt);
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

/** The block's selection for a matcher set: from the cache, or read from the index and cached. */
async function selection(
  reader: BlockReader,
  cache: SelectionCache,
  matchers: readonly Matcher[],
): Promise<Selection> {
  const key = `${reader.meta.ulid}\u0002${matchersKey(matchers)}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  const entries: IndexSeriesEntry[] = await reader.index.series(
    await reader.index.postingsForMatchers(matchers),
  );
  const sel: Selection = {
    entries,
    chunks: entries.map((e) => new Array<LoadedChunk | undefined>(e.chunks.length)),
    bytes: entriesBytes(entries),
    cached: false,
  };
  cache.add(key, sel);
  return sel;
}

/**
 * The block reader's select over a cached selection: only chunks of the range
 * not read before are loaded (in one coalesced pass, as the reader does), and
 * kept for the next query.
 */
async function cachedSelect(
  reader: BlockReader,
  cache: SelectionCache,
  matchers: readonly Matcher[],
  mint: number,
  maxt: number,
): Promise<Series[]> {
  if (maxt < reader.meta.minTime || mint >= reader.meta.maxTime) return [];
  const sel = await selection(reader, cache, matchers);
  const { entries, chunks } = sel;
  const wanted: ChunkMeta[] = [];
  const slots: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    const metas = entries[i]!.chunks;
    const have = chunks[i]!;
    for (let k = 0; k < metas.length; k++) {
      const c = metas[k]!;
      if (c.maxTime >= mint && c.minTime <= maxt && have[k] === undefined) {
        wanted.push(c);
        slots.push(i, k);
      }
    }
  }
  if (wanted.length > 0) store(sel, cache, await reader.loadChunks(wanted), slots);
  const out: Series[] = [];
  for (let i = 0; i < entries.length; i++) {
    const metas = entries[i]!.chunks;
    const have = chunks[i]!;
    let first = -1;
    let last = -1;
    for (let k = 0; k < metas.length; k++) {
      const c = metas[k]!;
      if (c.maxTime >= mint && c.minTime <= maxt) {
        if (first < 0) first = k;
        last = k;
      }
    }
    if (first < 0) continue;
    // Chunk metas are in time order, so the range's chunks are one run of them.
    const run =
      first === 0 && last === metas.length - 1
        ? (have as LoadedChunk[])
        : (have.slice(first, last + 1) as LoadedChunk[]);
    out.push(new LoadedSeries(entries[i]!.labels, run, mint, maxt));
  }
  return out;
}

/**
 * Puts freshly loaded chunks into their slots. Loaded chunks view the
 * coalesced read buffers, which also hold the bytes between them (other
 * series' chunks): a cached selection packs its chunks into one buffer of
 * their own so the cache holds only what it counts.
 */
function store(sel: Selection, cache: SelectionCache, loaded: LoadedChunk[], slots: number[]): void {
  let total = 0;
  for (const c of loaded) total += c.bytes.length;
  const packed = sel.cached ? new Uint8Array(total) : undefined;
  let at = 0;
  let grew = 0;
  for (let j = 0; j < loaded.length; j++) {
    let c = loaded[j]!;
    if (packed !== undefined) {
      packed.set(c.bytes, at);
      c = { ...c, bytes: packed.subarray(at, at + c.bytes.length) };
      at += c.bytes.length;
    }
    const row = sel.chunks[slots[2 * j]!]!;
    const k = slots[2 * j + 1]!;
    // A concurrent select may have loaded the same chunk: count it once.
    if (row[k] === undefined) grew += chunkBytes(c);
    row[k] = c;
  }
  cache.grew(sel, grew);
}
