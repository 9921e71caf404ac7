/**
 * Big-endian bit streams over bytes, the layout Prometheus' bstream uses:
 * bits fill each byte from the most significant end, and the last byte is
 * padded with zero bits.
 */

/** A growable bit writer. Values of up to 32 bits are written per call. */
export class BitWriter {
  private buf: Uint8Array;
  /** Number of bits written. */
  private pos = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.pos;
  }

  /** Bytes holding the written bits (the last one zero-padded); a view, not a copy. */
  view(): Uint8Array {
    return this.buf.subarray(0, (this.pos + 7) >>> 3);
  }

  /** Writes the low `n` bits of `v`, most significant first; 0 <= n <= 32. */
  writeBits(v: number, n: number): void {
    if (n === 0) return;
    if (((this.pos + n) >>> 3) + 2 > this.buf.length) this.grow(n);
    const buf = this.buf;
    let idx = this.pos >>> 3;
    const free = 8 - (this.pos & 7);
    this.pos += n;
    if (n <= free) {
      // Fits in the current byte, below the bits already there.
      buf[idx] = buf[idx]! | ((v & ((1 << n) - 1)) << (free - n));
      return;
    }
    // Fill the rest of the current byte, then whole bytes, then the head of the last one.
    n -= free;
    buf[idx] = buf[idx]! | ((v >>> n) & ((1 << free) - 1));
    idx++;
    while (n >= 8) {
      n -= 8;
      buf[idx++] = (v >>> n) & 0xff;
    }
    if (n > 0) buf[idx] = (v << (8 - n)) & 0xff;
  }

  /** Writes one bit. */
  writeBit(bit: number): void {
    if ((this.pos >>> 3) + 2 > this.buf.length) this.grow(1);
    if (bit !== 0) {
      const idx = this.pos >>> 3;
      this.buf[idx] = this.buf[idx]! | (0x80 >>> (this.pos & 7));
    }
    this.pos++;
  }

  /** Writes a whole byte at the current bit position. */
  writeByte(b: number): void {
    this.writeBits(b & 0xff, 8);
  }

  /** Overwrites a byte of the already written output (used for chunk headers). */
  setByte(index: number, b: number): void {
    this.buf[index] = b;
  }

  private grow(bits: number): void {
    const needBytes = ((this.pos + bits + 7) >>> 3) + 2;
    if (needBytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needBytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf);
    this.buf = next;
  }
}
