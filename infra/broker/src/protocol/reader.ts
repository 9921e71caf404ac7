import { BrokerError } from '../errors.js';

/**
 * Reads the primitive types of the Kafka protocol (big-endian integers,
 * int16-prefixed strings, int32-prefixed bytes and arrays) from one request
 * frame. Every read checks the bounds first, so a truncated or lying frame
 * ends in a BrokerError with code MALFORMED_REQUEST instead of a crash.
 *
 * Flexible versions (KIP-482) use compact forms instead: a string, bytes or
 * array is prefixed by an unsigned varint of its length plus one (0 meaning
 * null), and every structure ends in tagged fields. The string, bytes and
 * array readers take `compact` to read those forms; `tags` skips the fields.
 */
export class Reader {
  offset: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  /** Bytes left to read. */
  remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number): number {
    if (n < 0 || this.offset + n > this.buf.length) {
      throw new BrokerError(
        'MALFORMED_REQUEST',
        `read ${n} bytes at ${this.offset}: frame has ${this.buf.length}`,
      );
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }

  /** An int64 as a JS number; offsets and timestamps stay far below 2^53. */
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.need(8)));
  }

  /** An int64 kept exact, for producer ids that a client may pick at random. */
  bigint64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  /** An unsigned LEB128 varint of at most 32 bits. */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.buf.readUInt8(this.need(1));
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) break;
        return value;
      }
    }
    throw new BrokerError('MALFORMED_REQUEST', `varint longer than 32 bits at ${this.offset}`);
  }

  /** A compact length: the varint holds length + 1, so 0 stands for null (returned as -1). */
  private compactLength(): number {
    return this.uvarint() - 1;
  }

  /** A 16-byte UUID (topic ids) as 32 lowercase hex digits. */
  uuid(): string {
    const at = this.need(16);
    return this.buf.toString('hex', at, at + 16);
  }

  /** Skips the tagged fields that end a structure of a flexible version; nothing when not flexible. */
  tags(flexible: boolean): void {
    if (!flexible) return;
    const n = this.uvarint();
    if (n > this.remaining()) throw new BrokerError('MALFORMED_REQUEST', `tagged field count ${n}`);
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.need(this.uvarint());
    }
  }

  nullableString(compact = false): string | null {
    const len = compact ? this.compactLength() : this.int16();
    if (len === -1) return null;
    if (len < 0) throw new BrokerError('MALFORMED_REQUEST', `string length ${len}`);
    const at = this.need(len);
    return this.buf.toString('utf8', at, at + len);
  }

  string(compact = false): string {
    const s = this.nullableString(compact);
    if (s === null) throw new BrokerError('MALFORMED_REQUEST', 'null where a string is required');
    return s;
  }

  /** Int32-prefixed bytes as a view into the frame (no copy). */
  nullableBytes(compact = false): Buffer | null {
    const len = compact ? this.compactLength() : this.int32();
    if (len === -1) return null;
    if (len < 0) throw new BrokerError('MALFORMED_REQUEST', `bytes length ${len}`);
    const at = this.need(len);
    return this.buf.subarray(at, at + len);
  }

  bytes(compact = false): Buffer {
    return this.nullableBytes(compact) ?? Buffer.alloc(0);
  }

  /** An int32-counted array; null arrays (count -1) come back as null. */
  nullableArray<T>(item: (r: Reader) => T, compact = false): T[] | null {
    const n = compact ? this.compactLength() : this.int32();
    if (n === -1) return null;
    // Each element takes at least one byte, so a count above the bytes left is a lie.
    if (n < 0 || n > this.remaining()) throw new BrokerError('MALFORMED_REQUEST', `array count ${n}`);
    const out: T[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  array<T>(item: (r: Reader) => T, compact = false): T[] {
    return this.nullableArray(item, compact) ?? [];
  }
}
