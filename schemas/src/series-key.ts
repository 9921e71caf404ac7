import type { Label } from '@promstream/storage';

/**
 * The record key of a series: FNV-1a 64 over its sorted label pairs, each
 * written as `name 0xff value 0xff` in UTF-8 (the separator Prometheus uses,
 * a byte that never occurs in UTF-8). The key is the 8-byte big-endian hash;
 * the partition is the hash, read as an unsigned 64-bit integer, modulo the
 * partition count. FNV-1a was chosen because it is short to specify and
 * byte-at-a-time; the 64-bit product is computed on four 16-bit limbs so no
 * BigInt is needed per byte.
 */

/** FNV-1a 64 offset basis 0xcbf29ce484222325, as 16-bit limbs, least significant first. */
const BASIS = [0x2325, 0x8422, 0x9ce4, 0xcbf2] as const;

/** The running state of one hash. */
class Fnv64 {
  h0: number = BASIS[0];
  h1: number = BASIS[1];
  h2: number = BASIS[2];
  h3: number = BASIS[3];

  /** Mixes one byte: xor into the low limb, then multiply by the prime 2^40 + 0x1b3 modulo 2^64. */
  byte(b: number): void {
    const h0 = this.h0 ^ b;
    const h1 = this.h1;
    let t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = this.h2 * 0x1b3 + (h0 << 8);
    let t3 = this.h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    t0 &= 0xffff;
    t2 += t1 >>> 16;
    t1 &= 0xffff;
    t3 += t2 >>> 16;
    t2 &= 0xffff;
    this.h0 = t0;
    this.h1 = t1;
    this.h2 = t2;
    this.h3 = t3 & 0xffff;
  }

  /** Mixes a string as UTF-8 (lone surrogates as U+FFFD, as Buffer.from does). */
  string(s: string): void {
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        this.byte(c);
        continue;
      }
      if (c < 0x800) {
        this.byte(0xc0 | (c >> 6));
        this.byte(0x80 | (c & 0x3f));
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          this.byte(0xf0 | (c >> 18));
          this.byte(0x80 | ((c >> 12) & 0x3f));
          this.byte(0x80 | ((c >> 6) & 0x3f));
          this.byte(0x80 | (c & 0x3f));
          continue;
        }
        c = 0xfffd;
      }
      this.byte(0xe0 | (c >> 12));
      this.byte(0x80 | ((c >> 6) & 0x3f));
      this.byte(0x80 | (c & 0x3f));
    }
  }

  labels(labels: readonly Label[]): void {
    for (const l of labels) {
      this.string(l.name);
      this.byte(0xff);
      this.string(l.value);
      this.byte(0xff);
    }
  }

  /** High and low 32 bits, unsigned. */
  hi(): number {
    return this.h3 * 0x10000 + this.h2;
  }
  lo(): number {
    return this.h1 * 0x10000 + this.h0;
  }
}

/** The 64-bit series hash as a BigInt (for tests and tools; the hot paths use the key bytes). */
export function seriesHash(labels: readonly Label[]): bigint {
  const h = new Fnv64();
  h.labels(labels);
  return (BigInt(h.hi()) << 32n) | BigInt(h.lo());
}

/** The Kafka record key of a series: its hash, 8 bytes big-endian. Labels must be sorted by name. */
export function seriesKey(labels: readonly Label[]): Buffer {
  const h = new Fnv64();
  h.labels(labels);
  const key = Buffer.allocUnsafe(8);
  key.writeUInt32BE(h.hi(), 0);
  key.writeUInt32BE(h.lo(), 4);
  return key;
}

/** The partition a series belongs on: its hash modulo the partition count. */
export function partitionFor(labels: readonly Label[], numPartitions: number): number {
  const h = new Fnv64();
  h.labels(labels);
  return modulo(h.hi(), h.lo(), numPartitions);
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
