/**
 * A whole-chunk XOR decoder with all state in local variables: the tight loop
 * the iterator runs once per chunk, so per-sample work is an array read.
 *
 * The chunk is first copied into a zero-padded scratch buffer (one memcpy),
 * so the 32 bits at any bit position are one unaligned big-endian 32-bit
 * read, one byte read and two shifts; values are stored as their two 32-bit
 * halves straight into a Uint32Array view of the value array (no float64
 * round trip per sample).
 */
import { StorageError, StorageErrorCode } from '../errors.js';

const TWO_32 = 4294967296;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/**
 * Zero bytes after the chunk's bytes. The end of the bits is checked once per
 * sample, so one sample's reads may run up to 145 bits (a 68-bit delta of
 * deltas and a 77-bit value) past the end, plus the 40 bits of a window.
 */
const PADDING = 32;

/** The 32 bits starting at bit `pos` of the padded copy (as a signed 32-bit integer). */
function window32(dv: DataView, b: Uint8Array, pos: number): number {
  const i = pos >>> 3;
  const off = pos & 7;
  // A byte shifted right by 8 is zero, so off 0 needs no branch.
  return (dv.getInt32(i) << off) | (b[i + 4]! >>> (8 - off));
}

/** The error for a chunk whose bits end before all its samples (a function, not a closure per chunk). */
function truncated(n: number, total: number): StorageError {
  return new StorageError(
    StorageErrorCode.Corrupt,
    `read XOR chunk: bits end after ${n} of ${total} samples`,
  );
}

/** Scratch space of one decoder, reused across chunks; also holds the last result. */
export interface DecodeScratch {
  /** The chunk's bytes, zero-padded, and a view of them for 32-bit reads. */
  buf: Uint8Array;
  view: DataView;
  ts: Float64Array;
  vs: Float64Array;
  /** `vs` as 32-bit halves. */
  vsBits: Uint32Array;
  /** Samples decoded by the last call. */
  n: number;
  /** Why the last call stopped before the samples its header counts, if it did. */
  error: StorageError | undefined;
  /** The first time delta of the chunk being decoded (from decodeStart to the loop). */
  firstDelta: number;
}

/** New scratch space, sized for chunks of up to 128 samples and 1 KiB (it grows when needed). */
export function newDecodeScratch(): DecodeScratch {
  // One backing buffer for all views (one allocation per decoder, not three):
  // ts [0, 1024), vs [1024, 2048), buf [2048, 2048 + 1024 + padding).
  const backing = new ArrayBuffer(2048 + 1024 + PADDING);
  return {
    buf: new Uint8Array(backing, 2048, 1024 + PADDING),
    view: new DataView(backing, 2048, 1024 + PADDING),
    ts: new Float64Array(backing, 0, 128),
    vs: new Float64Array(backing, 1024, 128),
    vsBits: new Uint32Array(backing, 1024, 256),
    n: 0,
    error: undefined,
    firstDelta: 0,
  };
}

/** Copies `bytes` into the scratch buffer and zeroes the padding after them. */
function load(bytes: Uint8Array, s: DecodeScratch): void {
  const len = bytes.length;
  if (s.buf.length < len + PADDING) {
    s.buf = new Uint8Array(2 * len + PADDING);
    s.view = new DataView(s.buf.buffer);
  }
  s.buf.set(bytes);
  s.buf.fill(0, len, len + PADDING);
}

/** The index after the unsigned varint at `p` (at most 10 bytes), or -1 when the bytes end first. */
function uvarintEnd(b: Uint8Array, p: number): number {
  const stop = Math.min(b.length, p + 10);
  for (let i = p; i < stop; i++) if (b[i]! < 0x80) return i + 1;
  return -1;
}

/** The unsigned varint at `p`, known to be complete (see uvarintEnd). */
function uvarintAt(b: Uint8Array, p: number): number {
  let x = 0;
  let mul = 1;
  for (;;) {
    const byte = b[p++]!;
    x += (byte & 0x7f) * mul;
    if (byte < 0x80) return x;
    mul *= 0x80;
  }
}

/**
 * The zig-zag varint at `p`, known to be complete. The zig-zag value itself
 * can exceed 2^53 for a safe integer, so the sign is taken from the first
 * byte and the magnitude summed from the bits after it.
 */
