import type { Matcher } from '@promstream/storage';
import { MergeQuerier } from '../merge-querier.js';
import type { Querier, SelectHints, Series } from '../querier.js';

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
  /** Series matching all matchers with samples in [mint, maxt], sorted by labels; iterators read only that range's chunks. */
  select(matchers: readonly Matcher[], mint: number, maxt: number, signal?: AbortSignal): Promise<Series[]>;
  labelNames(matchers: readonly Matcher[]): Promise<string[]>;
  labelValues(name: string, matchers: readonly Matcher[]): Promise<string[]>;
}

/**
 * A `Querier` over a set of blocks: only blocks whose range meets the query's
 * are read, and a series found in several blocks (adjacent or overlapping
 * ranges) is one series whose samples are merged by time.
 */
export class BlockQuerier implements Querier {
  constructor(private readonly blocks: readonly QueryableBlock[]) {}

  /** The blocks whose range meets [mint, maxt]. */
  overlapping(mint: number, maxt: number): QueryableBlock[] {
    return this.blocks.filter((b) => b.minTime <= maxt && b.maxTime > mint);
  }

  private merged(hints: SelectHints): Querier {
    return new MergeQuerier(this.overlapping(hints.mint, hints.maxt).map(blockAsQuerier));
  }

  async select(hints: SelectHints, matchers: readonly Matcher[]): Promise<Series[]> {
    if (this.overlapping(hints.mint, hints.maxt).length === 0) return [];
    return this.merged(hints).select(hints, matchers);
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

function blockAsQuerier(block: QueryableBlock): Querier {
  return {
    select: (hints, matchers) => block.select(matchers, hints.mint, hints.maxt, hints.signal),
    labelNames: (_hints, matchers) => block.labelNames(matchers),
    labelValues: (_hints, name, matchers) => block.labelValues(name, matchers),
  };
}
