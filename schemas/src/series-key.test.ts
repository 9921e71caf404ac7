import type { Label } from '@promstream/storage';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { partitionFor, partitionForKey, seriesHash, seriesKey } from './series-key.js';

/** FNV-1a 64 written the obvious way with BigInt, over the bytes the key is specified on. */
function reference(labels: Label[]): bigint {
  const parts: Buffer[] = [];
  for (const l of labels)
    parts.push(Buffer.from(l.name), Buffer.from([0xff]), Buffer.from(l.value), Buffer.from([0xff]));
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.concat(parts)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

function randomString(rand: () => number): string {
  const pool = ['a', 'Z', '_', '0', ' ', 'é', '€', '😀', '\ud800', '\udc00', '\u0000', '\u07ff', '\uffff'];
  let s = '';
  const n = Math.floor(rand() * 12);
  for (let i = 0; i < n; i++) s += pool[Math.floor(rand() * pool.length)];
  return s;
}

describe('seriesKey', () => {
  it('matches golden vectors', () => {
    // FNV-1a 64 of the empty input is the offset basis.
    expect(seriesKey([]).toString('hex')).toBe('cbf29ce484222325');
    // Checked against the BigInt reference below; pinned so a change of the key is noticed.
    const up = [
      { name: '__name__', value: 'up' },
      { name: 'job', value: 'node' },
    ];
    expect(seriesKey(up).toString('hex')).toBe(reference(up).toString(16).padStart(16, '0'));
    expect(seriesKey(up).toString('hex')).toBe('7bfed62635f64858');
  });

  it('agrees with a BigInt FNV-1a 64 on random label sets, including non-ASCII and lone surrogates', () => {
    const rand = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const labels: Label[] = [];
      const n = Math.floor(rand() * 5);
      for (let j = 0; j < n; j++) labels.push({ name: randomString(rand), value: randomString(rand) });
      expect(seriesHash(labels)).toBe(reference(labels));
      expect(seriesKey(labels).readBigUInt64BE(0)).toBe(reference(labels));
    }
  });

  it('agrees with the BigInt reference on ASCII-only label sets (the fast path)', () => {
    const rand = seededRandom(13);
    const ascii = (): string => {
      let s = '';
      const n = Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rand() * 0x80));
      return s;
    };
    for (let i = 0; i < 3000; i++) {
      const labels: Label[] = [];
      const n = Math.floor(rand() * 8);
      for (let j = 0; j < n; j++) labels.push({ name: ascii(), value: ascii() });
      expect(seriesKey(labels).readBigUInt64BE(0)).toBe(reference(labels));
      expect(partitionFor(labels, 8)).toBe(Number(reference(labels) % 8n));
    }
  });

  it('separates name from value so shifted boundaries hash differently', () => {
    expect(seriesKey([{ name: 'ab', value: 'c' }])).not.toEqual(seriesKey([{ name: 'a', value: 'bc' }]));
  });
});

describe('partitionFor', () => {
  it('is the hash modulo the partition count', () => {
    const rand = seededRandom(11);
    for (let i = 0; i < 500; i++) {
      const labels = [
        { name: 'i', value: String(i) },
        { name: 'x', value: randomString(rand) },
      ];
      for (const n of [1, 3, 12, 64, 1000, 2 ** 20]) {
        const want = Number(reference(labels) % BigInt(n));
        expect(partitionFor(labels, n)).toBe(want);
        expect(partitionForKey(seriesKey(labels), n)).toBe(want);
      }
    }
  });

  it('spreads series over partitions', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionFor([{ name: 'series', value: String(i) }], 8)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('rejects a bad partition count or key', () => {
    expect(() => partitionFor([], 0)).toThrow(RangeError);
    expect(() => partitionFor([], 1.5)).toThrow(RangeError);
    expect(() => partitionForKey(Buffer.alloc(4), 3)).toThrow(RangeError);
  });
});
