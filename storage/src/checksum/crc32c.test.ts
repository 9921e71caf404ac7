import { describe, expect, it } from 'vitest';
import { crc32c, crc32cTable, nativeCrc32c } from './crc32c.js';

/** The CRC-32C one bit at a time, the reference both implementations are held to. */
function bitwise(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check value and a bitwise reference on data of every length class', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32cTable(Buffer.from('123456789'))).toBe(0xe3069283);
    for (let n = 0; n < 40; n++) {
      const b = Buffer.alloc(n * 7 + 3);
      for (let i = 0; i < b.length; i++) b[i] = (i * 31 + n * 17) & 0xff;
      expect(crc32c(b)).toBe(bitwise(b));
      expect(crc32cTable(b)).toBe(bitwise(b));
    }
  });

  it('gives the same sums natively and by table, and notices a flipped bit', () => {
    // linux-x64 ships a prebuilt binary: the fast path must be the one in use there.
    if (process.platform === 'linux' && process.arch === 'x64') expect(nativeCrc32c).toBe(true);
    const b = Buffer.alloc(1 << 20);
    for (let i = 0; i < b.length; i++) b[i] = (i * 7919 + (i >>> 11)) & 0xff;
    expect(crc32c(b)).toBe(crc32cTable(b));
    for (const [start, end] of [
      [0, 63],
      [1, 65],
      [21, 4096],
      [1000, b.length],
      [b.length - 100, b.length - 1],
    ] as const) {
      expect(crc32c(b.subarray(start, end))).toBe(crc32cTable(b.subarray(start, end)));
    }
    const before = crc32c(b.subarray(21));
    b[12345] = (b[12345] as number) ^ 1;
    expect(crc32c(b.subarray(21))).not.toBe(before);
    expect(crc32c(b.subarray(21))).toBe(crc32cTable(b.subarray(21)));
  });

  it('continues a sum across pieces, natively and by table', () => {
    const b = Buffer.alloc(5000);
    for (let i = 0; i < b.length; i++) b[i] = (i * 131 + 7) & 0xff;
    const whole = bitwise(b);
    for (const cut of [0, 1, 63, 64, 65, 2500, 4999, 5000]) {
      const head = b.subarray(0, cut);
      const tail = b.subarray(cut);
      expect(crc32c(tail, crc32c(head))).toBe(whole);
      expect(crc32cTable(tail, crc32cTable(head))).toBe(whole);
    }
  });
});
