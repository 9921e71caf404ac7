/**
 * Cuts a series' samples into XOR chunks where Prometheus' head would: after
 * 30 samples it predicts an end time that spreads the remaining samples of
 * the chunk range evenly, and it always cuts at the range end or at 240
 * samples. Cutting at the same places makes our blocks match promtool's.
 */
import { XorAppender } from '../tsz/xor.js';
import type { ChunkInput } from './writer.js';

/** Samples per chunk Prometheus aims for. */
export const SAMPLES_PER_CHUNK = 120;

/** The end of the chunk range holding t (ranges aligned to multiples of `range`). */
function rangeEnd(t: number, range: number): number {
  return Math.floor(t / range) * range + range;
}

/** Go's integer division truncates toward zero. */
function idiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

function computeChunkEndTime(start: number, cur: number, max: number): number {
  const n = idiv(max - start, (cur - start + 1) * 4);
  if (n <= 1) return max;
  return start + idiv(max - start, n);
}

/** Appends samples of one series in time order and collects its chunks. */
export class SeriesChunker {
  private app: XorAppender | undefined;
  private minTime = 0;
  private maxTime = 0;
  private nextAt = 0;
  readonly chunks: ChunkInput[] = [];

  /**
   * `copyTo`, when given, receives each finished chunk's bytes and returns
   * where it keeps them (an arena), so the appender's larger buffer is not
   * held by the chunk.
   */
  constructor(
    private readonly chunkRange: number,
    private readonly copyTo?: (bytes: Uint8Array) => Uint8Array,
  ) {}

  /** Time of the last sample appended, or undefined before the first. */
  get lastTime(): number | undefined {
    return this.app === undefined && this.chunks.length === 0 ? undefined : this.maxTime;
  }

  /** Appends one sample; a time not after the previous one is dropped (false). */
  append(t: number, v: number): boolean {
    let app = this.app;
    if (app !== undefined && this.maxTime >= t) return false;
    if (app !== undefined) {
      const n = app.numSamples;
      if (n === SAMPLES_PER_CHUNK / 4)
        this.nextAt = computeChunkEndTime(this.minTime, this.maxTime, this.nextAt);
      if (t >= this.nextAt || n >= SAMPLES_PER_CHUNK * 2) {
        this.flush();
        app = undefined;
      }
    }
    if (app === undefined) {
      app = this.app = new XorAppender();
      this.minTime = t;
      this.nextAt = rangeEnd(t, this.chunkRange);
    }
    app.append(t, v);
    this.maxTime = t;
    return true;
  }

  /** Closes the open chunk. */
  flush(): void {
    if (this.app === undefined) return;
    const bytes = this.app.bytes();
    this.chunks.push({
      minTime: this.minTime,
      maxTime: this.maxTime,
      bytes: this.copyTo === undefined ? bytes : this.copyTo(bytes),
    });
    this.app = undefined;
  }
}
