/**
 * Chunk segment files (`chunks/000001`, ...) of a TSDB block: a header, then
 * chunks as `len <uvarint> | encoding <1b> | data | CRC32C(encoding, data) <4b>`.
 * A chunk ref is (file sequence from 0) * 2^32 + byte offset.
 */
import { corrupt, StorageError, StorageErrorCode, type StorageErrorContext } from '../errors.js';
import { crc32c } from './crc32c.js';
import { Encbuf } from './encoding.js';

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

/** Collects chunks into segment files, cutting a new file before one would pass the size. */
export class SegmentWriter {
  private readonly files: Uint8Array[] = [];
  private cur = new Encbuf();
  private readonly head = new Uint8Array(1);

  constructor(private readonly segmentSize = DEFAULT_SEGMENT_SIZE) {
    this.startFile();
  }

  private startFile(): void {
    this.cur = new Encbuf();
    this.cur.putBE32(SEGMENT_MAGIC);
    this.cur.putByte(SEGMENT_VERSION);
    this.cur.putBytes(new Uint8Array(3));
  }

  /** Bytes of the segment file being filled, its header included. */
  get currentSize(): number {
    return this.cur.len;
  }

  /** Adds one chunk and returns its ref. */
  add(data: Uint8Array, encoding: number): number {
    const size = 10 + 1 + data.length + 4;
    if (this.cur.len > SEGMENT_HEADER_LEN && this.cur.len + size > this.segmentSize) {
      this.files.push(this.cur.get().slice());
      this.startFile();
    }
    const ref = this.files.length * TWO_32 + this.cur.len;
    this.cur.putUvarint(data.length);
    this.cur.putByte(encoding);
    this.cur.putBytes(data);
    this.head[0] = encoding;
    this.cur.putBE32(crc32c(data, crc32c(this.head)));
    return ref;
  }

  /** The segment files; none when no chunk was added. */
  finish(): Uint8Array[] {
    if (this.cur.len > SEGMENT_HEADER_LEN) this.files.push(this.cur.get().slice());
    this.cur = new Encbuf();
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
  const withEnc = buf.subarray(p, p + 1 + len);
  const c = p + 1 + len;
  const want = ((buf[c]! << 24) | (buf[c + 1]! << 16) | (buf[c + 2]! << 8) | buf[c + 3]!) >>> 0;
  if (crc32c(withEnc) !== want) throw corrupt(`read chunk at ${at}: CRC32C mismatch`, ctx);
  return { encoding, data: withEnc.subarray(1), size: c + 4 - at };
}
