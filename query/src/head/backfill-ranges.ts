import { alignedStart, type Labels, type PartitionClock } from '@promstream/storage';
import type { Querier } from '../querier.js';
import { HeadStore } from './head-store.js';

/** A backfill range cut into a block, as the builder's partition state lists it. */
export interface BackfillCut {
  tenant: string;
  start: number;
  through: number;
}

/** One backfill range of one tenant, held until the builder's state says its block is written. */
interface BackfillRange {
  tenant: string;
  start: number;
  firstOffset: number;
  lastOffset: number;
  /** The clock after the last record that added to it. */
  touched: number;
  closed: boolean;
  store: HeadStore;
}

/**
 * The query head's backfill ranges of one partition: the same ranges the
 * block builder opens for backfill records (per tenant and aligned time,
 * closed once no record added to them for the backfill idle time, by the
 * same PartitionClock), so the head serves backfill samples exactly until
 * their blocks exist. A closed range is dropped once the builder's state
 * shows its block written: a cut of its (tenant, start) through its last
 * offset, or a committed offset past it.
 */
export class BackfillRanges {
  private readonly ranges = new Map<string, BackfillRange>();
  private readonly closed: BackfillRange[] = [];
  private readonly cuts = new Map<string, number>();

  constructor(
    private readonly partition: number,
    private readonly clock: PartitionClock,
    cuts: readonly BackfillCut[],
  ) {
    for (const c of cuts) this.cuts.set(`${c.tenant}\u0000${c.start}`, c.through);
  }

  /**
   * Adds one series of a backfill record at `offset`, its samples up to
   * `upperBound` (the grace period past the record). Returns how many were kept.
   */
  append(
    offset: number,
    tenant: string,
    labels: Labels,
    t: ArrayLike<number>,
    v: ArrayLike<number>,
    upperBound: number,
  ): number {
    const duration = this.clock.rules.blockDuration;
    let kept = 0;
    let i = 0;
    while (i < t.length) {
      const start = alignedStart(t[i]!, duration);
      let j = i + 1;
      while (j < t.length && alignedStart(t[j]!, duration) === start) j++;
      const range = this.rangeFor(tenant, start, offset);
      if (range !== undefined) {
        kept += range.store.append(
          this.partition,
          tenant,
          labels,
          slice(t, i, j),
          slice(v, i, j),
          -Infinity,
          upperBound,
        );
        range.lastOffset = offset;
        range.touched = this.clock.clock;
      }
      i = j;
    }
    return kept;
  }

  /** Closes the ranges no record added to for the idle time. */
  closeIdle(): void {
    for (const [id, range] of this.ranges) {
      if (!this.clock.backfillClosed(range.touched)) continue;
      this.ranges.delete(id);
      range.closed = true;
      this.closed.push(range);
    }
  }

  /** Drops closed ranges whose blocks the builder's state shows written. */
  dropWritten(state: { nextOffset: number; backfillCuts?: readonly BackfillCut[] }): void {
    const through = new Map<string, number>();
    for (const c of state.backfillCuts ?? []) through.set(`${c.tenant}\u0000${c.start}`, c.through);
    for (let i = this.closed.length - 1; i >= 0; i--) {
      const r = this.closed[i]!;
      const cut = through.get(`${r.tenant}\u0000${r.start}`);
      if (state.nextOffset > r.lastOffset || (cut !== undefined && cut >= r.lastOffset))
        this.closed.splice(i, 1);
    }
  }

  /** Queriers over the tenant's backfill samples held here. */
  queriers(tenant: string): Querier[] {
    const out: Querier[] = [];
    for (const r of this.ranges.values()) if (r.tenant === tenant) out.push(r.store.querier(tenant));
    for (const r of this.closed) if (r.tenant === tenant) out.push(r.store.querier(tenant));
    return out;
  }

  /** Samples held. */
  samples(): number {
    let n = 0;
    for (const r of this.ranges.values()) n += r.store.samples();
    for (const r of this.closed) n += r.store.samples();
    return n;
  }

  private rangeFor(tenant: string, start: number, offset: number): BackfillRange | undefined {
    const id = `${tenant}\u0000${start}`;
    const cut = this.cuts.get(id);
    // Cut through this record before the head started: the block holds these samples.
    if (cut !== undefined && offset <= cut) return undefined;
    let range = this.ranges.get(id);
    if (range !== undefined && this.clock.backfillClosed(range.touched)) {
      this.ranges.delete(id);
      range.closed = true;
      this.closed.push(range);
      range = undefined;
    }
    if (range === undefined) {
      range = {
        tenant,
        start,
        firstOffset: offset,
        lastOffset: offset,
        touched: this.clock.clock,
        closed: false,
        store: new HeadStore(),
      };
      this.ranges.set(id, range);
    }
    return range;
  }
}

function slice(a: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (from === 0 && to === a.length) return a;
  const out = new Float64Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = a[i]!;
  return out;
}
