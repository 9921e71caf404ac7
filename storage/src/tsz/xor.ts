/**
 * The XOR chunk: Gorilla-style compression of (millisecond time, float64)
 * samples, byte-compatible with Prometheus' chunkenc.XORChunk. The layout is
 * specified in storage/docs/xor-chunk.md.
 */
import { StorageError, StorageErrorCode } from '../errors.js';
import { type FloatHistogram, type SampleIterator, ValueType } from '../model.js';
import { BitWriter } from './bstream.js';

/** The chunk encoding byte Prometheus writes before an XOR chunk in segment files. */
export const XOR_ENCODING = 1;

/** The most samples a chunk header (a big-endian uint16) can count. */
export const XOR_MAX_SAMPLES = 0xffff;

// Index of the high and low 32-bit halves of a float64 in a Uint32Array view.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

const TWO_32 = 4294967296;

/**
 * The high word to encode: a stale marker whose quiet bit the engine set
 * (0x7ff8000000000002) is written as Prometheus' exact marker bits.
 */
function staleHi(hi: number, lo: number): number {
  return lo === 2 && hi === 0x7ff80000 ? 0x7ff00000 : hi;
}

/** Count of trailing zero bits of a non-zero 32-bit value. */
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * Appends samples to one XOR chunk. Times must not decrease; the chunk holds
 * at most 65535 samples (about 120 is the usual cut).
 */
export class XorAppender {
  private readonly w = new BitWriter(512);
  private num = 0;
  private t = 0;
  private tDelta = 0;
  private vHi = 0;
  private vLo = 0;
  // 0xff means "no leading/trailing window chosen yet", as in Prometheus.
  private leading = 0xff;
  private trailing = 0;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);

  constructor() {
    // Two header bytes for the sample count.
    this.w.writeBits(0, 16);
  }

  /** Samples appended so far. */
  get numSamples(): number {
    return this.num;
  }

  /** Time of the last sample appended (undefined when empty). */
  get lastTime(): number | undefined {
    return this.num === 0 ? undefined : this.t;
  }

  /** Appends one sample: `t` an integer in milliseconds, `v` any float64 (NaN payloads kept). */
  append(t: number, v: number): void {
    const num = this.num;
    if (num >= XOR_MAX_SAMPLES) {
      throw new StorageError(StorageErrorCode.ChunkFull, `append to XOR chunk: chunk holds ${num} samples`);
    }
    if (!Number.isSafeInteger(t)) {
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        `append to XOR chunk: time ${t} is not an integer`,
      );
    }
    const w = this.w;
    if (num === 0) {
      writeUvarint(w, t >= 0 ? t * 2 : -t * 2 - 1);
      this.f64[0] = v;
      this.vHi = staleHi(this.u32[HI]!, this.u32[LO]!);
      this.vLo = this.u32[LO]!;
      w.writeBits(this.vHi, 32);
      w.writeBits(this.vLo, 32);
    } else {
      if (t < this.t) {
        throw new StorageError(
          StorageErrorCode.OutOfOrder,
          `append to XOR chunk: time ${t} is before the previous sample ${this.t}`,
        );
      }
      const tDelta = t - this.t;
      if (num === 1) {
        writeUvarint(w, tDelta);
      } else {
        const dod = tDelta - this.tDelta;
        // Ranges as Prometheus' bitRange: -(2^(n-1)-1) .. 2^(n-1).
        if (dod === 0) {
          w.writeBit(0);
        } else if (dod >= -8191 && dod <= 8192) {
          // Prefix and payload in one write: '10' + 14 bits.
          w.writeBits((0b10 << 14) | (dod & 0x3fff), 16);
        } else if (dod >= -65535 && dod <= 65536) {
          w.writeBits((0b110 << 17) | (dod & 0x1ffff), 20);
        } else if (dod >= -524287 && dod <= 524288) {
          w.writeBits((0b1110 << 20) | (dod & 0xfffff), 24);
        } else {
          w.writeBits(0b1111, 4);
          const hi = Math.floor(dod / TWO_32);
          w.writeBits(hi | 0, 32);
          w.writeBits(dod - hi * TWO_32, 32);
        }
      }
      this.tDelta = tDelta;
      this.writeValue(v);
    }
    this.t = t;
    this.num = num + 1;
    this.w.setByte(0, this.num >>> 8);
    this.w.setByte(1, this.num & 0xff);
  }

  /** The chunk bytes, including the two-byte sample count header (a copy). */
  bytes(): Uint8Array {
    return this.w.view().slice();
  }

  private writeValue(v: number): void {
    const w = this.w;
    this.f64[0] = v;
    const hi = staleHi(this.u32[HI]!, this.u32[LO]!);
    const lo = this.u32[LO]!;
    const dHi = (hi ^ this.vHi) >>> 0;
    const dLo = (lo ^ this.vLo) >>> 0;
    this.vHi = hi;
    this.vLo = lo;
    if (dHi === 0 && dLo === 0) {
      w.writeBit(0);
      return;
    }
    let leading = dHi !== 0 ? Math.clz32(dHi) : 32 + Math.clz32(dLo);
    const trailing = dLo !== 0 ? ctz32(dLo) : 32 + ctz32(dHi);
    // Five bits hold the leading count, so it is clamped to 31.
    if (leading >= 32) leading = 31;
    if (this.leading !== 0xff && leading >= this.leading && trailing >= this.trailing) {
      // '10': reuse the previous window.
      w.writeBits(0b10, 2);
      writeShifted(w, dHi, dLo, this.trailing, 64 - this.leading - this.trailing);
      return;
    }
    this.leading = leading;
    this.trailing = trailing;
    const sig = 64 - leading - trailing;
    // '11', five bits of leading zeros, six of significant bits (64 is written as 0).
    w.writeBits((0b11 << 11) | (leading << 6) | (sig & 63), 13);
    writeShifted(w, dHi, dLo, trailing, sig);
  }
}

