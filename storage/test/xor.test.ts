import { readFileSync } from 'node:fs';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { isStorageError, StorageErrorCode } from '../src/errors.js';
import { isStaleNaN, STALE_NAN, ValueType } from '../src/model.js';
import { decodeXorChunk, encodeXorChunk, XorAppender, XorIterator } from '../src/tsz/xor.js';
import { DECODER_PRIMER } from '../src/tsz/xor-decode.js';

interface GoldenChunk {
  series: string;
  hex: string;
  ts: number[];
  vs: string[];
}
const golden: { chunks: GoldenChunk[] } = JSON.parse(
  readFileSync(new URL('./golden/xor-chunks.json', import.meta.url), 'utf8'),
);

function bitsOf(v: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return dv.getBigUint64(0);
}

function fromBits(b: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, b);
  return dv.getFloat64(0);
}

function roundTrip(ts: number[], vs: number[]): void {
  const bytes = encodeXorChunk(ts, vs);
  const it = new XorIterator(bytes);
  expect(it.numSamples).toBe(ts.length);
  let i = 0;
  while (it.next() === ValueType.Float) {
    expect(it.atT()).toBe(ts[i]);
    if (isStaleNaN(vs[i]!)) expect(bitsOf(it.at())).toBe(0x7ff0000000000002n);
    else expect(bitsOf(it.at())).toBe(bitsOf(vs[i]!));
    i++;
  }
  expect(it.err()).toBeUndefined();
  expect(i).toBe(ts.length);
}

describe('XOR chunk golden vectors from promtool', () => {
  for (const g of golden.chunks) {
    it(`encodes ${g.series} to promtool's bytes`, () => {
      const bytes = encodeXorChunk(g.ts, g.vs.map(Number));
      expect(Buffer.from(bytes).toString('hex')).toBe(g.hex);
    });
    it(`decodes ${g.series} to promtool's samples`, () => {
      const d = decodeXorChunk(Buffer.from(g.hex, 'hex'));
      expect(Array.from(d.ts)).toEqual(g.ts);
      expect(Array.from(d.vs)).toEqual(g.vs.map(Number));
    });
  }
  it('has the four shapes', () => {
    expect(golden.chunks.length).toBe(4);
  });
});

