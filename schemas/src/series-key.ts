import type { Label } from '@promstream/storage';

/**
 * The record key of a series: FNV-1a 64 over its sorted label pairs, each
 * written as `name 0xff value 0xff` in UTF-8 (the separator Prometheus uses,
 * a byte that never occurs in UTF-8). The key is the 8-byte big-endian hash;
 * the partition is the hash, read as an unsigned 64-bit integer, modulo the
 * partition count. FNV-1a was chosen because it is short to specify and
 * byte-at-a-time.
 */

/**
 * The running FNV-1a 64 state as four 16-bit limbs, least significant first,
 * so the per-byte multiply stays in exact small-integer arithmetic. The limbs
 * are copied to locals for each run of bytes, which keeps the inner loop free
 * of property access.
 */
class Fnv64 {
  // Offset basis 0xcbf29ce484222325.
  private h0 = 0x2325;
  private h1 = 0x8422;
  private h2 = 0x9ce4;
  private h3 = 0xcbf2;

  /** Mixes bytes: `text` as UTF-8 (ASCII straight from the string), or one `separator` byte when text is undefined. */
  mix(text: string | undefined, separator = 0xff): void {
    let bytes: Uint8Array | undefined;
    let n = 1;
    if (text !== undefined) {
      n = text.length;
      for (let i = 0; i < n; i++) {
        if (text.charCodeAt(i) >= 0x80) {
          // Lone surrogates become U+FFFD, as Buffer.from writes them.
          bytes = Buffer.from(text, 'utf8');
          n = bytes.length;
          break;
        }
      }
    }
    let h0 = this.h0;
    let h1 = this.h1;
    let h2 = this.h2;
    let h3 = this.h3;
    for (let i = 0; i < n; i++) {
      const b = text === undefined ? separator : bytes === undefined ? text.charCodeAt(i) : bytes[i]!;
      // Xor the byte in, then multiply by the prime 2^40 + 0x1b3 modulo 2^64.
      const x0 = h0 ^ b;
      let t0 = x0 * 0x1b3;
      let t1 = h1 * 0x1b3;
      let t2 = h2 * 0x1b3 + (x0 << 8);
      let t3 = h3 * 0x1b3 + (h1 << 8);
      t1 += t0 >>> 16;
      t0 &= 0xffff;
      t2 += t1 >>> 16;
      t1 &= 0xffff;
      t3 += t2 >>> 16;
      h0 = t0;
      h1 = t1;
      h2 = t2 & 0xffff;
      h3 = t3 & 0xffff;
    }
    this.h0 = h0;
    this.h1 = h1;
    this.h2 = h2;
    this.h3 = h3;
  }

  /** High 32 bits, unsigned. */
  hi(): number {
    return this.h3 * 0x10000 + this.h2;
  }

  /** Low 32 bits, unsigned. */
  lo(): number {
    return this.h1 * 0x10000 + this.h0;
  }
}

/** FNV-1a 64 of the label pairs: `name 0xff value 0xff` for each label in order. */
function fnv1a64(labels: readonly Label[]): { hi: number; lo: number } {
  return fnv1a64Ascii(labels) ?? fnv1a64General(labels);
}

/**
 * The same hash over ASCII-only labels in one loop with the limbs in
 * locals (no state object, no second pass over the text); undefined when a
 * character is not ASCII, for the general path to take over.
 */