function writeUvarint(w: BitWriter, x: number): void {
  while (x >= 0x80) {
    w.writeBits((x % 0x80) | 0x80, 8);
    x = Math.floor(x / 0x80);
  }
  w.writeBits(x, 8);
}

/** Writes the low `n` bits of (hi:lo) >>> shift. */
function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  let h: number;
  let l: number;
  if (shift >= 32) {
    h = 0;
    l = hi >>> (shift - 32);
  } else if (shift > 0) {
    h = hi >>> shift;
    l = (lo >>> shift) | (hi << (32 - shift));
  } else {
    h = hi;
    l = lo;
  }
  if (n > 32) {
    w.writeBits(h, n - 32);
    w.writeBits(l, 32);
  } else {
    w.writeBits(l, n);
  }
}

/** Thrown inside the iterator when the bits run out; turned into a `corrupt` error. */
const TRUNCATED = Symbol('truncated');

/**
 * Iterates the samples of an XOR chunk. Reusable across chunks through
 * `reset`; no allocation per sample.
 */
export class XorIterator implements SampleIterator {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private endBits = 0;
  private numTotal = 0;
  private numRead = 0;
  private t = 0;
  private tDelta = 0;
  private vHi = 0;
  private vLo = 0;
  private leading = 0;
  private trailing = 0;
  private error: Error | undefined;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);

  constructor(bytes?: Uint8Array) {
    if (bytes !== undefined) this.reset(bytes);
  }

  /** Starts over on another chunk's bytes (header included). */
  reset(bytes: Uint8Array): void {
    this.buf = bytes;
    this.pos = 16;
    this.endBits = bytes.length * 8;
    this.numRead = 0;
    this.t = 0;
    this.tDelta = 0;
    this.vHi = 0;
    this.vLo = 0;
    this.leading = 0;
    this.trailing = 0;
    this.error = undefined;
    if (bytes.length < 2) {
      this.numTotal = 0;
      this.error = new StorageError(
        StorageErrorCode.Corrupt,
        `read XOR chunk: ${bytes.length} bytes is shorter than the header`,
      );
      return;
    }
    this.numTotal = (bytes[0]! << 8) | bytes[1]!;
  }

  /** Samples the chunk header announces. */
  get numSamples(): number {
    return this.numTotal;
  }

  next(): ValueType {
    if (this.error !== undefined || this.numRead === this.numTotal) return ValueType.None;
    try {
      if (this.numRead === 0) {
        const zz = this.readUvarint();
        // Zig-zag decoding of a signed varint.
        this.t = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
        this.vHi = this.readBits(32);
        this.vLo = this.readBits(32);
      } else {
        if (this.numRead === 1) {
          this.tDelta = this.readUvarint();
        } else {
          this.tDelta += this.readDod();
        }
        this.t += this.tDelta;
        this.readValue();
      }
    } catch (e) {
      if (e === TRUNCATED) {
        this.error = new StorageError(
          StorageErrorCode.Corrupt,
          `read XOR chunk: bits end after ${this.numRead} of ${this.numTotal} samples`,
        );
      } else if (e instanceof StorageError) {
        this.error = e;
      } else {
        throw e;
      }
      return ValueType.None;
    }
    this.u32[HI] = this.vHi;
    this.u32[LO] = this.vLo;
    this.numRead++;
    return ValueType.Float;
  }

  seek(t: number): ValueType {
    if (this.error !== undefined) return ValueType.None;
    while (this.numRead === 0 || this.t < t) {
      if (this.next() === ValueType.None) return ValueType.None;
    }
    return ValueType.Float;
  }

  atT(): number {
    return this.t;
  }

  at(): number {
    // Read straight from the typed array: a double stored in an object field
    // may have its NaN quiet bit set by the engine, which would change a
    // stale marker's bits.
    return this.f64[0]!;
  }

  atHistogram(): FloatHistogram {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      'read XOR chunk: an XOR chunk holds no histograms',
    );
  }

  err(): Error | undefined {
    return this.error;
  }

  private readBits(n: number): number {
    const pos = this.pos;
    if (pos + n > this.endBits) throw TRUNCATED;
    this.pos = pos + n;
    const buf = this.buf;
    const idx = pos >>> 3;
    const off = pos & 7;
    // A 32-bit window starting at the current byte; bytes past the end read as 0.
    let w =
      ((buf[idx]! << 24) | ((buf[idx + 1] ?? 0) << 16) | ((buf[idx + 2] ?? 0) << 8) | (buf[idx + 3] ?? 0)) >>>
      0;
    if (off !== 0) w = ((w << off) | ((buf[idx + 4] ?? 0) >>> (8 - off))) >>> 0;
    return n === 32 ? w : w >>> (32 - n);
  }

  private readUvarint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.readBits(8);
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 0x80;
    }
    throw TRUNCATED;
  }

  /** The 32 bits from the current position, without moving; bits past the end read as 0. */
  private peek32(): number {
    const buf = this.buf;
    const idx = this.pos >>> 3;
    const off = this.pos & 7;
    let w =
      (((buf[idx] ?? 0) << 24) |
        ((buf[idx + 1] ?? 0) << 16) |
        ((buf[idx + 2] ?? 0) << 8) |
        (buf[idx + 3] ?? 0)) >>>
      0;
    if (off !== 0) w = ((w << off) | ((buf[idx + 4] ?? 0) >>> (8 - off))) >>> 0;
    return w;
  }

  /** Advances by n bits, failing when that passes the end. */
  private skip(n: number): void {
    if (this.pos + n > this.endBits) throw TRUNCATED;
    this.pos += n;
  }

  private readDod(): number {
    // Prefix 0, 10, 110, 1110 or 1111, and payloads of up to 20 bits, fit in one 32-bit window.
    const w = this.peek32();
    if (w >>> 31 === 0) {
      this.skip(1);
      return 0;
    }
    let sz: number;
    let bits: number;
    if (w >>> 30 === 0b10) {
      sz = 14;
      bits = (w >>> 16) & 0x3fff;
      this.skip(16);
    } else if (w >>> 29 === 0b110) {
      sz = 17;
      bits = (w >>> 12) & 0x1ffff;
      this.skip(20);
    } else if (w >>> 28 === 0b1110) {
      sz = 20;
      bits = (w >>> 8) & 0xfffff;
      this.skip(24);
    } else {
      this.skip(4);
      const hi = this.readBits(32) | 0;
      return hi * TWO_32 + this.readBits(32);
    }
    // Values above 2^(sz-1) are negative numbers in sz-bit two's complement.
    return bits > 1 << (sz - 1) ? bits - (1 << sz) : bits;
  }

  private readValue(): void {
    const w = this.peek32();
    if (w >>> 31 === 0) {
      this.skip(1);
      return;
    }
    let leading: number;
    let trailing: number;
    let mbits: number;
    if (w >>> 30 === 0b10) {
      this.skip(2);
      leading = this.leading;
      trailing = this.trailing;
      mbits = 64 - leading - trailing;
    } else {
      this.skip(13);
      leading = (w >>> 25) & 31;
      mbits = (w >>> 19) & 63;
      if (mbits === 0) mbits = 64;
      trailing = 64 - leading - mbits;
      if (trailing < 0) {
        throw new StorageError(
          StorageErrorCode.Corrupt,
          `read XOR chunk: ${leading} leading and ${mbits} significant bits exceed 64`,
        );
      }
      this.leading = leading;
      this.trailing = trailing;
    }
    let h: number;
    let l: number;
    if (mbits > 32) {
      h = this.readBits(mbits - 32);
      l = this.readBits(32);
    } else {
      h = 0;
      l = this.readBits(mbits);
    }
    if (trailing >= 32) {
      h = l << (trailing - 32);
      l = 0;
    } else if (trailing > 0) {
      h = (h << trailing) | (l >>> (32 - trailing));
      l = l << trailing;
    }
    this.vHi = (this.vHi ^ h) >>> 0;
    this.vLo = (this.vLo ^ l) >>> 0;
  }
}

/** Encodes a whole chunk from parallel arrays of times and values. */
export function encodeXorChunk(ts: ArrayLike<number>, vs: ArrayLike<number>): Uint8Array {
  if (ts.length !== vs.length) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `encode XOR chunk: ${ts.length} times but ${vs.length} values`,
    );
  }
  const app = new XorAppender();
  for (let i = 0; i < ts.length; i++) app.append(ts[i]!, vs[i]!);
  return app.bytes();
}

/** Decodes a whole chunk into parallel arrays; throws the iterator's error. */
export function decodeXorChunk(bytes: Uint8Array): { ts: Float64Array; vs: Float64Array } {
  const it = new XorIterator(bytes);
  const n = it.numSamples;
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  let i = 0;
  while (it.next() !== ValueType.None) {
    ts[i] = it.atT();
    vs[i] = it.at();
    i++;
  }
  const e = it.err();
  if (e !== undefined) throw e;
  return { ts, vs };
}
