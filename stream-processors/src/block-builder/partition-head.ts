import { compareLabels, type Labels, labelsKey } from '@promstream/storage';
import { rangeStart } from './ranges.js';
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
}

/**
 * Why a sample was not kept: `too_old` arrived after its range was cut,
 * `covered` is below the boundary the head was restored with (a re-read of
 * a sample already in a block, after a restart).
 */
export type DropReason = 'too_old' | 'covered';

interface OpenRange {
  start: number;
  firstOffset: number;
  lastOffset: number;
  samples: number;
  tenants: Map<string, Map<string, SeriesBuffer>>;
}

/** Options of one partition head. */
export interface PartitionHeadOptions {
  /** Block duration in ms; ranges are aligned on its multiples. */
  blockDuration: number;
  /** How far behind the newest sample a late sample is still kept (ms). */
  outOfOrderWindow: number;
  /** Samples before this time are already in blocks (from the partition state). */
  boundary: number;
}

/**
 * The block builder's state for one partition: open aligned ranges of samples
 * not yet in a block. It decides, from the log alone, when a range is due
 * (the newest sample is past its end by the out-of-order window), which late
 * samples are dropped, and which offset is safe to commit (the first offset
 * holding a sample not yet in a block). Everything depends only on the
 * records fed in, so a restart from the committed offset rebuilds the same
 * blocks.
 */
export class PartitionHead {
  /** Samples before this time are in blocks; later ones for it are dropped. */
  boundary: number;
  /** The newest sample time seen. */
  watermark = Number.NEGATIVE_INFINITY;
  private readonly ranges = new Map<number, OpenRange>();
  private lastOffset = -1;
  readonly dropped: Record<DropReason, number> = { too_old: 0, covered: 0 };

  private readonly restoredBoundary: number;

  constructor(private readonly options: PartitionHeadOptions) {
    this.boundary = options.boundary;
    this.restoredBoundary = options.boundary;
  }

  /**
   * Samples older than this are dropped: their range is already a block.
   * The out-of-order window decides how long a range stays open after the
   * newest sample passed its end, so it bounds how late a sample may be.
   */
  lowerBound(): number {
    return this.boundary;
  }

  /**
   * Adds the samples of one series from the record at `offset`. Returns how
   * many were dropped for being late.
   */
  append(offset: number, tenant: string, labels: Labels, t: ArrayLike<number>, v: ArrayLike<number>): number {
    let dropped = 0;
    let key: string | undefined;
    const duration = this.options.blockDuration;
    const lower = this.lowerBound();
    let range: OpenRange | undefined;
    let buffer: SeriesBuffer | undefined;
    for (let i = 0; i < t.length; i++) {
      const ts = t[i]!;
      if (ts < lower) {
        // Below the boundary the partition state was restored with, a sample
        // is most likely a re-read of one already in a block.
        if (ts < this.restoredBoundary) this.dropped.covered++;
        else this.dropped.too_old++;
        dropped++;
        continue;
      }
      const start = rangeStart(ts, duration);
      if (range === undefined || range.start !== start) {
        range = this.openRange(start, offset);
        key ??= labelsKey(labels);
        let series = range.tenants.get(tenant);
        if (series === undefined) range.tenants.set(tenant, (series = new Map()));
        buffer = series.get(key);
        if (buffer === undefined) series.set(key, (buffer = new SeriesBuffer(labels)));
      }
      if (offset > range.lastOffset) range.lastOffset = offset;
      range.samples++;
      buffer!.push(ts, v[i]!);
    }
    for (let i = 0; i < t.length; i++) if (t[i]! > this.watermark) this.watermark = t[i]!;
    return dropped;
  }

  /** Marks the record at `offset` as fully read. */
  endRecord(offset: number): void {
    if (offset > this.lastOffset) this.lastOffset = offset;
  }

  /** Starts of the open ranges that are due for a cut, oldest first. */
  dueRanges(): number[] {
    const due: number[] = [];
    for (const start of this.ranges.keys()) {
      if (start + this.options.blockDuration + this.options.outOfOrderWindow <= this.watermark)
        due.push(start);
    }
    return due.sort((a, b) => a - b);
  }

  /**
   * Removes a due range from the head and returns its blocks, one per
   * tenant. The boundary moves to the range's end, so later samples for it
   * are dropped and counted.
   */
  take(start: number): CutBlock[] {
    const range = this.ranges.get(start);
    if (range === undefined) return [];
    this.ranges.delete(start);
    const end = start + this.options.blockDuration;
    if (end > this.boundary) this.boundary = end;
    const blocks: CutBlock[] = [];
    for (const tenant of [...range.tenants.keys()].sort()) {
      const buffers = range.tenants.get(tenant)!;
      const series: BlockSeries[] = [];
      let samples = 0;
      for (const buffer of buffers.values()) {
        const { t, v } = buffer.finish();
        samples += t.length;
        series.push({ labels: buffer.labels, t, v });
      }
      series.sort((a, b) => compareLabels(a.labels, b.labels));
      blocks.push({
        tenant,
        rangeStart: start,
        rangeEnd: end,
        firstOffset: range.firstOffset,
        lastOffset: range.lastOffset,
        series,
        samples,
      });
    }
    return blocks;
  }

  /**
   * The offset to commit: the first record holding a sample not yet in a
   * block, or the one after the last record read when every sample is.
   */
  commitOffset(): number {
    let min = this.lastOffset + 1;
    for (const range of this.ranges.values()) if (range.firstOffset < min) min = range.firstOffset;
    return min;
  }

  /** Number of samples held. */
  samples(): number {
    let n = 0;
    for (const range of this.ranges.values()) n += range.samples;
    return n;
  }

  /** The last record offset read, or -1. */
  lastRead(): number {
    return this.lastOffset;
  }

  private openRange(start: number, offset: number): OpenRange {
    let range = this.ranges.get(start);
    if (range === undefined) {
      range = { start, firstOffset: offset, lastOffset: offset, samples: 0, tenants: new Map() };
      this.ranges.set(start, range);
    }
    return range;
  }
}
