import { type Labels, PartitionClock, type PlacementRules } from '@promstream/storage';
import type { Querier } from '../querier.js';
import { type BackfillCut, BackfillRanges } from './backfill-ranges.js';
import type { HeadStore } from './head-store.js';

/** What the block builder records about a partition (its partition state, block-builder/FORMAT.md). */
export interface BlockWatermark {
  /** Live samples before this time are in blocks. */
  boundary: number;
  /** Every record before this offset is in blocks (or the dead-letter topic). */
  nextOffset: number;
  /** The partition clock before nextOffset. */
  clock?: number;
  /** Backfill ranges cut through an offset at or after nextOffset. */
  backfillCuts?: BackfillCut[];
  /** The placement rules the builder runs with. */
  rules?: PlacementRules;
}

/** One decoded record's samples. */
export interface TailRecord {
  tenant: string;
  series: { labels: Labels; t: ArrayLike<number>; v: ArrayLike<number> }[];
}

/**
 * The query head's side of one partition: it places each record's samples
 * by the block builder's rules (storage's PartitionClock, restored from the
 * builder's state), live ones into the shared head store and backfill ones
 * into backfill ranges, and drops what the builder's state says its blocks
 * now hold. A sample the builder refuses (too old, too far past its record)
 * is not held here either, so the head serves exactly the samples blocks
 * will hold and do not hold yet.
 */
export class PartitionTail {
  /** Live samples before this time are in blocks (the builder's state). */
  boundary: number;
  readonly clock: PartitionClock;
  readonly backfill: BackfillRanges;

  constructor(
    readonly partition: number,
    private readonly store: HeadStore,
    rules: PlacementRules,
    mark: BlockWatermark | undefined,
  ) {
    this.boundary = mark?.boundary ?? Number.NEGATIVE_INFINITY;
    this.clock = new PartitionClock(mark?.rules ?? rules, {
      clock: mark?.clock ?? Number.NEGATIVE_INFINITY,
      boundary: this.boundary,
    });
    this.backfill = new BackfillRanges(partition, this.clock, mark?.backfillCuts ?? []);
  }

  /**
   * Reads the record at `offset`: every record moves the clock, whether it
   * decoded (`record`) or not. Returns the samples kept.
   */
  add(offset: number, recordTime: number, isBackfill: boolean, record: TailRecord | undefined): number {
    const clock = this.clock;
    clock.advance(recordTime, isBackfill);
    let kept = 0;
    if (record !== undefined) {
      const upper = (recordTime >= 0 ? recordTime : clock.clock) + clock.rules.futureGrace;
      if (isBackfill) {
        for (const s of record.series)
          kept += this.backfill.append(offset, record.tenant, s.labels, s.t, s.v, upper);
      } else {
        const lower = Math.max(this.boundary, clock.floor());
        for (const s of record.series)
          kept += this.store.append(this.partition, record.tenant, s.labels, s.t, s.v, lower, upper);
      }
    }
    return kept;
  }

  /** Closes backfill ranges gone idle (after a batch). */
  endBatch(): void {
    this.backfill.closeIdle();
  }

  /** Drops what the builder's newest state says blocks hold. */
  applyWatermark(mark: BlockWatermark): void {
    if (mark.boundary > this.boundary) {
      this.boundary = mark.boundary;
      this.store.truncate(this.partition, mark.boundary);
    }
    this.backfill.dropWritten(mark);
  }

  /** Queriers over the tenant's backfill samples of this partition. */
  backfillQueriers(tenant: string): Querier[] {
    return this.backfill.queriers(tenant);
  }
}
