import { type FloatHistogram, type Matcher, type SampleIterator, ValueType } from '@promstream/storage';
import { compareLabels, labelsKey, MergeQuerier } from '../merge-querier.js';
import type { Querier, SelectHints, Series } from '../querier.js';
import { selectDownsampled } from './downsampled-select.js';
import { blocksForResolution, maxResolutionFor } from './resolution.js';

/**
 * What the block querier needs of one opened block: its time range and a
 * reader that selects series through the index. The storage package's block
 * reader is adapted to this in `storage-block.ts`; tests can supply their own.
 */
export interface QueryableBlock {
  /** Block id (ULID), for logs. */
  readonly id: string;
  /** First timestamp in the block, inclusive, milliseconds. */
  readonly minTime: number;
  /** End of the block's range, exclusive (as Prometheus' block meta), milliseconds. */
  readonly maxTime: number;
  /** Downsample resolution, milliseconds; absent or 0 for raw samples. */
  readonly resolution?: number;
  /**
   * Series matching all matchers with samples in [mint, maxt], sorted by
   * labels; iterators read only that range's chunks. With `labelsOnly` the
   * iterators may be empty (no chunk is read).
   */
  select(
    matchers: readonly Matcher[],
    mint: number,
    maxt: number,
    signal?: AbortSignal,
    labelsOnly?: boolean,
  ): Promise<Series[]>;
  labelNames(matchers: readonly Matcher[]): Promise<string[]>;
  labelValues(name: string, matchers: readonly Matcher[]): Promise<string[]>;
}

/**
 * A `Querier` over a set of blocks: only blocks whose range meets the query's
 * are read, and a series found in several blocks (adjacent or overlapping
 * ranges) is one series whose samples are merged by time. Blocks of every
 * resolution may be given: a select reads those `blocksForResolution` picks
 * for the querier's largest resolution (raw only by default), and reads
 * downsampled ones through the aggregate its function hint asks for.
 */
export class BlockQuerier implements Querier {
  private readonly blocks: readonly QueryableBlock[];

  /**
   * @param blocks The blocks, of any resolution.
   * @param maxResolution The largest resolution selects may read, milliseconds (Thanos' `max_source_resolution`).
   */
  constructor(
    blocks: readonly QueryableBlock[],
    readonly maxResolution = 0,
  ) {
    this.blocks = [...blocks].sort((a, b) => a.minTime - b.minTime);
  }

  /** The same blocks read at most at another resolution. */
  atResolution(maxResolution: number): BlockQuerier {
    return maxResolution === this.maxResolution ? this : new BlockQuerier(this.blocks, maxResolution);
  }

  /** The blocks a select of [mint, maxt] reads at resolutions up to `maxResolution` (default the querier's). */
  overlapping(mint: number, maxt: number, maxResolution = this.maxResolution): QueryableBlock[] {
    return blocksForResolution(this.blocks, mint, maxt, maxResolution);
  }

  private merged(hints: SelectHints): Querier {
    return new MergeQuerier(this.overlapping(hints.mint, hints.maxt).map(blockAsQuerier));
  }

