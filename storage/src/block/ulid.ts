import { createHash } from 'node:crypto';
import { StorageError, StorageErrorCode } from '../errors.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID from a time and a seed: the same inputs give the same ULID, so a
 * block rebuilt from the same data lands under the same name. The 80 random
 * bits are the first 80 bits of SHA-256(seed).
 */
export function deterministicUlid(timeMs: number, seed: string | Uint8Array): string {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0 || timeMs >= 2 ** 48) {
    throw new StorageError(StorageErrorCode.InvalidArgument, `ULID time ${timeMs} is outside 0..2^48`);
  }
  const bytes = new Uint8Array(16);
  let t = timeMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(createHash('sha256').update(seed).digest().subarray(0, 10), 6);
  // 128 bits as 26 base32 digits: the first digit holds the top 3 bits.
  let out = '';
  let acc = 0;
  let bits = 2; // 130 bits of output minus 128 bits of input: two leading zero bits.
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** Whether a string is a ULID (26 Crockford base32 digits, first digit 0-7). */
export function isUlid(s: string): boolean {
  return /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(s);
}

/** The time in milliseconds a ULID carries. */
export function ulidTime(s: string): number {
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + CROCKFORD.indexOf(s[i]!);
  return t;
}