describe('XOR chunk round trips', () => {
  it('keeps the stale marker and other NaN payloads bit for bit', () => {
    const odd = fromBits(0x7ff8000000000123n);
    const vs = [1, STALE_NAN, 2, Number.NaN, odd, STALE_NAN, -0, 0, Number.POSITIVE_INFINITY, -Infinity];
    const ts = vs.map((_, i) => 1000 + i * 15000);
    roundTrip(ts, vs);
    const d = decodeXorChunk(encodeXorChunk(ts, vs));
    expect(isStaleNaN(d.vs[1]!)).toBe(true);
    expect(isStaleNaN(d.vs[3]!)).toBe(false);
    expect(bitsOf(d.vs[4]!)).toBe(0x7ff8000000000123n);
  });

  it("writes Prometheus' exact stale marker bits, also from a quieted marker", () => {
    for (const v of [STALE_NAN, fromBits(0x7ff8000000000002n)]) {
      const bytes = encodeXorChunk([1], [v]);
      // Header (2 bytes), zig-zag varint of t=1 (1 byte), then the raw float64.
      expect(Buffer.from(bytes.subarray(3, 11)).toString('hex')).toBe('7ff0000000000002');
      const it = new XorIterator(bytes);
      expect(it.next()).toBe(ValueType.Float);
      expect(isStaleNaN(it.at())).toBe(true);
    }
  });

  it('handles every delta-of-delta width and negative times', () => {
    const ts = [-5000, -4000];
    const steps = [1000, 1000, 9192, 1000, -7000 + 9192, 70000, 600000, 2 ** 40, 1, 0, 0, 8193, 8192, 1];
    let t = -4000;
    let prev = 1000;
    for (const d of steps) {
      const delta = Math.max(0, prev + (d - prev));
      t += delta;
      prev = delta;
      ts.push(t);
    }
    roundTrip(
      ts,
      ts.map((_, i) => i * 1.5),
    );
  });

  it('round-trips the largest safe times, positive and negative', () => {
    const big = 2 ** 53 - 1;
    for (const t0 of [big, -big, 2 ** 52 + 1, -(2 ** 52) - 1, -(2 ** 52), 63, 64, -64, -65]) {
      roundTrip([t0], [1]);
      roundTrip(t0 > 0 ? [t0 - 20, t0 - 10, t0] : [t0, t0 + 10, t0 + 20], [1, 2, 3]);
    }
  });

  it('round-trips every delta-of-delta at the edges of each width', () => {
    const edges = [8191, 8192, 8193, -8191, -8192, 65535, 65536, 65537, -65535, -65536];
    edges.push(524287, 524288, 524289, -524287, -524288, 2 ** 40, -(2 ** 40));
    for (const dod of edges) {
      // Deltas 10^13 then 10^13 + dod: the third sample carries exactly `dod`.
      const ts = [0, 1e13, 2e13 + dod, 3e13 + 2 * dod];
      roundTrip(ts, [1, 2, 3, 4]);
    }
  });

  it('round-trips random shapes', () => {
    const r = seededRandom(42);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 300);
      const ts: number[] = [];
      const vs: number[] = [];
      let t = Math.floor(r() * 2e12) - 1e12;
      let v = r() * 1000;
      for (let i = 0; i < n; i++) {
        const mode = r();
        t += mode < 0.7 ? 15000 : mode < 0.9 ? Math.floor(r() * 20000) : Math.floor(r() * 1e9);
        const vm = r();
        v =
          vm < 0.3
            ? v
            : vm < 0.6
              ? v + Math.floor(r() * 10)
              : vm < 0.9
                ? r() * 1e6 - 5e5
                : fromBits((BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32)));
        ts.push(t);
        vs.push(v);
      }
      roundTrip(ts, vs);
    }
  });

  it('reuses one iterator across chunks and seeks forward only', () => {
    const a = encodeXorChunk([10, 20, 30], [1, 2, 3]);
    const b = encodeXorChunk([100, 200, 300, 400], [5, 6, 7, 8]);
    const it = new XorIterator();
    it.reset(a);
    expect(it.seek(15)).toBe(ValueType.Float);
    expect(it.atT()).toBe(20);
    expect(it.seek(5)).toBe(ValueType.Float);
    expect(it.atT()).toBe(20);
    expect(it.seek(31)).toBe(ValueType.None);
    it.reset(b);
    expect(it.next()).toBe(ValueType.Float);
    expect([it.atT(), it.at()]).toEqual([100, 5]);
    expect(it.seek(300)).toBe(ValueType.Float);
    expect(it.at()).toBe(7);
    expect(it.next()).toBe(ValueType.Float);
    expect(it.next()).toBe(ValueType.None);
    expect(it.err()).toBeUndefined();
  });

  it('hands out bytes that never change as more samples are appended', () => {
    const r = seededRandom(3);
    const app = new XorAppender();
    const ts: number[] = [];
    const vs: number[] = [];
    const taken: { bytes: Uint8Array; copy: Uint8Array; n: number }[] = [];
    for (let i = 0; i < 400; i++) {
      ts.push(i * 15000 + Math.floor(r() * 50));
      vs.push(i % 3 === 0 ? (vs[i - 1] ?? 0) : r() * 1e6);
      app.append(ts[i]!, vs[i]!);
      // Twice in a row sometimes: a second look must not disturb the first.
      const reps = i % 7 === 0 ? 2 : 1;
      for (let k = 0; k < reps; k++) {
        const bytes = app.bytes();
        taken.push({ bytes, copy: Uint8Array.from(bytes), n: i + 1 });
      }
    }
    for (const { bytes, copy, n } of taken) {
      expect(bytes).toEqual(copy);
      const d = decodeXorChunk(bytes);
      expect(Array.from(d.ts)).toEqual(ts.slice(0, n));
      expect(Array.from(d.vs)).toEqual(vs.slice(0, n));
    }
  });

  it('counts samples in the header as appended', () => {
    const app = new XorAppender();
    expect(app.bytes()).toEqual(new Uint8Array([0, 0]));
    for (let i = 0; i < 300; i++) app.append(i * 1000, i);
    expect(app.numSamples).toBe(300);
    const bytes = app.bytes();
    expect((bytes[0]! << 8) | bytes[1]!).toBe(300);
  });
});

