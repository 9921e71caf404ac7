/**
 * The XOR chunk: Gorilla-style compression of (millisecond time, float64)
 * samples, byte-compatible with Prometheus' chunkenc.XORChunk. The layout is
 * specified in storage/docs/xor-chunk.md.
 */
import { StorageError, StorageErrorCode } from '../errors.js';
import { type FloatHistogram, type SampleIterator, ValueType } from '../model.js';
import { BitWriter } from './bstream.js';
import { decodeXorIntoScratch, newDecodeScratch } from './xor-decode.js';

/** The chunk encoding byte Prometheus writes before an XOR chunk in segment files. */
export const XOR_ENCODING = 1;

/** The most samples a chunk header (a big-endian uint16) can count. */
export const XOR_MAX_SAMPLES = 0xffff;

// Index of the high and low 32-bit halves of a float64 in an Int32Array view.
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

// Converts a float64 to its two 32-bit halves. Shared by every appender:
// it holds no state between calls (each call writes then reads it at once).
const bitsF64 = new Float64Array(1);
// Signed halves: every 32-bit quantity in the codec stays an int32. An
// unsigned value of 2^31 or more where the engine has only seen small
// integers makes optimized code bail out and fall back to float arithmetic.
const bitsI32 = new Int32Array(bitsF64.buffer);

/** Count of trailing zero bits of a non-zero 32-bit value. */
function ctz32(x: number): number {
  // Math.imul negates without overflow (-(-2^31) is not an int32).
  return 31 - Math.clz32(x & Math.imul(x, -1));
}

/**
 * Appends samples to one XOR chunk. Times must not decrease; the chunk holds
 * at most 65535 samples (about 120 is the usual cut).
 */
export class XorAppender {
  private readonly w = new BitWriter();
  private num = 0;
  private t = 0;
  private tDelta = 0;
  private vHi = 0;
  private vLo = 0;
  // 0xff means "no leading/trailing window chosen yet", as in Prometheus.
  private leading = 0xff;
  private trailing = 0;

  constructor() {
    // Two header bytes for the sample count, filled in by bytes().
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
    // The per-sample path is kept small (the first two samples, bad input and
    // wide deltas of deltas go out of line), so that the engine inlines the
    // whole bit writer into it.
    if (num < 2 || num >= XOR_MAX_SAMPLES || !Number.isSafeInteger(t)) {
      this.appendSlow(t, v);
      return;
    }
    const tDelta = t - this.t;
    if (tDelta < 0) throw outOfOrder(t, this.t);
    const dod = tDelta - this.tDelta;
    // Ranges as Prometheus' bitRange: -(2^(n-1)-1) .. 2^(n-1).
    if (dod === 0) {
      this.w.writeZero();
    } else if (dod >= -8191 && dod <= 8192) {
      // Prefix and payload in one write: '10' + 14 bits.
      this.w.writeBits((0b10 << 14) | (dod & 0x3fff), 16);
    } else {
      writeWideDod(this.w, dod);
    }
    this.tDelta = tDelta;
    this.writeValue(v);
    this.t = t;
    this.num = num + 1;
  }

  /** The first two samples, and the checks that throw. */
  private appendSlow(t: number, v: number): void {
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
      writeVarint(w, t);
      bitsF64[0] = v;
      const lo = bitsI32[LO]!;
      this.vHi = staleHi(bitsI32[HI]!, lo);
      this.vLo = lo;
      w.writeBits(this.vHi, 32);
      w.writeBits(lo, 32);
    } else {
      // num is 1 here: append() sends later samples only when a check throws.
      const tDelta = t - this.t;
      if (tDelta < 0) throw outOfOrder(t, this.t);
      writeUvarint(w, tDelta);
      this.tDelta = tDelta;
      this.writeValue(v);
    }
    this.t = t;
    this.num = num + 1;
  }

  /**
   * The chunk bytes, including the two-byte sample count header. They do not
   * change when more samples are appended (see BitWriter.bytes).
   */
  bytes(): Uint8Array {
    const out = this.w.bytes();
    out[0] = this.num >>> 8;
    out[1] = this.num & 0xff;
    return out;
  }

  private writeValue(v: number): void {
    const w = this.w;
    bitsF64[0] = v;
    const lo = bitsI32[LO]!;
    const hi = staleHi(bitsI32[HI]!, lo);
    const dHi = hi ^ this.vHi;
    const dLo = lo ^ this.vLo;
    if (dHi === 0 && dLo === 0) {
      w.writeZero();
      return;
    }
    this.vHi = hi;
    this.vLo = lo;
    let leading = dHi !== 0 ? Math.clz32(dHi) : 32 + Math.clz32(dLo);
    const trailing = dLo !== 0 ? ctz32(dLo) : 32 + ctz32(dHi);
    // Five bits hold the leading count, so it is clamped to 31.
    if (leading >= 32) leading = 31;
    if (leading >= this.leading && trailing >= this.trailing) {
      // '10': reuse the previous window (never true before the first window:
      // leading is then 0xff).
      writeShifted(w, 0b10, 2, dHi, dLo, this.trailing, 64 - this.leading - this.trailing);
      return;
    }
    this.leading = leading;
    this.trailing = trailing;
    const sig = 64 - leading - trailing;
    // '11', five bits of leading zeros, six of significant bits (64 is written as 0).
    writeShifted(w, (0b11 << 11) | (leading << 6) | (sig & 63), 13, dHi, dLo, trailing, sig);
  }
}

