/**
 * Chunk segment files (`chunks/000001`, ...) of a TSDB block: a header, then
 * chunks as `len <uvarint> | encoding <1b> | data | CRC32C(encoding, data) <4b>`.
 * A chunk ref is (file sequence from 0) * 2^32 + byte offset.
 */

import { crc32c } from '../checksum/crc32c.js';
import { corrupt, StorageError, StorageErrorCode, type StorageErrorContext } from '../errors.js';

/** First four bytes of a segment file. */
export const SEGMENT_MAGIC = 0x85bd40dd;
/** Segment file format version. */
export const SEGMENT_VERSION = 1;
/** Magic, version and three bytes of padding. */
export const SEGMENT_HEADER_LEN = 8;
/** Prometheus' default cut for segment files. */
export const DEFAULT_SEGMENT_SIZE = 512 * 1024 * 1024;

const TWO_32 = 4294967296;

/** Key of the n-th segment file (n from 0) inside a block: chunks/000001 for 0. */
export function segmentName(seq: number): string {
  return `chunks/${String(seq + 1).padStart(6, '0')}`;
}

/** Splits a chunk ref into its segment sequence and byte offset. */
export function splitChunkRef(ref: number): { seq: number; offset: number } {
  const seq = Math.floor(ref / TWO_32);
  return { seq, offset: ref - seq * TWO_32 };
}

/** Bytes of the small pieces (lengths, encodings, CRCs) are cut from slabs this large. */
const SLAB = 64 * 1024;

/**
 * Collects chunks into segment files, cutting a new file before one would
 * pass the size. Chunk bytes are kept as views and copied once, when a file
 * is finished (no growing buffer copied again and again).
 */
export class SegmentWriter {
  private readonly files: Uint8Array[] = [];
  private parts: Uint8Array[] = [];
  private curLen = 0;
  private slab = new Uint8Array(SLAB);
  private slabAt = 0;
  private readonly head = new Uint8Array(1);

  constructor(private readonly segmentSize = DEFAULT_SEGMENT_SIZE) {
    this.startFile();
  }

  /** `n` bytes of scratch that stay valid until the file is finished. */
  private small(n: number): Uint8Array {
    if (this.slabAt + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB);
      this.slabAt = 0;
    }
    const out = this.slab.subarray(this.slabAt, this.slabAt + n);
    this.slabAt += n;
    return out;
  }

  private startFile(): void {
    const h = this.small(SEGMENT_HEADER_LEN);
    h[0] = SEGMENT_MAGIC >>> 24;
    h[1] = (SEGMENT_MAGIC >>> 16) & 0xff;
    h[2] = (SEGMENT_MAGIC >>> 8) & 0xff;
    h[3] = SEGMENT_MAGIC & 0xff;
    h[4] = SEGMENT_VERSION;
    h[5] = h[6] = h[7] = 0;
    this.parts = [h];
    this.curLen = SEGMENT_HEADER_LEN;
  }

  /** Bytes of the segment file being filled, its header included. */
  get currentSize(): number {
    return this.curLen;
  }

  /**
   * Adds one chunk and returns its ref. `crc`, when the caller has it (a
   * chunk copied from another block, checked when it was read), is the
   * CRC32C of the encoding byte and the data, and is not computed again.
   */
  add(data: Uint8Array, encoding: number, crc?: number): number {
    let lenBytes = 1;
    for (let x = data.length; x >= 0x80; x = Math.floor(x / 0x80)) lenBytes++;
    const size = lenBytes + 1 + data.length + 4;
    if (this.curLen > SEGMENT_HEADER_LEN && this.curLen + size > this.segmentSize) {
      this.finishFile();
      this.startFile();
    }
    const ref = this.files.length * TWO_32 + this.curLen;
    const head = this.small(lenBytes + 1);
    let x = data.length;
    let p = 0;
    while (x >= 0x80) {
      head[p++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    head[p++] = x;
    head[p] = encoding;
    let sum = crc;
    if (sum === undefined) {
      this.head[0] = encoding;
      sum = crc32c(data, crc32c(this.head));
    }
    const tail = this.small(4);
    tail[0] = sum >>> 24;
    tail[1] = (sum >>> 16) & 0xff;
    tail[2] = (sum >>> 8) & 0xff;
    tail[3] = sum & 0xff;
    this.parts.push(head, data, tail);
    this.curLen += size;
    return ref;
  }

  private finishFile(): void {
    const out = new Uint8Array(this.curLen);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    this.files.push(out);
    this.parts = [];
  }

  /** The segment files; none when no chunk was added. */
  finish(): Uint8Array[] {
    if (this.curLen > SEGMENT_HEADER_LEN) this.finishFile();
    this.parts = [];
    this.curLen = 0;
    return this.files;
  }
}

/** Checks a segment file header. */
export function checkSegmentHeader(b: Uint8Array, ctx: StorageErrorContext): void {
  if (b.length < SEGMENT_HEADER_LEN)
    throw corrupt('read segment header: file is shorter than its header', ctx);
  const magic = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  if (magic !== SEGMENT_MAGIC)
    throw corrupt(`read segment header: magic 0x${magic.toString(16)} is wrong`, ctx);
  if (b[4] !== SEGMENT_VERSION) {
    throw new StorageError(
      StorageErrorCode.Unsupported,
      `read segment header: version ${b[4]} is unknown`,
      ctx,
    );
  }
}

/** A chunk decoded from segment bytes. */
export interface RawChunk {
  encoding: number;
  data: Uint8Array;
  /** The chunk's CRC32C (of its encoding byte and data), checked. */
  crc: number;
  /** Bytes the chunk occupies in the file, from its length varint to its CRC. */
  size: number;
}

/**
 * Decodes the chunk starting at `at` in `buf`. Returns undefined when the
 * bytes end before the chunk does (the caller reads more); throws `corrupt`
 * on a bad CRC.
 */
export function readChunkAt(buf: Uint8Array, at: number, ctx: StorageErrorContext): RawChunk | undefined {
  let len = 0;
  let mul = 1;
  let p = at;
  for (let i = 0; ; i++) {
    if (p >= buf.length) return undefined;
    if (i >= 5) throw corrupt(`read chunk at ${at}: length varint too long`, ctx);
    const b = buf[p++]!;
    len += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 0x80;
  }
  if (p + 1 + len + 4 > buf.length) return undefined;
  const encoding = buf[p]!;
  const c = p + 1 + len;
  const want = ((buf[c]! << 24) | (buf[c + 1]! << 16) | (buf[c + 2]! << 8) | buf[c + 3]!) >>> 0;
  if (crc32c(buf.subarray(p, c)) !== want) throw corrupt(`read chunk at ${at}: CRC32C mismatch`, ctx);
  return { encoding, data: buf.subarray(p + 1, c), crc: want, size: c + 4 - at };
}