describe('XOR chunk bad input', () => {
  it('rejects time going backwards with out_of_order', () => {
    const app = new XorAppender();
    app.append(1000, 1);
    expect(() => app.append(999, 1)).toThrowError(
      expect.objectContaining({ code: StorageErrorCode.OutOfOrder }),
    );
  });

  it('rejects non-integer times', () => {
    const app = new XorAppender();
    expect(() => app.append(1.5, 1)).toThrowError(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('reports every truncation as corrupt without throwing', () => {
    const g = golden.chunks[2]!;
    const full = Buffer.from(g.hex, 'hex');
    const it = new XorIterator();
    for (let cut = 0; cut < full.length - 1; cut++) {
      it.reset(full.subarray(0, cut));
      let n = 0;
      while (it.next() !== ValueType.None) n++;
      expect(n).toBeLessThan(g.ts.length);
      expect(isStorageError(it.err(), StorageErrorCode.Corrupt)).toBe(true);
    }
  });

  it('never throws on random corruption (fuzz)', () => {
    const r = seededRandom(7);
    const it = new XorIterator();
    for (const g of golden.chunks) {
      const full = Buffer.from(g.hex, 'hex');
      for (let trial = 0; trial < 500; trial++) {
        const b = Uint8Array.from(full);
        const flips = 1 + Math.floor(r() * 4);
        for (let f = 0; f < flips; f++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        it.reset(b);
        let n = 0;
        while (it.next() !== ValueType.None) n++;
        expect(n).toBeLessThanOrEqual(0xffff);
        const e = it.err();
        if (e !== undefined) expect(isStorageError(e, StorageErrorCode.Corrupt)).toBe(true);
      }
    }
  });
});

/**
 * A plain reading of the format (storage/docs/xor-chunk.md), one bit at a
 * time with BigInt values: the reference the fast decoder is checked against.
 */
function referenceDecode(bytes: Uint8Array): {
  ts: bigint[];
  exact: boolean[];
  bits: bigint[];
  ok: boolean;
} {
  const ts: bigint[] = [];
  // Whether every time and delta so far is a safe integer, where float64 sums are exact.
  const exact: boolean[] = [];
  const safe = (x: bigint) => x >= -(2n ** 53n) && x <= 2n ** 53n;
  let allSafe = true;
  const bits: bigint[] = [];
  if (bytes.length < 2) return { ts, exact, bits, ok: false };
  const total = (bytes[0]! << 8) | bytes[1]!;
  const end = bytes.length * 8;
  let pos = 16;
  const bit = (): number => {
    if (pos >= end) throw new RangeError('end');
    const b = (bytes[pos >>> 3]! >>> (7 - (pos & 7))) & 1;
    pos++;
    return b;
  };
  const read = (n: number): bigint => {
    let x = 0n;
    for (let i = 0; i < n; i++) x = (x << 1n) | BigInt(bit());
    return x;
  };
  const uvarint = (): bigint => {
    let x = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = read(8);
      x |= (b & 0x7fn) << shift;
      if (b < 0x80n) return x;
    }
    throw new RangeError('varint');
  };
  let t = 0n;
  let delta = 0n;
  let v = 0n;
  let leading = 0n;
  let trailing = 0n;
  try {
    for (let n = 0; n < total; n++) {
      if (n === 0) {
        const zz = uvarint();
        t = zz & 1n ? -((zz + 1n) >> 1n) : zz >> 1n;
        v = read(64);
      } else {
        if (n === 1) {
          delta = uvarint();
        } else {
          let width = 0;
          if (bit() === 1) width = bit() === 0 ? 14 : bit() === 0 ? 17 : bit() === 0 ? 20 : 64;
          if (width > 0) {
            let dod = read(width);
            if (width < 64 && dod > 1n << BigInt(width - 1)) dod -= 1n << BigInt(width);
            if (width === 64) dod = BigInt.asIntN(64, dod);
            delta += dod;
          }
        }
        t += delta;
        if (bit() === 1) {
          if (bit() === 1) {
            leading = read(5);
            let sig = read(6);
            if (sig === 0n) sig = 64n;
            trailing = 64n - leading - sig;
            if (trailing < 0n) return { ts, exact, bits, ok: false };
          }
          v ^= read(Number(64n - leading - trailing)) << trailing;
        }
      }
      allSafe &&= safe(t) && safe(delta);
      ts.push(t);
      exact.push(allSafe);
      bits.push(v);
    }
  } catch {
    return { ts, exact, bits, ok: false };
  }
  return { ts, exact, bits, ok: true };
}

describe('XOR decoder primer', () => {
  it('is the chunk of its documented samples', () => {
    const ts = [1000, 2000];
    const dods = [0, 100, -50, 30000, -30000, 300000, 5000000000, 0, 0, -7, 0];
    let t = 2000;
    let d = 1000;
    for (const dd of dods) {
      d += dd;
      t += d;
      ts.push(t);
    }
    const vs = [1, 1, 2, 3, 1e6 + 0.5, 1e6 + 0.25, -1e6, 1e6, 5e-324, 1.5, 1.5, 2 ** 40, 2 ** 40 + 1];
    expect(encodeXorChunk(ts, vs)).toEqual(DECODER_PRIMER);
    const d2 = decodeXorChunk(DECODER_PRIMER);
    expect(Array.from(d2.ts)).toEqual(ts);
    expect(Array.from(d2.vs)).toEqual(vs);
  });
});

describe('XOR chunk decoder against a plain reading of the format', () => {
  function check(bytes: Uint8Array, it: XorIterator): void {
    const ref = referenceDecode(bytes);
    it.reset(bytes);
    let n = 0;
    while (it.next() === ValueType.Float) {
      // Times are float64 numbers: exact within ±2^53 ms (random bytes go beyond).
      if (ref.exact[n]) expect(it.atT()).toBe(Number(ref.ts[n]));
      expect(bitsOf(it.at())).toBe(ref.bits[n]);
      n++;
    }
    expect(n).toBe(ref.ts.length);
    if (ref.ok) expect(it.err()).toBeUndefined();
    else expect(isStorageError(it.err(), StorageErrorCode.Corrupt)).toBe(true);
  }

  it('agrees on random chunks, whole and cut', () => {
    const r = seededRandom(11);
    const it = new XorIterator();
    for (let trial = 0; trial < 150; trial++) {
      const app = new XorAppender();
      let t = Math.floor(r() * 2e12);
      let v = r() * 100;
      const n = 1 + Math.floor(r() * 150);
      for (let i = 0; i < n; i++) {
        const m = r();
        t += m < 0.5 ? 15000 : m < 0.8 ? 15000 + Math.floor(r() * 100) - 50 : Math.floor(r() * 3e6);
        const q = r();
        v =
          q < 0.3
            ? v
            : q < 0.6
              ? v + 1
              : q < 0.9
                ? r() * 1e6
                : fromBits(BigInt(Math.floor(r() * 2 ** 53)) << 11n);
        app.append(t, v);
      }
      const bytes = app.bytes();
      check(bytes, it);
      check(bytes.subarray(0, Math.floor(r() * bytes.length)), it);
    }
  });

  it('agrees on random bytes', () => {
    const r = seededRandom(12);
    const it = new XorIterator();
    for (let trial = 0; trial < 1500; trial++) {
      const b = new Uint8Array(Math.floor(r() * 64));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
      // Mostly small sample counts, so that chunks end inside their samples and past them.
      if (b.length >= 2 && r() < 0.8) {
        b[0] = 0;
        b[1] = Math.floor(r() * 40);
      }
      check(b, it);
    }
  });
});

describe('XOR chunk of one sample', () => {
  it('writes the same bytes as the appender for any time and value', () => {
    const f = new Float64Array(1);
    const u = new Uint32Array(f.buffer);
    const times = [
      0,
      1,
      -1,
      63,
      64,
      -64,
      -65,
      1_767_225_600_000,
      -1_767_225_600_000,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
    ];
    const values = [0, -0, 1.5, -2.25e300, Number.NaN, STALE_NAN, Number.POSITIVE_INFINITY, 5e-324];
    let seed = 7;
    for (let i = 0; i < 150; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      u[0] = seed;
      u[1] = Math.imul(seed, 2654435761) >>> 0;
      values.push(f[0]!);
      times.push(Math.floor((seed / 2 ** 32 - 0.5) * 2 ** (seed % 54)));
    }
    for (const t of times) {
      for (const v of values) {
        const app = new XorAppender();
        app.append(t, v);
        expect(encodeXorChunk([t], [v]), `t=${t} v=${v}`).toEqual(app.bytes());
      }
    }
  });

  it('rejects a non-integer time like the appender', () => {
    expect(() => encodeXorChunk([1.5], [1])).toThrowError(/not an integer/);
  });
});
