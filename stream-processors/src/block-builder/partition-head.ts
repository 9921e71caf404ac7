import {
  alignedStart,
  compareLabels,
  type Labels,
  labelsKey,
  type PartitionBackfillCut,
  PartitionClock,
  Placement,
  type PlacementRules,
} from '@promstream/storage';
import { SeriesBuffer } from './series-buffer.js';

/** One series of a block about to be written: labels and sorted, de-duplicated samples. */
export interface BlockSeries {
  labels: Labels;
  t: Float64Array;
  v: Float64Array;
}

/** The content of one block: one tenant, one aligned range, one partition's offset span. */
export interface CutBlock {
  tenant: string;
  /** Start of the aligned range (inclusive, ms). */
  rangeStart: number;
  /** End of the aligned range (exclusive, ms). */
  rangeEnd: number;
  /** First and last log offset that contributed a sample to this range. */
  firstOffset: number;
  lastOffset: number;
  /** Series sorted by labels. */
  series: BlockSeries[];
  samples: number;
  /** A block of backfill records: it may overlap other blocks of its tenant. */
  backfill: boolean;
}

/** A backfill range cut into a block: records up to `through` that added to (tenant, start) are in blocks. */
export type BackfillCut = PartitionBackfillCut;

/**
 * Why a sample was not kept: `too_old` its live range is closed, `too_far_future`
 * it is past its record's timestamp by more than the grace period (both are
 * dead-lettered with their record), `covered` a re-read after a restart of a
 * sample already in a block (or already dead-lettered).
 */
export type DropReason = 'too_old' | 'too_far_future' | 'covered';

/** What one append did with its samples. */
export interface AppendResult {
  placed: number;
  tooOld: number;
  tooFarFuture: number;
  covered: number;
}

interface OpenRange {
  start: number;
  firstOffset: number;
  lastOffset: number;
  /** The partition clock before the record at firstOffset, so a restart from it rebuilds the clock. */
  clockBefore: number;
  samples: number;
  tenants: Map<string, Map<string, SeriesBuffer>>;
  /** Backfill ranges only: the clock after the last record that added to it. */
  touched: number;
}

/** What a partition head is restored from (the partition state). */
export interface RestoredHead {
  /** The clock before the first record to be read. */
  clock: number;
  /** Live samples before this time are in blocks. */
  boundary: number;
  /** Backfill ranges cut through offsets not below the first record to be read. */
  backfillCuts: readonly BackfillCut[];
  /** Records up to this offset were read before (their dead letters are written). */
  handledThrough: number;
}

/** Options of one partition head. */
export interface PartitionHeadOptions {
  rules: PlacementRules;
  restored?: RestoredHead;
}

/**
 * The block builder's state for one partition: open aligned ranges of
 * samples not yet in a block. Where each sample goes is decided by the
 * storage package's PartitionClock, driven by record timestamps, the same
 * rules the query head applies. Live records fill one range per aligned
 * time, cut once the clock passes its end by the out-of-order window;
 * backfill records fill ranges per tenant and time, cut once no record added
 * to them for the backfill idle time, and their blocks may overlap. The
 * offset safe to commit is the first record holding a sample not yet in a
 * block. Everything depends only on the records fed in and the restored
 * state, so a restart from the committed offset rebuilds the same blocks.
 */
export class PartitionHead {
  private readonly clock: PartitionClock;
  private readonly live = new Map<number, OpenRange>();
  /** Open backfill ranges by tenant and start. */
  private readonly backfill = new Map<string, OpenRange>();
  /** Backfill ranges closed since the last cut, waiting for it. */
  private readonly closed: { tenant: string; range: OpenRange }[] = [];
  /** (tenant, start) of backfill ranges cut: through which offset. */
  private readonly backfillCuts = new Map<string, BackfillCut>();
  private lastOffset = -1;
  private recordOffset = -1;
  private recordClockBefore = Number.NEGATIVE_INFINITY;
  private recordIsBackfill = false;
  readonly dropped: Record<DropReason, number> = { too_old: 0, too_far_future: 0, covered: 0 };
  /** Records up to this offset were read before a restart: nothing of theirs is dead-lettered again. */
  readonly handledThrough: number;
  private readonly result: AppendResult = { placed: 0, tooOld: 0, tooFarFuture: 0, covered: 0 };

