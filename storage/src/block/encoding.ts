/**
 * Byte buffers for the TSDB formats: big-endian fixed-width integers and Go's
 * varints. The decoder checks every bound and throws `corrupt` naming the
 * section it reads, never a RangeError.
 */
import { corrupt, type StorageErrorContext } from '../errors.js';

const TWO_32 = 4294967296;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A growable byte writer. */
export class Encbuf {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  len = 0;

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** The bytes written; a view valid until the next write. */
  get(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  reset(): void {
    this.len = 0;
  }

  putByte(b: number): void {
    this.grow(1);
    this.buf[this.len++] = b;
  }

  putBytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  putBE32(v: number): void {
    this.grow(4);
    this.view.setUint32(this.len, v >>> 0);
    this.len += 4;
  }

  /** Overwrites four bytes already written. */
  setBE32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0);
  }

  putBE64(v: number): void {
    this.grow(8);
    this.view.setUint32(this.len, Math.floor(v / TWO_32));
    this.view.setUint32(this.len + 4, v % TWO_32);
    this.len += 8;
  }

  putUvarint(v: number): void {
    this.grow(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** Zig-zag signed varint, as Go's binary.PutVarint. */
  putVarint(v: number): void {
    this.putUvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  putUvarintStr(s: string): void {
    const b = utf8.encode(s);
    this.putUvarint(b.length);
    this.putBytes(b);
  }

  /** Zero bytes up to a multiple of `align`. */
  pad(align: number): void {
    const rem = this.len % align;
    if (rem !== 0) this.putBytes(new Uint8Array(align - rem));
  }
}

/** A bounds-checked reader over one section's bytes. */
export class Decbuf {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    private readonly ctx: StorageErrorContext,
    pos = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  fail(what: string): never {
    throw corrupt(`read ${what} at byte ${this.pos}`, this.ctx);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) this.fail(`${what}: ${n} bytes past the end`);
  }

  byte(): number {
    this.need(1, 'byte');
    return this.buf[this.pos++]!;
  }

  be32(): number {
    this.need(4, 'uint32');
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  be64(): number {
    this.need(8, 'uint64');
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    if (hi >= 0x200000) this.fail('uint64 above 2^53');
    return hi * TWO_32 + lo;
  }

  uvarint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('varint past the end');
      const b = this.buf[this.pos++]!;
      x += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (x > Number.MAX_SAFE_INTEGER) this.fail('varint above 2^53');
        return x;
      }
      mul *= 0x80;
    }
    this.fail('varint longer than 10 bytes');
  }

  varint(): number {
    const zz = this.uvarint();
    return zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
  }

  bytes(n: number): Uint8Array {
    this.need(n, 'bytes');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  uvarintStr(): string {
    const n = this.uvarint();
    const b = this.bytes(n);
    try {
      return utf8Decoder.decode(b);
    } catch {
      this.fail('string that is not UTF-8');
    }
  }
}

/** Compares strings in UTF-8 byte order (Go's string order), not UTF-16 code unit order. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points above U+FFFF) sort after U+E000..U+FFFF in UTF-8.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
      y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
