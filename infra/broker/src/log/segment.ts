import fs from 'node:fs';
import path from 'node:path';
import { BrokerError } from '../errors.js';
import type { FileRange } from '../protocol/writer.js';
import { BATCH_LOG_OVERHEAD, type BatchHeader, checkBatch } from './record-batch.js';
import { readRecords } from './records.js';

/** Bytes per index entry: relative base offset u32, position u32, max timestamp i64. */
export const INDEX_ENTRY_SIZE = 16;

/** Segment files are named by their base offset, zero-padded to 20 digits as Kafka does. */
export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

/** One batch found while scanning a segment: its header and where it starts. */
export interface ScannedBatch {
  header: BatchHeader;
  position: number;
}

/**
 * One segment: a `.log` file of record batches as produced (base offsets
 * rewritten) and a dense `.index` with one entry per batch. See FORMAT.md.
 * The index lives in memory as typed arrays and is appended to its file on
 * every batch; it is rebuilt from the log whenever it does not match it.
 */
export class Segment {
  readonly logPath: string;
  readonly indexPath: string;
  fd: number;
  /**
   * Set once bytes went into the .log file without O_DSYNC (acks=1 or 0, or a
   * synchronous drain): they may not be on disk, so later acks=all batches
   * must not be made durable on their own (a crash could leave a hole before
   * them, and the start-up check would cut them off). From then on the
   * segment is fsynced as a whole (see PartitionLog.pump).
   */
  plainWrites = false;
  /** A second descriptor of the .log file opened with O_DSYNC (-1 until first asked for); see `durableFd`. */
  private dsyncFd = -1;
  private indexFd: number;
  /** Entries already in the .index file; the rest are written when the segment is flushed (at its roll). */
  private indexed = 0;
  /** Bytes in the .log file. */
  size = 0;
  private rel = new Uint32Array(64);
  private pos = new Uint32Array(64);
  private ts = new Float64Array(64);
  /** Batches in the segment. */
  count = 0;
  /** The offset after the last record of the segment. */
  nextOffset: number;
  /**
   * What readers see: the bytes, batches and next offset of the prefix that
   * is written to the file. Appends through `reserve` are counted above at
   * once and here only when their write has completed (see PartitionLog).
   */
  readableSize = 0;
  readableCount = 0;
  readableNext: number;
  /** Largest batch max timestamp, -1 when empty. */
  maxTimestamp = -1;
  /** Wall-clock time of the first append, for roll by segment.ms. */
  createdAt: number;
  private closed = false;
  /** File ranges handed out and not yet released; descriptors stay open while any is out. */
  private pins = 0;
  /** The grace period of a deletion has passed: close the descriptors at the last release. */
  private closeDue = false;

