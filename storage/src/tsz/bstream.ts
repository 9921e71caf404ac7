/**
 * Big-endian bit streams over bytes, the layout Prometheus' bstream uses:
 * bits fill each byte from the most significant end, and the last byte is
 * padded with zero bits.
 */

/**
 * A growable bit writer. Bits gather in a 32-bit accumulator; each full
 * accumulator goes out as one 32-bit word, and the bytes are laid out once,
 * when they are asked for. The words live in a plain array: it grows on the
 * engine's heap, which is far cheaper for a chunk-sized stream than growing
 * an off-heap typed array.
 */
const INITIAL_WORDS = 32;

export class BitWriter {
  /** Full words, the first bits in the most significant end of each; `nw` of them used. */
  private words: number[] = new Array(INITIAL_WORDS);
  private nw = 0;
  /** Pending bits, in the low `bits` bits (higher bits are always zero). */
  private acc = 0;
  /** Number of pending bits, 0..31. */
  private bits = 0;

  /** Bits written so far. */
  get bitLength(): number {
    return this.nw * 32 + this.bits;
  }

  /** Bytes written so far (the last one zero-padded). */
  get byteLength(): number {
    return this.nw * 4 + ((this.bits + 7) >>> 3);
  }

  /**
   * Writes the low `n` bits of `v`, most significant first; 1 <= n <= 32 and
   * `v` must have no bits set above the low `n` (any 32-bit value when n is 32).
   */
  writeBits(v: number, n: number): void {
    const free = 32 - this.bits;
    if (n < free) {
      this.acc = (this.acc << n) | v;
      this.bits += n;
      return;
    }
    // The word fills: its tail is the head of `v`. With no pending bits
    // (free 32) the accumulator is zero, so the 32-bit shift (a no-op in
    // JavaScript) is harmless.
    const rest = n - free;
    this.put(((this.acc << free) | (v >>> rest)) >>> 0);
    this.acc = v & ((1 << rest) - 1);
    this.bits = rest;
  }

  /** Writes one zero bit. */
  writeZero(): void {
    if (this.bits < 31) {
      this.acc <<= 1;
      this.bits++;
      return;
    }
    this.put((this.acc << 1) >>> 0);
    this.acc = 0;
    this.bits = 0;
  }

  private put(word: number): void {
    if (this.nw === this.words.length) this.grow();
    this.words[this.nw++] = word;
  }

  private grow(): void {
    const old = this.words;
    const next: number[] = new Array(old.length * 2);
    for (let i = 0; i < old.length; i++) next[i] = old[i]!;
    this.words = next;
  }

  /**
   * Copies the bytes written so far into `out` from index 0 (it must hold
   * `byteLength` bytes); the last byte is zero-padded.
   */
  copyTo(out: Uint8Array): void {
    const words = this.words;
    const nw = this.nw;
    let p = 0;
    for (let i = 0; i < nw; i++) {
      const w = words[i]!;
      out[p] = w >>> 24;
      out[p + 1] = w >>> 16;
      out[p + 2] = w >>> 8;
      out[p + 3] = w;
      p += 4;
    }
    const bits = this.bits;
    if (bits === 0) return;
    const tail = this.acc << (32 - bits);
    out[p] = tail >>> 24;
    if (bits > 8) out[p + 1] = tail >>> 16;
    if (bits > 16) out[p + 2] = tail >>> 8;
    if (bits > 24) out[p + 3] = tail;
  }
}