function varintAt(b: Uint8Array, p: number): number {
  let byte = b[p]!;
  const neg = byte & 1;
  let mag = (byte & 0x7f) >>> 1;
  let mul = 64;
  while (byte >= 0x80) {
    byte = b[++p]!;
    mag += (byte & 0x7f) * mul;
    mul *= 0x80;
  }
  return neg === 1 ? -mag - 1 : mag;
}

/**
 * Reads the header, the first sample and the first delta (all byte aligned,
 * the rare path of a chunk) into `s.ts[0]`, `s.vs[0]` and `s.firstDelta`, and
 * returns the bit position after them; returns -1 when the chunk ends there,
 * with `s.n` and `s.error` set.
 */
function decodeStart(bytes: Uint8Array, s: DecodeScratch): number {
  s.n = 0;
  s.error = undefined;
  if (bytes.length < 2) {
    s.error = new StorageError(
      StorageErrorCode.Corrupt,
      `read XOR chunk: ${bytes.length} bytes is shorter than the header`,
    );
    return -1;
  }
  const total = (bytes[0]! << 8) | bytes[1]!;
  if (total === 0) return -1;
  load(bytes, s);
  if (s.ts.length < total) {
    s.ts = new Float64Array(total);
    s.vs = new Float64Array(total);
    s.vsBits = new Uint32Array(s.vs.buffer);
  }
  // The first time (zig-zag varint) and value (64 raw bits), byte aligned.
  const p0 = uvarintEnd(bytes, 2);
  if (p0 < 0 || p0 * 8 + 64 > bytes.length * 8) {
    s.error = truncated(0, total);
    return -1;
  }
  s.ts[0] = varintAt(bytes, 2);
  s.vsBits[HI] = window32(s.view, s.buf, p0 * 8);
  s.vsBits[LO] = window32(s.view, s.buf, p0 * 8 + 32);
  s.n = 1;
  if (total === 1) return -1;
  // The first delta: an unsigned varint, byte aligned (the first value is whole bytes).
  const p1 = uvarintEnd(bytes, p0 + 8);
  if (p1 < 0) {
    s.error = truncated(1, total);
    return -1;
  }
  s.firstDelta = uvarintAt(bytes, p0 + 8);
  return p1 << 3;
}

/** The error for a value header whose window is wider than 64 bits. */
function tooWide(leading: number, mbits: number): StorageError {
  return new StorageError(
    StorageErrorCode.Corrupt,
    `read XOR chunk: ${leading} leading and ${mbits} significant bits exceed 64`,
  );
}

/**
 * Decodes a chunk (header included) into `s.ts`/`s.vs`; sets `s.n` to the
 * samples decoded and `s.error` to the error that stopped it early, if any.
 * The loop decodes samples 1 onwards; decodeStart reads what comes before.
 */
