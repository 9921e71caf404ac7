import { createRequire } from 'node:module';

/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of
 * every TSDB index section and chunk, and of a Kafka record batch (the
 * broker checks it on every produced batch). The native SIMD
 * implementation of `@node-rs/crc32` runs at several GB/s (the table loop
 * below at about 0.45 GB/s, which made the check the largest CPU cost of a
 * 1 MB produce); the table loop is the fallback on a platform without a
 * prebuilt binary and the reference the tests compare against.
 */
type NativeCrc = (input: Uint8Array, initialState?: number) => number;

const native: NativeCrc | null = (() => {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc };
    const f = mod.crc32c;
    // The check value of the algorithm: refuse a binary that disagrees.
    return typeof f === 'function' && f(Buffer.from('123456789')) === 0xe3069283 ? f : null;
  } catch {
    return null;
  }
})();

/** Whether the native implementation is in use (for the tests). */
export const nativeCrc32c = native !== null;

/**
 * The CRC-32C of bytes, as an unsigned 32-bit number, continuing from `crc`
 * (the CRC-32C of the bytes before them; 0 to start).
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  if (native !== null && bytes.length >= NATIVE_MIN) return native(bytes, crc) >>> 0;
  return crc32cTable(bytes, crc);
}

/** Below this many bytes the table loop is cheaper than the call into native code. */
const NATIVE_MIN = 64;

/*
 * Slicing-by-8: eight 256-entry tables let the loop take eight bytes per step.
 */
const TABLES: Uint32Array[] = (() => {
  const tables: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t0[i] = c >>> 0;
  }
  tables.push(t0);
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1] as Uint32Array;
    const next = new Uint32Array(256);
    for (let i = 0; i < 256; i++)
      next[i] = (t0[(prev[i] as number) & 0xff] as number) ^ ((prev[i] as number) >>> 8);
    tables.push(next);
  }
  return tables;
})();

/** The table-driven CRC-32C of bytes, continuing from `crc` (the portable implementation). */
export function crc32cTable(buf: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  const end = buf.length;
  let c = ~crc >>> 0;
  let i = 0;
  for (; i + 8 <= end; i += 8) {
    const a =
      c ^
      ((buf[i] as number) |
        ((buf[i + 1] as number) << 8) |
        ((buf[i + 2] as number) << 16) |
        ((buf[i + 3] as number) << 24));
    c =
      (t7[a & 0xff] as number) ^
      (t6[(a >>> 8) & 0xff] as number) ^
      (t5[(a >>> 16) & 0xff] as number) ^
      (t4[a >>> 24] as number) ^
      (t3[buf[i + 4] as number] as number) ^
      (t2[buf[i + 5] as number] as number) ^
      (t1[buf[i + 6] as number] as number) ^
      (t0[buf[i + 7] as number] as number);
  }
  for (; i < end; i++) c = (t0[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
