/**
 * Big-endian bit streams over bytes, the layout Prometheus' bstream uses:
 * bits fill each byte from the most significant end, and the last byte is
 * padded with zero bits.
 */

/** Bytes of a new writer's buffer: enough for 120 samples of a regular counter. */
const INITIAL_BYTES = 256;

/**
 * A byte array of `n` bytes whose every byte the caller overwrites before it
 * is read. Chunk-sized arrays come from Node's shared pool for small buffers
 * (a slice of a slab instead of a buffer of their own, several times cheaper
 * than `new Uint8Array(n)`), handed out as a plain Uint8Array so callers see
 * one type.
 */
function newBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/**
 * A growable bit writer. Bits gather in a 32-bit accumulator; each full
 * accumulator goes out as four big-endian bytes, and the buffer grows four
 * times when full. Whole bytes are always stored (never OR'd into), so the
 * buffer needs no zeroing.
 */
export class BitWriter {
  /**
   * Node's own Buffer from its small-buffer pool, never handed out (bytes
   * leave through bytes()), so no Uint8Array wrapper is made for it.
   */
  private buf: Buffer;
  /**
   * Words may be stored below this byte index: the buffer's length, or zero
   * once a view of the buffer was handed out (the next word then moves the
   * bits to a new buffer, so the view never changes).
   */
  private limit: number;
  /** Bytes of full words stored. */
  private p = 0;
  /** Pending bits, in the low `bits` bits (higher bits are always zero). */
  private acc = 0;
  /** Number of pending bits, 0..31. */
  private bits = 0;

  constructor() {
    this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    this.limit = INITIAL_BYTES;
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.p * 8 + this.bits;
  }

  /** Bytes written so far (the last one zero-padded). */
  get byteLength(): number {
    return this.p + ((this.bits + 7) >>> 3);
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
    this.put((this.acc << free) | (v >>> rest));
    // ~(-1 << rest): the low `rest` bits, without the overflow of (1 << 31) - 1.
    this.acc = v & ~(-1 << rest);
    this.bits = rest;
  }

  /** Writes one zero bit. */
  writeZero(): void {
    if (this.bits < 31) {
      this.acc <<= 1;
      this.bits++;
      return;
    }
    this.put(this.acc << 1);
    this.acc = 0;
    this.bits = 0;
  }

  /**
   * The bytes written so far, the last one zero-padded; they never change
   * afterwards. When the buffer is at least half used they are a view of it
   * (and the writer moves to a new buffer if written to again), otherwise an
   * exact copy, so a view never holds more than twice its bytes.
   */
  bytes(): Uint8Array {
    const p = this.p;
    const n = p + ((this.bits + 7) >>> 3);
    const buf = this.buf;
    if (p + 4 <= this.limit && 2 * n >= buf.length) {
      this.putTail(buf, p);
      this.limit = 0;
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
    }
    const out = newBytes(n);
    out.set(buf.subarray(0, p));
    this.putTail(out, p);
    return out;
  }

  /** Stores the pending bits, zero-padded to whole bytes, at `p`. */
  private putTail(out: Uint8Array, p: number): void {
    const bits = this.bits;
    if (bits === 0) return;
    const tail = this.acc << (32 - bits);
    out[p] = tail >>> 24;
    if (bits > 8) out[p + 1] = tail >>> 16;
    if (bits > 16) out[p + 2] = tail >>> 8;
    if (bits > 24) out[p + 3] = tail;
  }

  private put(word: number): void {
    const p = this.p;
    if (p + 4 > this.limit) this.grow();
    const buf = this.buf;
    buf[p] = word >>> 24;
    buf[p + 1] = word >>> 16;
    buf[p + 2] = word >>> 8;
    buf[p + 3] = word;
    this.p = p + 4;
  }

  /** Moves to a new buffer: four times larger when full, the same size when handed out. */
  private grow(): void {
    const old = this.buf;
    const next = Buffer.allocUnsafe(this.p + 4 > old.length ? old.length * 4 : old.length);
    next.set(old.subarray(0, this.p));
    this.buf = next;
    this.limit = next.length;
  }
}