  constructor(private readonly options: PartitionHeadOptions) {
    const r = options.restored;
    this.clock = new PartitionClock(options.rules, {
      clock: r?.clock ?? Number.NEGATIVE_INFINITY,
      boundary: r?.boundary ?? Number.NEGATIVE_INFINITY,
    });
    for (const cut of r?.backfillCuts ?? [])
      this.backfillCuts.set(`${cut.tenant}\u0000${cut.start}`, { ...cut });
    this.handledThrough = r?.handledThrough ?? -1;
  }

  /** Live samples before this time are in blocks, or were refused; later cuts move it. */
  get boundary(): number {
    return this.clock.floor();
  }

  /** The partition clock: the newest record timestamp read. */
  get time(): number {
    return this.clock.clock;
  }

  /** Starts a record: its offset, its timestamp (the log's time) and whether it is a backfill record. */
  beginRecord(offset: number, recordTime: number, backfill: boolean): void {
    this.recordOffset = offset;
    this.recordIsBackfill = backfill;
    this.recordClockBefore = this.clock.advance(recordTime, backfill);
  }

  /**
   * Adds the samples of one series of the current record. The result (reused
   * between calls) counts where they went.
   */
  append(tenant: string, labels: Labels, t: ArrayLike<number>, v: ArrayLike<number>): AppendResult {
    const r = this.result;
    r.placed = r.tooOld = r.tooFarFuture = r.covered = 0;
    const offset = this.recordOffset;
    const reread = offset <= this.handledThrough;
    let key: string | undefined;
    let range: OpenRange | undefined;
    let buffer: SeriesBuffer | undefined;
    for (let i = 0; i < t.length; i++) {
      const ts = t[i]!;
      const verdict = this.clock.place(ts);
      if (verdict === Placement.TooOld || verdict === Placement.TooFarFuture) {
        // A record read before a restart had its refused samples dead-lettered then.
        if (reread) {
          r.covered++;
          this.dropped.covered++;
        } else if (verdict === Placement.TooOld) {
          r.tooOld++;
          this.dropped.too_old++;
        } else {
          r.tooFarFuture++;
          this.dropped.too_far_future++;
        }
        continue;
      }
      const start = alignedStart(ts, this.options.rules.blockDuration);
      if (range === undefined || range.start !== start) {
        range = verdict === Placement.Live ? this.liveRange(start) : this.backfillRange(tenant, start);
        if (range === undefined) {
          // A backfill sample of a range cut through this record, before a restart.
          r.covered++;
          this.dropped.covered++;
          continue;
        }
        key ??= labelsKey(labels);
        let series = range.tenants.get(tenant);
        if (series === undefined) range.tenants.set(tenant, (series = new Map()));
        buffer = series.get(key);
        if (buffer === undefined) series.set(key, (buffer = new SeriesBuffer(labels)));
      }
      if (offset > range.lastOffset) range.lastOffset = offset;
      if (this.recordIsBackfill) range.touched = this.clock.clock;
      range.samples++;
      buffer!.push(ts, v[i]!);
      r.placed++;
    }
    return r;
  }

  /** Marks the current record as fully read. */
  endRecord(offset: number): void {
    if (offset > this.lastOffset) this.lastOffset = offset;
  }

  /**
   * Takes every range that is closed now out of the head and returns its
   * blocks, one per tenant, live ones in time order before backfill ones.
   */
  cut(): CutBlock[] {
    const blocks: CutBlock[] = [];
    const cutPoint = this.clock.cutPoint();
    for (const start of [...this.live.keys()].sort((a, b) => a - b)) {
      if (start >= cutPoint) continue;
      const range = this.live.get(start)!;
      this.live.delete(start);
      for (const tenant of [...range.tenants.keys()].sort()) blocks.push(this.block(tenant, range, false));
    }
    this.closeBackfill();
    for (const { tenant, range } of this.closed) {
      blocks.push(this.block(tenant, range, true));
      const id = `${tenant}\u0000${range.start}`;
      const before = this.backfillCuts.get(id);
      if (before === undefined || before.through < range.lastOffset)
        this.backfillCuts.set(id, { tenant, start: range.start, through: range.lastOffset });
    }
    this.closed.length = 0;
    return blocks;
  }

