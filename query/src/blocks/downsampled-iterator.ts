import {
  AGGR_ENCODING,
  AGGR_NAMES,
  AggrChunkView,
  AggrType,
  type FloatHistogram,
  type SampleIterator,
  type SeriesChunk,
  StorageError,
  StorageErrorCode,
  ValueType,
  XOR_ENCODING,
  XorIterator,
} from '@promstream/storage';
import { type Aggregate, AVERAGE } from './resolution.js';

/**
 * Iterates one series whose chunks (in time order, possibly overlapping) are
 * raw XOR chunks and AggrChunks mixed, reading one aggregate as Thanos'
 * querier does (pkg/query/iter.go): a raw chunk gives its samples whatever
 * the aggregate; an AggrChunk gives the aggregate's samples, or sum / count
 * for the average. The counter is read across all chunks with resets folded
 * into a running total (Thanos' ApplyCounterResetsSeriesIterator, see
 * storage/docs/aggr-chunk.md). Samples at or before the last one given are
 * skipped, so overlapping chunks give each time once; samples are bounded to
 * [mint, maxt]. Reusable through `reset`; no allocation per sample.
 */
export class DownsampledIterator implements SampleIterator {
  private chunks: readonly SeriesChunk[] = [];
  private aggregate: Aggregate = AVERAGE;
  private mint = Number.NEGATIVE_INFINITY;
  private maxt = Number.POSITIVE_INFINITY;
  private i = -1;
  // The current chunk's samples (raw, or the aggregate's part); `cnt` the count part for the average.
  private readonly xor = new XorIterator();
  private readonly cnt = new XorIterator();
  private readonly view = new AggrChunkView();
  private average = false;
  private open = false;
  private started = false;
  private done = false;
  private t = 0;
  private v = 0;
  // The counter's state: the last raw value seen and the running total.
  private lastV = 0;
  private totalV = 0;
  private error: Error | undefined;

  /** Starts over on another series' chunks, reading `aggregate`, bounded to [mint, maxt]. */
  reset(chunks: readonly SeriesChunk[], aggregate: Aggregate, mint: number, maxt: number): void {
    this.chunks = chunks;
    this.aggregate = aggregate;
    this.mint = mint;
    this.maxt = maxt;
    this.i = -1;
    this.open = false;
    this.started = false;
    this.done = false;
    this.t = 0;
    this.v = 0;
    this.lastV = 0;
    this.totalV = 0;
    this.error = undefined;
  }

  /** Opens the next chunk; false at the end or on error. */
  private openNext(): boolean {
    this.open = false;
    if (++this.i >= this.chunks.length) return false;
    const c = this.chunks[this.i]!;
    try {
      if (c.encoding === XOR_ENCODING) {
        this.average = false;
        this.xor.reset(c.bytes);
      } else if (c.encoding === AGGR_ENCODING) {
        this.view.reset(c.bytes);
        const part = this.aggregate === AVERAGE ? AggrType.Sum : this.aggregate;
        this.xor.reset(this.part(part));
        this.average = this.aggregate === AVERAGE;
        if (this.average) this.cnt.reset(this.part(AggrType.Count));
      } else {
        throw new StorageError(
          StorageErrorCode.Unsupported,
          `read chunk: encoding ${c.encoding} is neither XOR nor an AggrChunk`,
        );
      }
    } catch (e) {
      this.error = e as Error;
      return false;
    }
    this.open = true;
    return true;
  }

  private part(t: AggrType): Uint8Array {
    const bytes = this.view.part(t);
    if (bytes === undefined)
      throw new StorageError(StorageErrorCode.Corrupt, `read AggrChunk: no ${AGGR_NAMES[t]} aggregate`);
    if (this.view.encoding(t) !== XOR_ENCODING) {
      throw new StorageError(
        StorageErrorCode.Unsupported,
        `read AggrChunk: ${AGGR_NAMES[t]} has encoding ${this.view.encoding(t)}; only float aggregates are read`,
      );
    }
    return bytes;
  }

  /** The next sample of the chunks, before bounding; false at the end or on error. */
  private step(): boolean {
    for (;;) {
      if (!this.open && !this.openNext()) return false;
      if (this.xor.next() === ValueType.None) {
        const e = this.xor.err();
        if (e !== undefined) {
          this.error = e;
          return false;
        }
        this.open = false;
        continue;
      }
      const t = this.xor.atT();
      const v = this.xor.at();
      if (this.aggregate === AggrType.Counter) {
        if (this.counter(t, v)) return true;
        continue;
      }
      if (this.average && !this.countAt(t)) return false;
      if (this.started && t <= this.t) continue;
      this.started = true;
      this.t = t;
      this.v = this.average ? v / this.cnt.at() : v;
      return true;
    }
  }

  /** Moves the count part along with the sum part; false (with an error) when they disagree. */
  private countAt(t: number): boolean {
    if (this.cnt.next() === ValueType.None || this.cnt.atT() !== t) {
      this.error =
        this.cnt.err() ??
        new StorageError(StorageErrorCode.Corrupt, 'read AggrChunk: sum and count are not aligned');
      return false;
    }
    return true;
  }

  /** Folds one counter sample into the total; true when it is a sample to give. */
  private counter(t: number, v: number): boolean {
    if (Number.isNaN(v)) return false;
    if (!this.started) {
      this.started = true;
      this.t = t;
      this.lastV = v;
      this.totalV = v;
      this.v = v;
      return true;
    }
    if (t > this.t) {
      this.totalV += v >= this.lastV ? v - this.lastV : v;
      this.t = t;
      this.lastV = v;
      this.v = this.totalV;
      return true;
    }
    // The same time again is an AggrChunk's true last raw value: it is kept, not given.
    if (t === this.t) this.lastV = v;
    return false;
  }

  next(): ValueType {
    if (this.done) return ValueType.None;
    while (this.step()) {
      if (this.t < this.mint) continue;
      if (this.t > this.maxt) break;
      return ValueType.Float;
    }
    this.done = true;
    return ValueType.None;
  }

  seek(t: number): ValueType {
    if (this.done) return ValueType.None;
    if (this.started && this.t >= t && this.t >= this.mint) return ValueType.Float;
    let vt = this.next();
    while (vt !== ValueType.None && this.t < t) vt = this.next();
    return vt;
  }

  atT(): number {
    return this.t;
  }

  at(): number {
    return this.v;
  }

  atHistogram(): FloatHistogram {
    throw new StorageError(
      StorageErrorCode.Unsupported,
      'read downsampled series: native histograms are not read',
    );
  }

  err(): Error | undefined {
    return this.error;
  }
}
