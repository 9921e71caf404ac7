/**
 * A whole-chunk XOR decoder with all state in local variables: the tight loop
 * the iterator runs once per chunk, so per-sample work is an array read.
 */
import { StorageError, StorageErrorCode } from '../errors.js';

const TWO_32 = 4294967296;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** Zero bytes after the chunk in the scratch copy, so 32-bit windows never read past it. */
export const DECODE_PADDING = 16;

/** The 32 bits starting at bit `pos` of a padded buffer. */
function window32(b: Uint8Array, pos: number): number {
  const i = pos >>> 3;
  const off = pos & 7;
  const w = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  return off === 0 ? w : ((w << off) | (b[i + 4]! >>> (8 - off))) >>> 0;
}

/** The error for a chunk whose bits end before all its samples (a function, not a closure per chunk). */
function truncated(n: number, total: number): StorageError {
  return new StorageError(
    StorageErrorCode.Corrupt,
    `read XOR chunk: bits end after ${n} of ${total} samples`,
  );
}

/** Scratch space of one decoder; reused across chunks. */
export interface DecodeScratch {
  buf: Uint8Array;
  ts: Float64Array;
  vs: Float64Array;
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
}

/** New scratch space. */
export function newDecodeScratch(): DecodeScratch {
  // One backing buffer for all views (one allocation per decoder, not five):
  // ts [0, 1024), vs [1024, 2048), f64/u32 [2048, 2056), buf [2056, 2568).
  const backing = new ArrayBuffer(2568);
  const f64 = new Float64Array(backing, 2048, 1);
  return {
    buf: new Uint8Array(backing, 2056, 512),
    ts: new Float64Array(backing, 0, 128),
    vs: new Float64Array(backing, 1024, 128),
    f64,
    u32: new Uint32Array(backing, 2048, 2),
  };
}

/**
 * Decodes a chunk (header included) into `s.ts`/`s.vs`; returns how many
 * samples decoded and the error that stopped it early, if any.
 */
export function decodeXorIntoScratch(
  bytes: Uint8Array,
  s: DecodeScratch,
): { n: number; error?: StorageError } {
  if (bytes.length < 2) {
    return {
      n: 0,
      error: new StorageError(
        StorageErrorCode.Corrupt,
        `read XOR chunk: ${bytes.length} bytes is shorter than the header`,
      ),
    };
  }
  const total = (bytes[0]! << 8) | bytes[1]!;
  if (s.buf.length < bytes.length + DECODE_PADDING)
    s.buf = new Uint8Array((bytes.length + DECODE_PADDING) * 2);
  const b = s.buf;
  b.set(bytes);
  b.fill(0, bytes.length, bytes.length + DECODE_PADDING);
  if (s.ts.length < total) {
    s.ts = new Float64Array(total);
    s.vs = new Float64Array(total);
  }
  const ts = s.ts;
  const vs = s.vs;
  const f64 = s.f64;
  const u32 = s.u32;
  const end = bytes.length * 8;
  let pos = 16;
  let t = 0;
  let tDelta = 0;
  let vHi = 0;
  let vLo = 0;
  let leading = 0;
  let trailing = 0;
  let n = 0;
  for (; n < total; n++) {
    if (n <= 1) {
      // Byte-aligned varints: the first time (signed) or the first delta.
      let x = 0;
      let mul = 1;
      let ok = false;
      for (let k = 0; k < 10; k++) {
        if (pos + 8 > end) return { n, error: truncated(n, total) };
        const byte = b[pos >>> 3]!;
        pos += 8;
        x += (byte & 0x7f) * mul;
        if (byte < 0x80) {
          ok = true;
          break;
        }
        mul *= 0x80;
      }
      if (!ok) return { n, error: truncated(n, total) };
      if (n === 0) {
        t = x % 2 === 0 ? x / 2 : -(x + 1) / 2;
        if (pos + 64 > end) return { n, error: truncated(n, total) };
        vHi = window32(b, pos);
        vLo = window32(b, pos + 32);
        pos += 64;
        ts[0] = t;
        u32[HI] = vHi;
        u32[LO] = vLo;
        vs[0] = f64[0]!;
        continue;
      }
      tDelta = x;
    } else {
      const w = window32(b, pos);
      if (w >>> 31 === 0) {
        pos += 1;
      } else if (w >>> 30 === 0b10) {
        const bits = (w >>> 16) & 0x3fff;
        tDelta += bits > 0x2000 ? bits - 0x4000 : bits;
        pos += 16;
      } else if (w >>> 29 === 0b110) {
        const bits = (w >>> 12) & 0x1ffff;
        tDelta += bits > 0x10000 ? bits - 0x20000 : bits;
        pos += 20;
      } else if (w >>> 28 === 0b1110) {
        const bits = (w >>> 8) & 0xfffff;
        tDelta += bits > 0x80000 ? bits - 0x100000 : bits;
        pos += 24;
      } else {
        const hi = window32(b, pos + 4) | 0;
        const lo = window32(b, pos + 36);
        tDelta += hi * TWO_32 + lo;
        pos += 68;
      }
      if (pos > end) return { n, error: truncated(n, total) };
    }
    t += tDelta;
    // The value.
    const w = window32(b, pos);
    if (w >>> 31 === 0) {
      pos += 1;
    } else {
      let mbits: number;
      if (w >>> 30 === 0b10) {
        pos += 2;
        mbits = 64 - leading - trailing;
      } else {
        pos += 13;
        leading = (w >>> 25) & 31;
        mbits = (w >>> 19) & 63;
        if (mbits === 0) mbits = 64;
        trailing = 64 - leading - mbits;
        if (trailing < 0) {
          return {
            n,
            error: new StorageError(
              StorageErrorCode.Corrupt,
              `read XOR chunk: ${leading} leading and ${mbits} significant bits exceed 64`,
            ),
          };
        }
      }
      if (pos + mbits > end) return { n, error: truncated(n, total) };
      let h: number;
      let l: number;
      if (mbits > 32) {
        h = window32(b, pos) >>> (64 - mbits);
        l = window32(b, pos + mbits - 32);
      } else {
        h = 0;
        l = window32(b, pos) >>> (32 - mbits);
      }
      pos += mbits;
      if (trailing >= 32) {
        h = l << (trailing - 32);
        l = 0;
      } else if (trailing > 0) {
        h = (h << trailing) | (l >>> (32 - trailing));
        l = l << trailing;
      }
      vHi = (vHi ^ h) >>> 0;
      vLo = (vLo ^ l) >>> 0;
    }
    if (pos > end) return { n, error: truncated(n, total) };
    ts[n] = t;
    u32[HI] = vHi;
    u32[LO] = vLo;
    vs[n] = f64[0]!;
  }
  return { n };
}