export function decodeXorIntoScratch(bytes: Uint8Array, s: DecodeScratch): void {
  let pos = decodeStart(bytes, s);
  if (pos < 0) return;
  const total = (bytes[0]! << 8) | bytes[1]!;
  const b = s.buf;
  const dv = s.view;
  const ts = s.ts;
  const vb = s.vsBits;
  const end = bytes.length * 8;
  let t = ts[0]!;
  let vHi = vb[HI]! | 0;
  let vLo = vb[LO]! | 0;
  let tDelta = s.firstDelta;
  // The current window: leading zeros (0..31), significant bits, and masks
  // that keep the bits above the trailing zeros. Before any '11' header a
  // reused window means all 64 bits, as in Prometheus.
  let leading = 0;
  let mbits = 64;
  let mHi = -1;
  let mLo = -1;
  let n = 1;
  // The bits at the start of each value. After a delta of deltas of zero or
  // of 14 bits they are the rest of the window that read it: 31 or 16 bits,
  // where a value header needs at most 13.
  let c = window32(dv, b, pos);
  for (;;) {
    // No-ops that tell the compiler these are int32 even in code compiled on
    // entry to a running loop, where values arrive untyped (and an untyped
    // operand beside an unsigned 32-bit value makes optimized code bail out).
    pos |= 0;
    c |= 0;
    vHi |= 0;
    vLo |= 0;
    leading |= 0;
    mbits |= 0;
    mHi |= 0;
    mLo |= 0;
    n |= 0;
    // The value of sample n, its time already known.
    t += tDelta;
    if (c >= 0) {
      // '0': the same value.
      pos = (pos + 1) | 0;
    } else {
      if (c >>> 30 === 0b10) {
        pos = (pos + 2) | 0;
      } else {
        pos = (pos + 13) | 0;
        leading = (c >>> 25) & 31;
        mbits = (c >>> 19) & 63;
        if (mbits === 0) mbits = 64;
        const trailing = 64 - leading - mbits;
        if (trailing < 0) {
          s.n = n;
          s.error = tooWide(leading, mbits);
          return;
        }
        mHi = trailing >= 32 ? -1 << (trailing - 32) : -1;
        mLo = trailing >= 32 ? 0 : -1 << trailing;
      }
      // The 64 bits at pos, shifted right by the leading zeros (at most 31,
      // so no branch on widths): the significant bits land in place, and the
      // bits of the next sample below them are masked off.
      const i = pos >>> 3;
      const off = pos & 7;
      const y = dv.getInt32(i + 4);
      const hi = (dv.getInt32(i) << off) | ((y >>> 1) >>> (31 - off));
      const lo = (y << off) | (b[i + 8]! >>> (8 - off));
      vHi ^= (hi >>> leading) & mHi;
      vLo ^= ((lo >>> leading) | ((hi << 1) << (31 - leading))) & mLo;
      pos = (pos + mbits) | 0;
    }
    if (pos > end) break;
    ts[n] = t;
    vb[2 * n + HI] = vHi;
    vb[2 * n + LO] = vLo;
    n++;
    if (n === total) {
      s.n = n;
      return;
    }

    // The delta of deltas of sample n.
    const d = window32(dv, b, pos);
    if (d >= 0) {
      pos = (pos + 1) | 0;
      c = d << 1;
      continue;
    }
    // Payloads are sign-extended by an arithmetic shift, with no branch on
    // the sign (jitter makes it random). The one payload that differs from
    // Prometheus' reading is the lowest, -2^(n-1), which it reads as +2^(n-1):
    // the encoder writes that value for +2^(n-1) only.
    if (d >>> 30 === 0b10) {
      const dod = (d << 2) >> 18;
      tDelta += dod === -0x2000 ? 0x2000 : dod;
      pos = (pos + 16) | 0;
      // The 16 bits after this payload are still in the window.
      c = d << 16;
      continue;
    }
    if (d >>> 29 === 0b110) {
      const dod = (d << 3) >> 15;
      tDelta += dod === -0x10000 ? 0x10000 : dod;
      pos = (pos + 20) | 0;
    } else if (d >>> 28 === 0b1110) {
      const dod = (d << 4) >> 12;
      tDelta += dod === -0x80000 ? 0x80000 : dod;
      pos = (pos + 24) | 0;
    } else {
      const hi = window32(dv, b, pos + 4);
      const lo = window32(dv, b, pos + 36) >>> 0;
      tDelta += hi * TWO_32 + lo;
      pos = (pos + 68) | 0;
    }
    c = window32(dv, b, pos);
  }
  s.n = n;
  s.error = truncated(n, total);
}

/**
 * A chunk that uses every kind of field: delta of deltas of each width (and
 * negative), a repeated value, reused and new windows, a sign change (no
 * leading zeros), trailing zeros above and below 32 and a denormal. Made by
 * XorAppender from the samples in storage/test/xor.test.ts.
 */
export const DECODER_PRIMER = Uint8Array.from(
  Buffer.from(
    '000dd00f3ff0000000000000e8073097ffe0193603bfcececc9a12071d4c3f85ec568608600000003c927c1400000003c0' +
      '0000004a817c8030ff04ba1200000000053ff80000000000012ffe6fb1000000000000080000000000008000',
    'hex',
  ),
);

/**
 * Decodes DECODER_PRIMER a few times as the module loads. The engine
 * optimizes the decoder from the types each branch has seen; a branch first
 * taken later (after a run of constant series, say) makes the optimized code
 * bail out, and a bail-out in the middle of a run can leave the decoder in
 * slower code compiled for the running loop (the bench showed about 35
 * instead of 55 M samples/s in a third of its runs). The engine records
 * types only after a function's first few calls, hence the repeats.
 */
function primeDecoder(): void {
  const s = newDecodeScratch();
  for (let i = 0; i < 16; i++) decodeXorIntoScratch(DECODER_PRIMER, s);
}
primeDecoder();
