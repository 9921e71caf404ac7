import { createHash } from 'node:crypto';

/**
 * Deterministic block ids. A block's ULID keeps the ULID layout (48-bit
 * millisecond time, then 80 bits) so Thanos tools sort and parse it, but the
 * 80 bits come from a hash of where the block was built from instead of a
 * random source: building a block again from the same offsets gives the same
 * id, so the upload lands at the same place.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Where a block came from: everything its id is derived from. */
export interface BlockOrigin {
  topic: string;
  partition: number;
  tenant: string;
  /** First log offset that contributed a sample. */
  firstOffset: number;
  /** Last log offset that contributed a sample. */
  lastOffset: number;
  /** The block's minimum time (ms); becomes the ULID time part. */
  minTime: number;
}

/** The ULID of a block built from the given origin. */
export function blockUlid(origin: BlockOrigin): string {
  const digest = createHash('sha256')
    .update(
      `${origin.topic}\0${origin.partition}\0${origin.tenant}\0${origin.firstOffset}\0${origin.lastOffset}\0${origin.minTime}`,
    )
    .digest();
  const bytes = new Uint8Array(16);
  // 48-bit big-endian time, as in the ULID spec; times before the epoch clamp to 0.
  let t = Math.max(0, Math.floor(origin.minTime));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(digest.subarray(0, 10), 6);
  return encodeCrockford(bytes);
}

/** Encodes 128 bits as 26 Crockford base32 characters (the first carries 3 bits). */
function encodeCrockford(bytes: Uint8Array): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}