function fnv1a64Ascii(labels: readonly Label[]): { hi: number; lo: number } | undefined {
  // Two 32-bit halves in int32 arithmetic. Multiplying by 2^40 + 0x1b3: the
  // low half times 0x1b3 is done in 16-bit pieces (each product exact), its
  // overflow carries into the high half, which also takes its own product
  // (Math.imul, modulo 2^32) and the low half shifted by 8 (the 2^40 term).
  let hi = 0xcbf29ce4 | 0;
  let lo = 0x84222325 | 0;
  const n = labels.length;
  for (let k = 0; k < n; k++) {
    const label = labels[k]!;
    for (let pass = 0; pass < 2; pass++) {
      const text = pass === 0 ? label.name : label.value;
      const len = text.length;
      // Each byte of the text, then the 0xff separator.
      for (let j = 0; j <= len; j++) {
        let b = 0xff;
        if (j < len) {
          b = text.charCodeAt(j);
          if (b >= 0x80) return undefined;
        }
        const x = lo ^ b;
        const pl = (x & 0xffff) * 0x1b3;
        const ph = (x >>> 16) * 0x1b3 + (pl >>> 16);
        lo = (ph << 16) | (pl & 0xffff);
        hi = (Math.imul(hi, 0x1b3) + (ph >>> 16) + (x << 8)) | 0;
      }
    }
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

function fnv1a64General(labels: readonly Label[]): { hi: number; lo: number } {
  const h = new Fnv64();
  for (const l of labels) {
    h.mix(l.name);
    h.mix(undefined);
    h.mix(l.value);
    h.mix(undefined);
  }
  return { hi: h.hi(), lo: h.lo() };
}

/** The 64-bit series hash as a BigInt (for tests and tools; the hot paths use the key bytes). */
export function seriesHash(labels: readonly Label[]): bigint {
  const { hi, lo } = fnv1a64(labels);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** The Kafka record key of a series: its hash, 8 bytes big-endian. Labels must be sorted by name. */
export function seriesKey(labels: readonly Label[]): Buffer {
  const { hi, lo } = fnv1a64(labels);
  const key = Buffer.allocUnsafe(8);
  key.writeUInt32BE(hi, 0);
  key.writeUInt32BE(lo, 4);
  return key;
}

/** The partition a series belongs on: its hash modulo the partition count. */
export function partitionFor(labels: readonly Label[], numPartitions: number): number {
  const n = numPartitions;
  if (Number.isInteger(n) && n >= 1 && n < 2 ** 21 && (n & (n - 1)) === 0) {
    const low = fnv1a64LowBitsAscii(labels, n - 1);
    if (low >= 0) return low;
  }
  const { hi, lo } = fnv1a64(labels);
  return modulo(hi, lo, n);
}

/**
 * The low bits (`mask`, below 2^21) of FNV-1a 64 over ASCII labels, or -1
 * when a character is not ASCII. Modulo a power of two the hash is its low
 * bits, and the low k bits of xor and of a product depend only on the low k
 * bits of the operands; the prime's 2^40 term vanishes below bit 40. So the
 * partition for a power-of-two count needs one small multiply per byte, not
 * the 64-bit one: the same partition as `modulo(fnv1a64(labels))`.
 */
function fnv1a64LowBitsAscii(labels: readonly Label[], mask: number): number {
  let h = FNV1A64_BASIS_LOW & mask;
  const n = labels.length;
  for (let k = 0; k < n; k++) {
    h = fnv1a64LabelLowBits(h, labels[k]!, mask);
    if (h < 0) return -1;
  }
  return h;
}

/** The low 32 bits of the FNV-1a 64 offset basis 0xcbf29ce484222325. */
export const FNV1A64_BASIS_LOW = 0x84222325;

/**
 * The low bits (`mask`, below 2^21) of the FNV-1a 64 state after one label
 * (`name 0xff value 0xff`) mixed into state `h`, or -1 when a character is
 * not ASCII. Only the low 0x1b3 of the prime 2^40 + 0x1b3 matters below bit 40.
 */
export function fnv1a64LabelLowBits(h: number, label: Label, mask: number): number {
  const { name, value } = label;
  for (let j = 0; j < name.length; j++) {
    const b = name.charCodeAt(j);
    if (b >= 0x80) return -1;
    h = Math.imul(h ^ b, 0x1b3) & mask;
  }
  h = Math.imul(h ^ 0xff, 0x1b3) & mask;
  for (let j = 0; j < value.length; j++) {
    const b = value.charCodeAt(j);
    if (b >= 0x80) return -1;
    h = Math.imul(h ^ b, 0x1b3) & mask;
  }
  return Math.imul(h ^ 0xff, 0x1b3) & mask;
}

/** The partition of a record key made by `seriesKey`. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  if (key.length !== 8) throw new RangeError(`series key must be 8 bytes, got ${key.length}`);
  const view = new DataView(key.buffer, key.byteOffset, 8);
  return modulo(view.getUint32(0), view.getUint32(4), numPartitions);
}

/** (hi * 2^32 + lo) mod n without BigInt; exact while n < 2^21 (products stay below 2^53). */
function modulo(hi: number, lo: number, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n >= 2 ** 21) {
    throw new RangeError(`partition count must be an integer in [1, 2^21), got ${n}`);
  }
  return ((hi % n) * (2 ** 32 % n) + (lo % n)) % n;
}