/**
 * Writes the `pn`-bit prefix, then the low `n` bits of (hi:lo) >>> shift
 * (the bits above them are zero), in as few writes as fit in 32 bits.
 */
function writeShifted(
  w: BitWriter,
  prefix: number,
  pn: number,
  hi: number,
  lo: number,
  shift: number,
  n: number,
): void {
  let h: number;
  let l: number;
  if (shift >= 32) {
    h = 0;
    // | 0: a shift by zero of a negative half would be an unsigned 2^31 or more.
    l = (hi >>> (shift - 32)) | 0;
  } else if (shift > 0) {
    h = hi >>> shift;
    l = (lo >>> shift) | (hi << (32 - shift));
  } else {
    h = hi;
    l = lo;
  }
  if (n <= 32) {
    if (pn + n <= 32) {
      w.writeBits((prefix << n) | l, pn + n);
    } else {
      w.writeBits(prefix, pn);
      w.writeBits(l, n);
    }
    return;
  }
  const hn = n - 32;
  if (pn + hn <= 32) {
    w.writeBits((prefix << hn) | h, pn + hn);
  } else {
    w.writeBits(prefix, pn);
    w.writeBits(h, hn);
  }
  w.writeBits(l, 32);
}

/** A delta of deltas outside the 14-bit range: 17, 20 or 64 bits. */
function writeWideDod(w: BitWriter, dod: number): void {
  if (dod >= -65535 && dod <= 65536) {
    w.writeBits((0b110 << 17) | (dod & 0x1ffff), 20);
  } else if (dod >= -524287 && dod <= 524288) {
    w.writeBits((0b1110 << 20) | (dod & 0xfffff), 24);
  } else {
    w.writeBits(0b1111, 4);
    const hi = Math.floor(dod / TWO_32);
    w.writeBits(hi | 0, 32);
    w.writeBits((dod - hi * TWO_32) | 0, 32);
  }
}

function outOfOrder(t: number, prev: number): StorageError {
  return new StorageError(
    StorageErrorCode.OutOfOrder,
    `append to XOR chunk: time ${t} is before the previous sample ${prev}`,
  );
}

/**
 * Writes Go's zig-zag varint of `t` (binary.PutVarint). The zig-zag value
 * 2|t| (or 2|t|-1) can exceed 2^53 for a safe integer, so it is never formed:
 * the sign and the low six bits of the magnitude make the first byte.
 */
function writeVarint(w: BitWriter, t: number): void {
  const neg = t < 0 ? 1 : 0;
  const mag = neg === 1 ? -t - 1 : t;
  const first = ((mag % 64) * 2) | neg;
  if (mag < 64) {
    w.writeBits(first, 8);
    return;
  }
  w.writeBits(first | 0x80, 8);
  writeUvarint(w, Math.floor(mag / 64));
}

function writeUvarint(w: BitWriter, x: number): void {
  while (x >= 0x80) {
    w.writeBits((x % 0x80) | 0x80, 8);
    x = Math.floor(x / 0x80);
  }
  w.writeBits(x, 8);
}

/**
 * Iterates the samples of an XOR chunk. Reusable across chunks through
 * `reset`, which decodes the chunk into reused typed arrays in one tight
 * loop; `next` is then an index step. No allocation per sample.
 */
export class XorIterator implements SampleIterator {
  private readonly scratch = newDecodeScratch();
  // The scratch arrays (they are replaced when a chunk outgrows them), held
  // here so that at() and atT() are one load from the iterator.
  private ts: Float64Array;
  private vs: Float64Array;
  private numTotal = 0;
  private count = 0;
  private i = -1;
  private pending: Error | undefined;
  private error: Error | undefined;

  constructor(bytes?: Uint8Array) {
    this.ts = this.scratch.ts;
    this.vs = this.scratch.vs;
    if (bytes !== undefined) this.reset(bytes);
  }