  private constructor(
    dir: string,
    readonly baseOffset: number,
    now: number,
  ) {
    const name = segmentName(baseOffset);
    this.logPath = path.join(dir, `${name}.log`);
    this.indexPath = path.join(dir, `${name}.index`);
    this.fd = fs.openSync(this.logPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    this.indexFd = fs.openSync(this.indexPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    this.nextOffset = baseOffset;
    this.readableNext = baseOffset;
    this.createdAt = now;
  }

  /** Creates an empty segment starting at baseOffset. */
  static create(dir: string, baseOffset: number, now: number): Segment {
    const seg = new Segment(dir, baseOffset, now);
    fs.ftruncateSync(seg.fd, 0);
    fs.ftruncateSync(seg.indexFd, 0);
    // The new file names must survive a power loss too, not only their contents.
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
    return seg;
  }

  /**
   * Opens an existing segment. With `scan`, every batch is read and checked
   * by CRC, a torn or corrupt tail is cut off and the index is rewritten; the
   * batches found are passed to onBatch. Without it, the index file is
   * trusted when its last entry ends exactly at the end of the log, and
   * rebuilt by a scan otherwise.
   */
  static open(
    dir: string,
    baseOffset: number,
    now: number,
    scan: boolean,
    onBatch?: (b: ScannedBatch) => void,
  ): Segment {
    const seg = new Segment(dir, baseOffset, now);
    seg.size = fs.fstatSync(seg.fd).size;
    seg.createdAt = fs.fstatSync(seg.fd).mtimeMs;
    if (scan || !seg.loadIndex()) seg.rebuild(onBatch);
    seg.markWritten(seg.size, seg.count, seg.nextOffset);
    seg.indexed = seg.count;
    return seg;
  }

  /** Loads the index file; false when it does not describe the log exactly. */
  private loadIndex(): boolean {
    const raw = fs.readFileSync(this.indexPath);
    const n = Math.floor(raw.length / INDEX_ENTRY_SIZE);
    if (n === 0) return this.size === 0;
    this.grow(n);
    let lastPos = -1;
    for (let i = 0; i < n; i++) {
      const at = i * INDEX_ENTRY_SIZE;
      const p = raw.readUInt32BE(at + 4);
      if (p <= lastPos && i > 0) return false;
      lastPos = p;
      this.rel[i] = raw.readUInt32BE(at);
      this.pos[i] = p;
      this.ts[i] = Number(raw.readBigInt64BE(at + 8));
    }
    this.count = n;
    // The last indexed batch must end exactly where the log ends.
    const head = Buffer.alloc(BATCH_LOG_OVERHEAD + 61);
    const got = fs.readSync(this.fd, head, 0, head.length, lastPos);
    if (got < BATCH_LOG_OVERHEAD) return false;
    const size = head.readInt32BE(8) + BATCH_LOG_OVERHEAD;
    if (lastPos + size !== this.size) return false;
    const lastOffsetDelta = head.readInt32BE(23);
    this.nextOffset = this.baseOffset + (this.rel[n - 1] as number) + lastOffsetDelta + 1;
    for (let i = 0; i < n; i++) this.maxTimestamp = Math.max(this.maxTimestamp, this.ts[i] as number);
    return true;
  }

  /** Reads the whole log, keeps the valid prefix, truncates the rest and rewrites the index. */
  private rebuild(onBatch?: (b: ScannedBatch) => void): void {
    this.count = 0;
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = -1;
    const chunk = 1 << 20;
    let buf = Buffer.alloc(0);
    let bufStart = 0; // file position of buf[0]
    let at = 0; // file position of the next batch
    const index = Buffer.alloc(INDEX_ENTRY_SIZE);
    fs.ftruncateSync(this.indexFd, 0);
    let idxPos = 0;
    for (;;) {
      let header = checkBatch(buf, at - bufStart);
      if (header === 'truncated') {
        // Read more: keep the unread tail and append the next chunk.
        const tail = buf.subarray(at - bufStart);
        const want = Math.max(
          chunk,
          tail.length >= BATCH_LOG_OVERHEAD ? tail.readInt32BE(8) + BATCH_LOG_OVERHEAD : 0,
        );
        const more = Buffer.alloc(Math.min(want, Math.max(0, this.size - at - tail.length)));
        const got = more.length > 0 ? fs.readSync(this.fd, more, 0, more.length, at + tail.length) : 0;
        if (got === 0) break;
        buf = Buffer.concat([tail, more.subarray(0, got)]);
        bufStart = at;
        header = checkBatch(buf, 0);
        if (header === 'truncated') continue;
      }
      if (typeof header === 'string') break;
      if (header.baseOffset < this.nextOffset) break;
      const rel = header.baseOffset - this.baseOffset;
      this.push(rel, at, header.maxTimestamp);
      index.writeUInt32BE(rel, 0);
      index.writeUInt32BE(at, 4);
      index.writeBigInt64BE(BigInt(header.maxTimestamp), 8);
      fs.writeSync(this.indexFd, index, 0, INDEX_ENTRY_SIZE, idxPos);
      idxPos += INDEX_ENTRY_SIZE;
      this.nextOffset = header.baseOffset + header.lastOffsetDelta + 1;
      onBatch?.({ header, position: at });
      at += header.size;
    }
    if (at !== this.size) {
      fs.ftruncateSync(this.fd, at);
      fs.fsyncSync(this.fd);
      this.size = at;
    }
  }

  private grow(n: number): void {
    if (n <= this.rel.length) return;
    let cap = this.rel.length;
    while (cap < n) cap *= 2;
    const rel = new Uint32Array(cap);
    rel.set(this.rel);
    const pos = new Uint32Array(cap);
    pos.set(this.pos);
    const ts = new Float64Array(cap);
    ts.set(this.ts);
    this.rel = rel;
    this.pos = pos;
    this.ts = ts;
  }

  private push(rel: number, position: number, maxTimestamp: number): void {
    this.grow(this.count + 1);
    this.rel[this.count] = rel;
    this.pos[this.count] = position;
    this.ts[this.count] = maxTimestamp;
    this.count++;
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
  }

  /**
   * Appends batches whose base offsets are already set, written at once.
   * `batches` is the bytes of one or more whole batches; `entries` gives each
   * one's base offset, byte position within `batches`, last offset and max
   * timestamp. (The produce path reserves and writes in the background instead.)
   */
  append(
    batches: Buffer,
    entries: ReadonlyArray<{ baseOffset: number; at: number; lastOffset: number; maxTimestamp: number }>,
  ): void {
    const start = this.reserve(batches.length, entries);
    let written = 0;
    while (written < batches.length)
      written += fs.writeSync(this.fd, batches, written, batches.length - written, start + written);
    this.markWritten(this.size, this.count, this.nextOffset);
  }

  /**
   * Takes the next `length` bytes of the log for batches described by
   * `entries` (as in append) and indexes them, without writing the batches:
   * the caller writes them at the returned position and then calls
   * markWritten. Readers do not see them before that.
   */
  reserve(
    length: number,
    entries: ReadonlyArray<{ baseOffset: number; at: number; lastOffset: number; maxTimestamp: number }>,
  ): number {
    if (this.closed) throw new BrokerError('STORAGE_IO', `append to closed segment ${this.logPath}`);
    const start = this.size;
    for (const e of entries) {
      this.push(e.baseOffset - this.baseOffset, start + e.at, e.maxTimestamp);
      this.nextOffset = e.lastOffset + 1;
    }
    this.size += length;
    return start;
  }

  /**
   * Writes the entries not yet in the .index file. The active segment keeps
   * its index in memory only (a restart rebuilds the last segment's index
   * from the log anyway), which keeps the index file out of every acks=all
   * fsync; it is written once, when the segment rolls or the broker stops.
   */
  private writeIndex(): void {
    if (this.indexed >= this.count) return;
    const n = this.count - this.indexed;
    const index = Buffer.allocUnsafe(INDEX_ENTRY_SIZE * n);
    for (let k = 0; k < n; k++) {
      const i = this.indexed + k;
      const at = k * INDEX_ENTRY_SIZE;
      index.writeUInt32BE(this.rel[i] as number, at);
      index.writeUInt32BE(this.pos[i] as number, at + 4);
      index.writeBigInt64BE(BigInt(this.ts[i] as number), at + 8);
    }
    let written = 0;
    while (written < index.length)
      written += fs.writeSync(
        this.indexFd,
        index,
        written,
        index.length - written,
        this.indexed * INDEX_ENTRY_SIZE + written,
      );
    this.indexed = this.count;
  }

  /**
   * Drops what lies past the written prefix: the bytes of writes that
   * failed (and of later ones refused with them) and their index entries,
   * so the next append goes where the written batches end. Shrinking a file
   * needs no free space.
   */
  truncateToWritten(): void {
    fs.ftruncateSync(this.fd, this.readableSize);
    this.size = this.readableSize;
    this.count = this.readableCount;
    this.nextOffset = this.readableNext;
    this.maxTimestamp = -1;
    for (let i = 0; i < this.count; i++)
      this.maxTimestamp = Math.max(this.maxTimestamp, this.ts[i] as number);
    if (this.indexed > this.count) {
      fs.ftruncateSync(this.indexFd, this.count * INDEX_ENTRY_SIZE);
      this.indexed = this.count;
    }
  }

  /** The log is written up to `size` bytes, `count` batches, next offset `next`: readers may see that much. */
  markWritten(size: number, count: number, next: number): void {
    if (size <= this.readableSize && count <= this.readableCount) return;
    this.readableSize = size;
    this.readableCount = count;
    this.readableNext = next;
  }

  /** Keeps the descriptors open (past close or deletion) until the returned function is called. */
  hold(): () => void {
    this.pins++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pins--;
      if (this.pins === 0 && this.closeDue) this.closeDescriptors();
    };
  }

  /** Index of the batch holding `offset` (the last batch whose base is <= offset), or -1. */
  private find(offset: number): number {
    const rel = offset - this.baseOffset;
    let lo = 0;
    let hi = this.readableCount - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.rel[mid] as number) <= rel) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Byte range of whole batches from the one holding `offset`, at most maxBytes but at least one batch. */
  range(offset: number, maxBytes: number): { position: number; length: number } | null {
    const count = this.readableCount;
    const size = this.readableSize;
    if (count === 0 || offset >= this.readableNext) return null;
    let i = this.find(offset);
    if (i < 0) i = 0;
    else if (offset > this.baseOffset + (this.rel[i] as number) && i + 1 < count) {
      // Compaction can drop whole batches and leave a gap in the offsets: when the
      // offset lies past the end of the batch found, start at the next one.
      const head = Buffer.alloc(4);
      fs.readSync(this.fd, head, 0, 4, (this.pos[i] as number) + 23);
      if (this.baseOffset + (this.rel[i] as number) + head.readInt32BE(0) < offset) i++;
    }
    const position = this.pos[i] as number;
    // The range ends where a batch starts (or at the end of the log): find the
    // last such boundary within maxBytes by binary search over the positions.
    if (size - position <= maxBytes) return { position, length: size - position };
    let lo = i + 1;
    let hi = count - 1;
    let end = lo < count ? (this.pos[lo] as number) : size;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.pos[mid] as number;
      if (at - position <= maxBytes) {
        end = at;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return { position, length: end - position };
  }

  /**
   * The first record whose timestamp is >= ts: its offset and timestamp, or
   * null. The batch is found by its max timestamp in the index, then its
   * records are read to find the exact one.
   */
  offsetForTimestamp(ts: number): { offset: number; timestamp: number } | null {
    const count = this.readableCount;
    for (let i = 0; i < count; i++) {
      if ((this.ts[i] as number) < ts) continue;
      const base = this.baseOffset + (this.rel[i] as number);
      const position = this.pos[i] as number;
      const end = i + 1 < count ? (this.pos[i + 1] as number) : this.readableSize;
      const batch = Buffer.alloc(end - position);
      fs.readSync(this.fd, batch, 0, batch.length, position);
      const first = Number(batch.readBigInt64BE(27));
      for (const r of readRecords(batch)) {
        if (first + r.timestampDelta >= ts)
          return { offset: base + r.offsetDelta, timestamp: first + r.timestampDelta };
      }
      return { offset: base, timestamp: this.ts[i] as number };
    }
    return null;
  }

  /** Reads bytes [position, position+length) of the log. */
  read(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    return new Promise((resolve, reject) => {
      fs.read(this.fd, buf, 0, length, position, (err, n) => {
        if (err) reject(new BrokerError('STORAGE_IO', `read ${this.logPath}`, { cause: err }));
        else resolve(n === length ? buf : buf.subarray(0, n));
      });
    });
  }

  /**
   * Bytes [position, position+length) of the log as a file range to send
   * without reading it first. The descriptor stays open until the range is
   * released, even when the segment is deleted or replaced meanwhile.
   */
  fileRange(position: number, length: number): FileRange {
    return { fd: this.fd, position, length, release: this.hold() };
  }

  /**
   * A descriptor of the .log file whose writes return only once the bytes
   * are on disk (O_DSYNC): acks=all batches written through it need no
   * separate fdatasync round. Opened on first use; null when it cannot be
   * opened (the caller then writes through `fd` and fsyncs).
   */
  durableFd(): number | null {
    if (this.dsyncFd >= 0) return this.dsyncFd;
    if (this.closed) return null;
    try {
      this.dsyncFd = fs.openSync(this.logPath, fs.constants.O_WRONLY | fs.constants.O_DSYNC);
    } catch {
      return null;
    }
    return this.dsyncFd;
  }

  /** Writes the index and both files to disk; called when the segment stops being the active one and at a clean stop. */
  flush(): void {
    this.writeIndex();
    fs.fsyncSync(this.fd);
    fs.fsyncSync(this.indexFd);
  }

  /** Closes the descriptors after a grace period, so reads in flight finish, then deletes the files. */
  delete(graceMs: number): void {
    this.closed = true;
    fs.rmSync(this.logPath, { force: true });
    fs.rmSync(this.indexPath, { force: true });
    this.closeAfter(graceMs);
  }

  /** Closes the descriptors after a grace period without deleting files (the segment was replaced). */
  retire(graceMs: number): void {
    this.closed = true;
    this.closeAfter(graceMs);
  }

  /** Closes the descriptors once the grace period is over and no file range is out. */
  private closeAfter(graceMs: number): void {
    setTimeout(() => {
      if (this.pins === 0) this.closeDescriptors();
      else this.closeDue = true;
    }, graceMs).unref();
  }

  private closeDescriptors(): void {
    this.closeDue = false;
    fs.close(this.fd, () => {});
    fs.close(this.indexFd, () => {});
    if (this.dsyncFd >= 0) fs.close(this.dsyncFd, () => {});
    this.dsyncFd = -1;
  }

  /** Closes the descriptors now, or at the last release when file ranges of the segment are out. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pins > 0) {
      // A descriptor closed under a range being sent could be reused by another file.
      this.closeDue = true;
      return;
    }
    fs.closeSync(this.fd);
    fs.closeSync(this.indexFd);
    if (this.dsyncFd >= 0) fs.closeSync(this.dsyncFd);
    this.dsyncFd = -1;
  }
}