  /**
   * The offset to commit: the first record holding a sample not yet in a
   * block, or the one after the last record read when every sample is.
   */
  commitOffset(): number {
    return this.oldestOpen()?.firstOffset ?? this.lastOffset + 1;
  }

  /** What a restart from commitOffset() needs: the clock before it, and the backfill cuts it may read again. */
  restoreState(): { clock: number; backfillCuts: BackfillCut[] } {
    const next = this.commitOffset();
    return {
      clock: this.oldestOpen()?.clockBefore ?? this.clock.clock,
      backfillCuts: [...this.backfillCuts.values()].filter((c) => c.through >= next),
    };
  }

  /** Number of samples held. */
  samples(): number {
    let n = 0;
    for (const range of this.live.values()) n += range.samples;
    for (const range of this.backfill.values()) n += range.samples;
    for (const { range } of this.closed) n += range.samples;
    return n;
  }

  /** The last record offset read, or -1. */
  lastRead(): number {
    return this.lastOffset;
  }

  private oldestOpen(): OpenRange | undefined {
    let oldest: OpenRange | undefined;
    for (const map of [this.live, this.backfill])
      for (const range of map.values())
        if (oldest === undefined || range.firstOffset < oldest.firstOffset) oldest = range;
    for (const { range } of this.closed)
      if (oldest === undefined || range.firstOffset < oldest.firstOffset) oldest = range;
    return oldest;
  }

  private block(tenant: string, range: OpenRange, backfill: boolean): CutBlock {
    const buffers = range.tenants.get(tenant)!;
    const series: BlockSeries[] = [];
    let samples = 0;
    for (const buffer of buffers.values()) {
      const { t, v } = buffer.finish();
      samples += t.length;
      series.push({ labels: buffer.labels, t, v });
    }
    series.sort((a, b) => compareLabels(a.labels, b.labels));
    return {
      tenant,
      rangeStart: range.start,
      rangeEnd: range.start + this.options.rules.blockDuration,
      firstOffset: range.firstOffset,
      lastOffset: range.lastOffset,
      series,
      samples,
      backfill,
    };
  }

  private open(start: number): OpenRange {
    return {
      start,
      firstOffset: this.recordOffset,
      lastOffset: this.recordOffset,
      clockBefore: this.recordClockBefore,
      samples: 0,
      tenants: new Map(),
      touched: this.clock.clock,
    };
  }

  private liveRange(start: number): OpenRange {
    let range = this.live.get(start);
    if (range === undefined) this.live.set(start, (range = this.open(start)));
    return range;
  }

  /** The open backfill range of (tenant, start); undefined when a cut already holds this record's samples of it. */
  private backfillRange(tenant: string, start: number): OpenRange | undefined {
    const id = `${tenant}\u0000${start}`;
    const cut = this.backfillCuts.get(id);
    if (cut !== undefined && this.recordOffset <= cut.through) return undefined;
    let range = this.backfill.get(id);
    if (range !== undefined && this.clock.backfillClosed(range.touched)) {
      // Closed before this record: its content is final; this record starts the next one.
      this.backfill.delete(id);
      this.closed.push({ tenant, range });
      range = undefined;
    }
    if (range === undefined) this.backfill.set(id, (range = this.open(start)));
    return range;
  }

  private closeBackfill(): void {
    for (const [id, range] of this.backfill) {
      if (!this.clock.backfillClosed(range.touched)) continue;
      this.backfill.delete(id);
      this.closed.push({ tenant: [...range.tenants.keys()][0]!, range });
    }
  }
}
