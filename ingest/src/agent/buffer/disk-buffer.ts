import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { IngestError, IngestErrorCode } from '../../errors.js';

/** Options of a disk buffer. */
export interface DiskBufferOptions {
  dir: string;
  /** Total bytes kept on disk; beyond it the oldest segments are dropped. */
  maxBytes: number;
  /** Size at which the buffer starts a new segment file. */
  segmentBytes?: number;
}

/** One buffered entry with its position, for acknowledging it. */
export interface BufferedEntry {
  payload: Buffer;
  segment: number;
  /** Byte offset just past the entry in its segment. */
  next: number;
}

const HEADER = 8;
const segName = (n: number) => `${String(n).padStart(16, '0')}.seg`;

/**
 * An append-only, bounded FIFO on disk (format: ingest/docs/agent-buffer.md).
 * The agent appends everything it collects and deletes only what the log
 * acknowledged, so an outage of the log loses nothing until the bound is
 * reached; then the oldest segment goes first, counted in `dropped`.
 * Calls are synchronous: one agent appends a few kilobytes per interval.
 */
export class DiskBuffer {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private segments: number[] = [];
  private writeFd: number | undefined;
  private writeSize = 0;
  private cursor = { segment: 0, offset: 0 };
  /** Entries dropped because the buffer was full. */
  dropped = 0;

  constructor(options: DiskBufferOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = options.segmentBytes ?? Math.max(4096, Math.floor(options.maxBytes / 8));
    try {
      mkdirSync(this.dir, { recursive: true });
      this.segments = readdirSync(this.dir)
        .filter((f) => f.endsWith('.seg'))
        .map((f) => Number(f.slice(0, -4)))
        .sort((a, b) => a - b);
      const cursorFile = path.join(this.dir, 'cursor');
      if (existsSync(cursorFile)) this.cursor = JSON.parse(readFileSync(cursorFile, 'utf8'));
    } catch (cause) {
      throw new IngestError(IngestErrorCode.BufferIo, `open the disk buffer in ${this.dir}`, { cause });
    }
    if (this.segments.length === 0 || this.cursor.segment < this.segments[0]!) {
      this.cursor = { segment: this.segments[0] ?? 0, offset: 0 };
    }
  }

  /** Bytes on disk across all segments. */
  bytes(): number {
    let n = 0;
    for (const s of this.segments) n += this.segmentSize(s);
    return n;
  }

  private segmentSize(s: number): number {
    try {
      return statSync(path.join(this.dir, segName(s))).size;
    } catch {
      return 0;
    }
  }

  /** Appends one entry durably (fsync) and enforces the size bound. */
  append(payload: Buffer): void {
    try {
      if (this.writeFd === undefined || this.writeSize >= this.segmentBytes) this.roll();
      const header = Buffer.alloc(HEADER);
      header.writeUInt32BE(payload.length, 0);
      header.writeUInt32BE(crc32(payload), 4);
      const record = Buffer.concat([header, payload]);
      writeSync(this.writeFd!, record);
      fsyncSync(this.writeFd!);
      this.writeSize += record.length;
    } catch (cause) {
      throw new IngestError(IngestErrorCode.BufferIo, `append to the disk buffer in ${this.dir}`, { cause });
    }
    this.enforceBound();
  }

  private roll(): void {
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    const next = (this.segments.at(-1) ?? -1) + 1;
    this.segments.push(next);
    this.writeFd = openSync(path.join(this.dir, segName(next)), 'a');
    this.writeSize = 0;
  }

  private enforceBound(): void {
    // Never drop the segment being written; a single segment may exceed the bound briefly.
    while (this.segments.length > 1 && this.bytes() > this.maxBytes) {
      const oldest = this.segments.shift()!;
      const entries = this.readSegment(oldest, oldest === this.cursor.segment ? this.cursor.offset : 0);
      this.dropped += entries.length;
      rmSync(path.join(this.dir, segName(oldest)), { force: true });
      if (this.cursor.segment <= oldest) this.cursor = { segment: this.segments[0]!, offset: 0 };
    }
  }

  private readSegment(segment: number, from: number): BufferedEntry[] {
    let data: Buffer;
    try {
      data = readFileSync(path.join(this.dir, segName(segment)));
    } catch {
      return [];
    }
    const out: BufferedEntry[] = [];
    let off = from;
    while (off + HEADER <= data.length) {
      const len = data.readUInt32BE(off);
      const crc = data.readUInt32BE(off + 4);
      const end = off + HEADER + len;
      // A torn write at the tail (a crash mid-append) ends the segment.
      if (end > data.length) break;
      const payload = data.subarray(off + HEADER, end);
      if (crc32(payload) !== crc) break;
      out.push({ payload, segment, next: end });
      off = end;
    }
    return out;
  }

  /** Up to `max` oldest unacknowledged entries, in append order. */
  peek(max: number): BufferedEntry[] {
    const out: BufferedEntry[] = [];
    for (const s of this.segments) {
      if (s < this.cursor.segment) continue;
      const from = s === this.cursor.segment ? this.cursor.offset : 0;
      for (const e of this.readSegment(s, from)) {
        out.push(e);
        if (out.length >= max) return out;
      }
    }
    return out;
  }

  /** Marks everything up to and including `entry` as delivered and deletes finished segments. */
  ack(entry: BufferedEntry): void {
    this.cursor = { segment: entry.segment, offset: entry.next };
    try {
      const tmp = path.join(this.dir, 'cursor.tmp');
      writeFileSync(tmp, JSON.stringify(this.cursor));
      renameSync(tmp, path.join(this.dir, 'cursor'));
      while (this.segments.length > 1 && this.segments[0]! < this.cursor.segment) {
        rmSync(path.join(this.dir, segName(this.segments.shift()!)), { force: true });
      }
    } catch (cause) {
      throw new IngestError(IngestErrorCode.BufferIo, `save the disk buffer cursor in ${this.dir}`, {
        cause,
      });
    }
  }

  close(): void {
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    this.writeFd = undefined;
  }
}
