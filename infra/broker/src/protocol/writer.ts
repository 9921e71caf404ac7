/**
 * Bytes of an open segment file that a response carries without reading
 * them first: the connection reads and sends them chunk by chunk (see
 * send.ts), so a large Fetch answer starts leaving before it is all read.
 * Whoever makes one holds the file open until `release` is called, which
 * happens exactly once: after the last byte is read, or when the response
 * is dropped.
 */
export interface FileRange {
  readonly fd: number;
  readonly position: number;
  readonly length: number;
  release(): void;
}

/** One piece of a response: bytes in memory, or a range of a file. */
export type ResponsePart = Buffer | FileRange;

/**
 * Builds one response frame. Small values go into a growing scratch buffer;
 * large byte runs (record batches read from segments) are kept as references
 * and written to the socket without a copy.
 */
export class Writer {
  private chunks: ResponsePart[] = [];
  private files = 0;
  private buf: Buffer;
  private pos = 0;
  private total = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flushScratch();
    this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2, 256));
  }

  private flushScratch(): void {
    if (this.pos > 0) {
      this.chunks.push(this.buf.subarray(0, this.pos));
      this.buf = this.buf.subarray(this.pos);
      this.pos = 0;
    }
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    this.total += 1;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    this.total += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    this.total += 4;
    return this;
  }

  int64(v: number | bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(typeof v === 'bigint' ? v : BigInt(v), this.pos);
    this.pos += 8;
    this.total += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  /** An unsigned LEB128 varint (lengths and counts of flexible versions). */
  uvarint(v: number): this {
    let n = v;
    while (n >= 0x80) {
      this.uint8((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    return this.uint8(n);
  }

  private uint8(v: number): this {
    this.ensure(1);
    this.buf.writeUInt8(v, this.pos);
    this.pos += 1;
    this.total += 1;
    return this;
  }

  /** Empty tagged fields, ending a structure of a flexible version; nothing when not flexible. */
  tags(flexible: boolean): this {
    return flexible ? this.int8(0) : this;
  }

  /** A 16-byte UUID given as 32 hex digits (dashes allowed). */
  uuid(hex: string): this {
    const b = Buffer.from(hex.replaceAll('-', ''), 'hex');
    if (b.length !== 16) throw new Error(`uuid ${hex}: not 16 bytes`);
    return this.raw(b);
  }

  /** An int16 length, or in a compact form a varint of length + 1 (0 for null). */
  private prefix(len: number, compact: boolean, wide: boolean): this {
    if (compact) return this.uvarint(len + 1);
    return wide ? this.int32(len) : this.int16(len);
  }

  nullableString(s: string | null, compact = false): this {
    if (s === null) return compact ? this.uvarint(0) : this.int16(-1);
    const len = Buffer.byteLength(s);
    this.prefix(len, compact, false);
    this.ensure(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    this.total += len;
    return this;
  }

  string(s: string, compact = false): this {
    return this.nullableString(s, compact);
  }

  /** Raw bytes with no length prefix; large runs are referenced, not copied. */
  raw(b: Buffer): this {
    if (b.length >= 4096) {
      this.flushScratch();
      this.chunks.push(b);
    } else {
      this.ensure(b.length);
      b.copy(this.buf, this.pos);
      this.pos += b.length;
    }
    this.total += b.length;
    return this;
  }

  /** A file range in place of raw bytes (no length prefix); read when the response is sent. */
  fileRange(r: FileRange): this {
    this.flushScratch();
    this.chunks.push(r);
    this.files++;
    this.total += r.length;
    return this;
  }

  nullableBytes(b: Buffer | null, compact = false): this {
    if (b === null) return compact ? this.uvarint(0) : this.int32(-1);
    this.prefix(b.length, compact, true);
    return this.raw(b);
  }

  bytes(b: Buffer, compact = false): this {
    return this.nullableBytes(b, compact);
  }

  /** Int32-counted array, or count -1 for null; in the compact form a varint of count + 1, 0 for null. */
  array<T>(items: readonly T[] | null, each: (w: Writer, item: T) => void, compact = false): this {
    if (items === null) return compact ? this.uvarint(0) : this.int32(-1);
    this.prefix(items.length, compact, true);
    for (const item of items) each(this, item);
    return this;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.total;
  }

  /** The frame body as chunks, in order; for bodies without file ranges. */
  finish(): Buffer[] {
    if (this.files > 0) throw new Error('Writer.finish on a body with file ranges: use parts()');
    this.flushScratch();
    return this.chunks as Buffer[];
  }

  /** The frame body as buffers and file ranges, in order. */
  parts(): ResponsePart[] {
    this.flushScratch();
    return this.chunks;
  }
}