  /** Starts over on another chunk's bytes (header included). */
  reset(bytes: Uint8Array): void {
    this.numTotal = bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : 0;
    const s = this.scratch;
    decodeXorIntoScratch(bytes, s);
    this.ts = s.ts;
    this.vs = s.vs;
    this.count = s.n;
    this.pending = s.error;
    this.error = undefined;
    this.i = -1;
  }

  /** Samples the chunk header announces. */
  get numSamples(): number {
    return this.numTotal;
  }

  next(): ValueType {
    const i = this.i + 1;
    if (i < this.count) {
      this.i = i;
      return ValueType.Float;
    }
    // Past the last decoded sample: report why decoding stopped, if it stopped early.
    this.i = this.count;
    this.error = this.pending;
    return ValueType.None;
  }

  seek(t: number): ValueType {
    if (this.i >= this.count) return ValueType.None;
    const ts = this.ts;
    if (this.i < 0) this.i = 0;
    while (this.i < this.count && ts[this.i]! < t) this.i++;
    if (this.i < this.count) return ValueType.Float;
    this.error = this.pending;
    return ValueType.None;
  }

  /**
   * Copies the current sample and the ones after it with times at or before
   * `maxt` into `t`/`f` from index `at`, stopping before index `limit`;
   * leaves the iterator on the last sample copied and returns how many were
   * copied. Call only while positioned on a sample (the last next/seek gave Float).
   */
  copyFloats(t: Float64Array, f: Float64Array, at: number, limit: number, maxt: number): number {
    const ts = this.ts;
    const vs = this.vs;
    let i = this.i;
    let k = at;
    while (i < this.count && k < limit && ts[i]! <= maxt) {
      t[k] = ts[i]!;
      f[k] = vs[i]!;
      k++;
      i++;
    }
    if (k > at) this.i = i - 1;
    return k - at;
  }

  atT(): number {
    return this.ts[this.i]!;
  }

  at(): number {
    // Read straight from the typed array: a double stored in an object field
    // may have its NaN quiet bit set by the engine, which would change a
    // stale marker's bits.
    return this.vs[this.i]!;
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
}

/** Encodes a whole chunk from parallel arrays of times and values. */
export function encodeXorChunk(ts: ArrayLike<number>, vs: ArrayLike<number>): Uint8Array {
  if (ts.length !== vs.length) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `encode XOR chunk: ${ts.length} times but ${vs.length} values`,
    );
  }
  if (ts.length === 1) return encodeOneSample(ts[0]!, vs[0]!);
  const app = new XorAppender();
  for (let i = 0; i < ts.length; i++) app.append(ts[i]!, vs[i]!);
  return app.bytes();
}

/**
 * A chunk of one sample, byte for byte what XorAppender writes (every field
 * falls on a byte boundary): count 0x0001, the zigzag uvarint time, the value's
 * 8 bytes big-endian. The remote-write path makes one of these per series.
 */
function encodeOneSample(t: number, v: number): Uint8Array {
  if (!Number.isSafeInteger(t)) {
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `append to XOR chunk: time ${t} is not an integer`,
    );
  }
  // Zig-zag varint as in writeVarint: sign and six bits first, then seven at a time.
  const neg = t < 0 ? 1 : 0;
  const mag = neg === 1 ? -t - 1 : t;
  let len = 1;
  for (let y = Math.floor(mag / 64); y > 0; y = Math.floor(y / 0x80)) len++;
  const out = new Uint8Array(2 + len + 8);
  out[1] = 1;
  let p = 2;
  let x = Math.floor(mag / 64);
  out[p++] = ((mag % 64) * 2) | neg | (x > 0 ? 0x80 : 0);
  while (x >= 0x80) {
    out[p++] = (x % 0x80) | 0x80;
    x = Math.floor(x / 0x80);
  }
  if (len > 1) out[p++] = x;
  bitsF64[0] = v;
  const lo = bitsI32[LO]!;
  const hi = staleHi(bitsI32[HI]!, lo);
  out[p] = hi >>> 24;
  out[p + 1] = (hi >>> 16) & 0xff;
  out[p + 2] = (hi >>> 8) & 0xff;
  out[p + 3] = hi & 0xff;
  out[p + 4] = lo >>> 24;
  out[p + 5] = (lo >>> 16) & 0xff;
  out[p + 6] = (lo >>> 8) & 0xff;
  out[p + 7] = lo & 0xff;
  return out;
}

/** Decodes a whole chunk into parallel arrays; throws the iterator's error. */
export function decodeXorChunk(
  bytes: Uint8Array,
  reuse?: XorIterator,
): { ts: Float64Array; vs: Float64Array } {
  // A caller decoding many small chunks passes one iterator: its scratch
  // buffers are then allocated once instead of once per chunk.
  const it = reuse ?? new XorIterator();
  it.reset(bytes);
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
