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

/** Segment bytes are written into pieces this large (a larger chunk gets a piece of its own size). */
const PIECE = 1024 * 1024;

/** Bytes a chunk of `length` data bytes takes in a segment file: length uvarint, encoding, data, CRC. */
export function segmentChunkSize(length: number): number {
  let lenBytes = 1;
  for (let x = length; x >= 0x80; x = Math.floor(x / 0x80)) lenBytes++;
  return lenBytes + 1 + length + 4;
}

/**
 * Collects chunks into segment files, cutting a new file before one would
 * pass the size. Each chunk is written once, length, encoding, data and CRC
 * together, into 1 MiB pieces; a file is its list of pieces, handed out as
 * they are (for a streamed upload) or joined once (`finish`).
 */
export class SegmentWriter {
  private readonly files: Uint8Array[][] = [];
  private pieces: Uint8Array[] = [];
  private piece = new Uint8Array(0);
  /** Where the current piece's unclaimed bytes start, and where writing is. */
  private start = 0;
  private at = 0;
  private curLen = 0;
  private readonly head = new Uint8Array(1);

  /**
   * `sizeHint`, when the caller knows how many bytes it will add (a block
   * encoded whole), sizes the first piece to hold them, so a file that fits
   * in one segment is one piece and `finish` joins nothing.
   */
  constructor(
    private readonly segmentSize = DEFAULT_SEGMENT_SIZE,
    private sizeHint = 0,
  ) {
    this.startFile();
  }

  /** Makes room for `n` contiguous bytes at `at`. */
  private reserve(n: number): void {
    if (this.at + n <= this.piece.length) return;
    this.closePiece();
    this.piece = new Uint8Array(Math.max(PIECE, n, Math.min(this.sizeHint, this.segmentSize)));
    this.sizeHint = 0;
    this.start = this.at = 0;
  }

  /** Hands the bytes written since the last claim to the current file. */
  private closePiece(): void {
    if (this.at > this.start) this.pieces.push(this.piece.subarray(this.start, this.at));
    this.start = this.at;
  }

  private startFile(): void {
    this.reserve(SEGMENT_HEADER_LEN);
    const h = this.piece;
    const a = this.at;
    h[a] = SEGMENT_MAGIC >>> 24;
    h[a + 1] = (SEGMENT_MAGIC >>> 16) & 0xff;
    h[a + 2] = (SEGMENT_MAGIC >>> 8) & 0xff;
    h[a + 3] = SEGMENT_MAGIC & 0xff;
    h[a + 4] = SEGMENT_VERSION;
    h[a + 5] = h[a + 6] = h[a + 7] = 0;
    this.at += SEGMENT_HEADER_LEN;
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
    const size = segmentChunkSize(data.length);
    if (this.curLen > SEGMENT_HEADER_LEN && this.curLen + size > this.segmentSize) {
      this.finishFile();
      this.startFile();
    }
    const ref = this.files.length * TWO_32 + this.curLen;
    this.reserve(size);
    const b = this.piece;
    let p = this.at;
    let x = data.length;
    while (x >= 0x80) {
      b[p++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    b[p++] = x;
    b[p++] = encoding;
    b.set(data, p);
    p += data.length;
    let sum = crc;
    if (sum === undefined) {
      this.head[0] = encoding;
      sum = crc32c(data, crc32c(this.head));
    }
    b[p] = sum >>> 24;
    b[p + 1] = (sum >>> 16) & 0xff;
    b[p + 2] = (sum >>> 8) & 0xff;
    b[p + 3] = sum & 0xff;
    this.at = p + 4;
    this.curLen += size;
    return ref;
  }

  private finishFile(): void {
    this.closePiece();
    this.files.push(this.pieces);
    this.pieces = [];
  }

  /** The segment files, each as its pieces in order; none when no chunk was added. */
  finishPieces(): Uint8Array[][] {
    if (this.curLen > SEGMENT_HEADER_LEN) this.finishFile();
    this.pieces = [];
    this.curLen = 0;
    return this.files;
  }

  /** The segment files, each joined into one array; none when no chunk was added. */
  finish(): Uint8Array[] {
    return this.finishPieces().map(joinPieces);
  }
}

/** The pieces as one array (the piece itself when there is one). */
function joinPieces(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  let n = 0;
  for (const p of pieces) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