  async select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]> {
    const func = hints.func ?? '';
    const maxResolution = maxResolutionFor(this.maxResolution, hints.range ?? 0, func);
    const blocks = this.overlapping(hints.mint, hints.maxt, maxResolution);
    if (blocks.length === 0) return [];
    if (blocks.some((b) => (b.resolution ?? 0) > 0)) return selectDownsampled(blocks, hints, matchers);
    const labelsOnly = func === 'series';
    if (blocks.length === 1)
      return blocks[0]!.select(matchers, hints.mint, hints.maxt, hints.signal, labelsOnly);
    if (!disjoint(blocks)) return new MergeQuerier(blocks.map(blockAsQuerier)).select(hints, matchers);
    // Blocks that do not overlap in time hold each series' samples in block order, so
    // chaining their iterators is enough: no per-sample comparison as in a merge.
    const lists = await Promise.all(
      blocks.map((b) => b.select(matchers, hints.mint, hints.maxt, hints.signal)),
    );
    // Each block answers in label order: a merge of the sorted lists pairs a series'
    // parts with one label comparison per step, no key strings and no sort.
    if (lists.every(inLabelOrder)) return mergeSorted(lists);
    const byKey = new Map<string, { labels: Series['labels']; parts: Series[] }>();
    for (const list of lists) {
      for (const s of list) {
        const key = labelsKey(s.labels);
        const entry = byKey.get(key);
        if (entry === undefined) byKey.set(key, { labels: s.labels, parts: [s] });
        else entry.parts.push(s);
      }
    }
    const out: Series[] = [];
    for (const { labels, parts } of byKey.values()) {
      out.push(parts.length === 1 ? parts[0]! : chained(labels, parts));
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  async labelNames(hints: SelectHints, matchers: readonly Matcher[]): Promise<string[]> {
    if (this.overlapping(hints.mint, hints.maxt).length === 0) return [];
    return this.merged(hints).labelNames(hints, matchers);
  }

  async labelValues(hints: SelectHints, name: string, matchers: readonly Matcher[]): Promise<string[]> {
    if (this.overlapping(hints.mint, hints.maxt).length === 0) return [];
    return this.merged(hints).labelValues(hints, name, matchers);
  }
}

/** Whether a block's series come in strictly increasing label order. */
function inLabelOrder(list: readonly Series[]): boolean {
  for (let i = 1; i < list.length; i++)
    if (compareLabels(list[i - 1]!.labels, list[i]!.labels) >= 0) return false;
  return true;
}

/**
 * Merges per-block series lists, each in strictly increasing label order and
 * given in block time order, into one list in label order; series found in
 * several blocks become one series chaining their parts in block order.
 */
function mergeSorted(lists: readonly (readonly Series[])[]): Series[] {
  const out: Series[] = [];
  const pos = new Array<number>(lists.length).fill(0);
  const parts: Series[] = [];
  for (;;) {
    // The smallest labels at the lists' heads; ties collect parts in block order.
    let min: Series['labels'] | undefined;
    for (let b = 0; b < lists.length; b++) {
      const s = lists[b]![pos[b]!];
      if (s === undefined) continue;
      if (min === undefined || compareLabels(s.labels, min) < 0) min = s.labels;
    }
    if (min === undefined) return out;
    parts.length = 0;
    for (let b = 0; b < lists.length; b++) {
      const s = lists[b]![pos[b]!];
      if (s !== undefined && (s.labels === min || compareLabels(s.labels, min) === 0)) {
        parts.push(s);
        pos[b]!++;
      }
    }
    out.push(parts.length === 1 ? parts[0]! : chained(min, [...parts]));
  }
}

/** One series whose samples are its parts' (disjoint in time, in order) one after the other. */
function chained(labels: Series['labels'], parts: readonly Series[]): Series {
  // Parts read from blocks carry their chunks; the chain's are theirs in order (see the selection codec).
  const partChunks = parts.map((p) => p.chunks);
  const chunks = partChunks.every((c) => c !== undefined) ? partChunks.flat() : undefined;
  return {
    labels,
    ...(chunks === undefined ? {} : { chunks }),
    iterator: (reuse?: SampleIterator) => {
      // Reuses a finished chain and its parts' iterators, part by part, when handed one.
      const prev = reuse instanceof ChainIterator ? reuse : undefined;
      const its = parts.map((p, k) => p.iterator(prev?.part(k)));
      if (prev === undefined) return new ChainIterator(its);
      prev.reset(its);
      return prev;
    },
  };
}

/** Whether blocks, sorted by start time, cover disjoint ranges (maxTime is exclusive). */
function disjoint(blocks: readonly QueryableBlock[]): boolean {
  for (let i = 1; i < blocks.length; i++) if (blocks[i - 1]!.maxTime > blocks[i]!.minTime) return false;
  return true;
}

/**
 * Iterates several iterators one after the other; for sources whose time
 * ranges are disjoint and given in time order.
 */
export class ChainIterator implements SampleIterator {
  private i = 0;

  constructor(private its: readonly SampleIterator[]) {}

  /** The iterator of part k, for reuse by the next series. */
  part(k: number): SampleIterator | undefined {
    return this.its[k];
  }

  /** Starts over on other iterators. */
  reset(its: readonly SampleIterator[]): void {
    this.its = its;
    this.i = 0;
  }

  next(): ValueType {
    while (this.i < this.its.length) {
      const it = this.its[this.i]!;
      const v = it.next();
      if (v !== ValueType.None || it.err() !== undefined) return v;
      this.i++;
    }
    return ValueType.None;
  }

  seek(t: number): ValueType {
    while (this.i < this.its.length) {
      const it = this.its[this.i]!;
      const v = it.seek(t);
      if (v !== ValueType.None || it.err() !== undefined) return v;
      this.i++;
    }
    return ValueType.None;
  }

  /**
   * Copies samples of the current part from the current one on (see
   * `ChunksIterator.copyFloats`); a part without bulk copy gives its current
   * sample alone. Call only while positioned on a float sample.
   */
  copyFloats(t: Float64Array, f: Float64Array, at: number, limit: number, maxt: number): number {
    const it = this.its[this.i]!;
    if (it.copyFloats !== undefined) return it.copyFloats(t, f, at, limit, maxt);
    const st = it.atT();
    if (st > maxt || at >= limit) return 0;
    t[at] = st;
    f[at] = it.at();
    return 1;
  }

  atT(): number {
    return this.its[this.i]!.atT();
  }

  at(): number {
    return this.its[this.i]!.at();
  }

  atHistogram(): FloatHistogram {
    return this.its[this.i]!.atHistogram();
  }

  err(): Error | undefined {
    for (const it of this.its) {
      const e = it.err();
      if (e !== undefined) return e;
    }
    return undefined;
  }
}

function blockAsQuerier(block: QueryableBlock): Querier {
  return {
    select: (hints, matchers) =>
      block.select(matchers, hints.mint, hints.maxt, hints.signal, hints.func === 'series'),
    labelNames: (_hints, matchers) => block.labelNames(matchers),
    labelValues: (_hints, name, matchers) => block.labelValues(name, matchers),
  };
}
