/**
 * Samples of one block range spilled to a temporary file while the input is
 * read, so memory holds a small buffer per range instead of the samples.
 * A record is three float64s: series ref, time (ms), value; the file is read
 * back in the order it was written.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Records buffered per range before they go to the file (24 bytes each: 192 KiB). */
const BUFFER_RECORDS = 8192;

/**
 * One range's spill file. Writes are synchronous: the parser loop runs
 * between input chunks without yielding, and page-cache writes of a few
 * hundred KiB cost less than a promise per flush.
 */
export class RangeSpill {
  private readonly buf = new Float64Array(BUFFER_RECORDS * 3);
  private n = 0;
  private fd: number | undefined;
  private readonly path: string;
  /** Records added so far. */
  records = 0;
  /**
   * Whether a series came back after another one: false means each series'
   * samples are contiguous (the usual export order), so the range can be cut
   * one series at a time.
   */
  interleaved = false;
  private seen = new Uint8Array(1024);
  private lastRef = -1;

  constructor(
    dir: string,
    readonly start: number,
  ) {
    this.path = join(dir, `range-${start}.bin`);
  }

  /** Adds one sample. */
  add(ref: number, t: number, v: number): void {
    if (ref !== this.lastRef) this.enter(ref);
    const i = this.n * 3;
    const buf = this.buf;
    buf[i] = ref;
    buf[i + 1] = t;
    buf[i + 2] = v;
    this.records++;
    if (++this.n === BUFFER_RECORDS) this.flush();
  }

  /** Notes that a run of `ref`'s samples starts. */
  private enter(ref: number): void {
    if (ref >= this.seen.length) {
      const grown = new Uint8Array(Math.max(ref + 1, this.seen.length * 2));
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.seen[ref] === 1) this.interleaved = true;
    this.seen[ref] = 1;
    this.lastRef = ref;
  }

  private flush(): void {
    if (this.n === 0) return;
    this.fd ??= openSync(this.path, 'w');
    const bytes = new Uint8Array(this.buf.buffer, 0, this.n * 24);
    for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off);
    this.n = 0;
  }

  /**
   * Calls `each` with batches of records (ref, t, v interleaved; `count`
   * records) in the order they were added, then deletes the file.
   */
  drain(each: (records: Float64Array, count: number) => void): void {
    if (this.fd === undefined) {
      each(this.buf, this.n);
      this.n = 0;
      return;
    }
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
    const fd = openSync(this.path, 'r');
    try {
      const bytes = new Uint8Array(this.buf.buffer);
      let filled = 0;
      for (;;) {
        const got = readSync(fd, bytes, filled, bytes.length - filled, null);
        filled += got;
        const whole = Math.floor(filled / 24);
        if (got === 0 || filled === bytes.length) {
          if (whole > 0) each(this.buf, whole);
          const rest = filled - whole * 24;
          if (rest > 0) bytes.copyWithin(0, whole * 24, filled);
          filled = rest;
          if (got === 0) break;
        }
      }
    } finally {
      closeSync(fd);
      this.remove();
    }
  }

  /** Closes and deletes the file, if any. */
  remove(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.path, { force: true });
  }
}
