import { readFileSync } from 'node:fs';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import {
  Downsampler,
  RES_5M,
  SampleBuffer,
  targetChunkCount,
  windowEnd,
} from '../src/downsample/downsample.js';
import { isStorageError, StorageErrorCode } from '../src/errors.js';
import { ValueType } from '../src/model.js';
import {
  AGGR_ENCODING,
  AggrChunkView,
  AggrIterator,
  AggrType,
  CounterSeriesIterator,
  encodeAggrChunk,
} from '../src/tsz/aggr.js';
import { encodeXorChunk, XOR_ENCODING } from '../src/tsz/xor.js';

interface GoldenCase {
  name: string;
  resolution: number;
  t: number[];
  v: number[];
  chunks: { minTime: number; maxTime: number; hex: string }[];
}
const golden: GoldenCase[] = JSON.parse(
  readFileSync(new URL('./golden/aggr-chunks.json', import.meta.url), 'utf8'),
);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function samplesOf(it: AggrIterator | CounterSeriesIterator): [number, number][] {
  const out: [number, number][] = [];
  while (it.next() === ValueType.Float) out.push([it.atT(), it.at()]);
  expect(it.err()).toBeUndefined();
  return out;
}

function bufferOf(ts: number[], vs: number[]): SampleBuffer {
  const b = new SampleBuffer();
  for (let i = 0; i < ts.length; i++) b.push(ts[i]!, vs[i]!);
  return b;
}

/** The window aggregates computed the slow, obvious way. */
function naiveWindows(ts: number[], vs: number[], res: number): Map<number, number[]> {
  const w = new Map<number, number[]>();
  for (let i = 0; i < ts.length; i++) {
    const end = windowEnd(ts[i]!, res);
    if (!w.has(end)) w.set(end, []);
    w.get(end)!.push(vs[i]!);
  }
  return w;
}

describe('AggrChunk golden vectors from Thanos DownsampleRaw', () => {
  expect(golden.length).toBe(5);
  for (const g of golden) {
    it(`downsamples ${g.name} to Thanos' bytes`, () => {
      const got = new Downsampler().rawSamples(bufferOf(g.t, g.v), g.resolution);
      expect(got.map((c) => ({ minTime: c.minTime, maxTime: c.maxTime, hex: hex(c.bytes) }))).toEqual(
        g.chunks,
      );
      for (const c of got) expect(c.encoding).toBe(AGGR_ENCODING);
    });

    it(`decodes ${g.name} to the window aggregates`, () => {
      const windows = naiveWindows(g.t, g.v, g.resolution);
      const it = new AggrIterator();
      let seen = 0;
      for (const c of g.chunks) {
        const bytes = unhex(c.hex);
        it.reset(bytes, AggrType.Count);
        const counts = samplesOf(it);
        it.reset(bytes, AggrType.Sum);
        const sums = samplesOf(it);
        it.reset(bytes, AggrType.Min);
        const mins = samplesOf(it);
        it.reset(bytes, AggrType.Max);
        const maxs = samplesOf(it);
        expect(new AggrChunkView(bytes).numSamples()).toBe(counts.length);
        for (let i = 0; i < counts.length; i++) {
          const [t, n] = counts[i]!;
          // The last window of a chunk is stamped with its last sample's time.
          const end = windowEnd(t, g.resolution);
          const vs = windows.get(end)!;
          expect(n).toBe(vs.length);
          expect(sums[i]![1]).toBe(vs.reduce((a, b) => a + b, 0));
          expect(mins[i]![1]).toBe(Math.min(...vs));
          expect(maxs[i]![1]).toBe(Math.max(...vs));
          seen += n;
        }
      }
      expect(seen).toBe(g.t.length);
    });
  }

  it('reads the counter with resets applied across chunks, ending on the true last value', () => {
    const g = golden.find((c) => c.name.startsWith('counter-resets'))!;
    const it = new CounterSeriesIterator();
    it.reset(g.chunks.map((c) => unhex(c.hex)));
    const got = samplesOf(it);
    // The first sample is the first raw value; the total grows by every increase and every reset's value.
    expect(got[0]).toEqual([g.t[0], g.v[0]]);
    let total = g.v[0]!;
    for (let i = 1; i < g.v.length; i++) total += g.v[i]! < g.v[i - 1]! ? g.v[i]! : g.v[i]! - g.v[i - 1]!;
    expect(got[got.length - 1]![1]).toBeCloseTo(total, 9);
    for (let i = 1; i < got.length; i++) expect(got[i]![1]).toBeGreaterThanOrEqual(got[i - 1]![1]);
    expect(it.lastRaw).toBe(g.v[g.v.length - 1]);
  });
});

describe('AggrChunk codec', () => {
  it('round-trips random sub-chunks, absent ones included, and reuses one view and iterator', () => {
    const rnd = seededRandom(13);
    const view = new AggrChunkView();
    const it = new AggrIterator();
    for (let round = 0; round < 50; round++) {
      const series: ([number[], number[]] | undefined)[] = [];
      for (let t = 0; t < 5; t++) {
        if (rnd() < 0.2) {
          series.push(undefined);
          continue;
        }
        const n = 1 + Math.floor(rnd() * 200);
        const ts: number[] = [];
        const vs: number[] = [];
        let time = Math.floor(rnd() * 1e12);
        for (let i = 0; i < n; i++) {
          time += Math.floor(rnd() * 400000);
          ts.push(time);
          vs.push(rnd() < 0.5 ? Math.floor(rnd() * 100) : (rnd() - 0.5) * 1e6);
        }
        series.push([ts, vs]);
      }
      const bytes = encodeAggrChunk(
        series.map((s) =>
          s === undefined ? undefined : { encoding: XOR_ENCODING, bytes: encodeXorChunk(...s) },
        ),
      );
      view.reset(bytes);
      for (let t = 0; t < 5; t++) {
        const s = series[t];
        expect(view.has(t as AggrType)).toBe(s !== undefined);
        it.reset(bytes, t as AggrType);
        const got = samplesOf(it);
        expect(got).toEqual(s === undefined ? [] : s[0].map((x, i) => [x, s[1][i]]));
      }
    }
  });

  it('writes an absent aggregate as one zero byte', () => {
    const sub = encodeXorChunk([1000], [2]);
    const bytes = encodeAggrChunk([
      { encoding: XOR_ENCODING, bytes: sub },
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(hex(bytes)).toBe(`${sub.length.toString(16).padStart(2, '0')}01${hex(sub)}00000000`);
  });

  it('rejects truncated chunks with corrupt, through the view and as an iterator error', () => {
    const g = unhex(golden[0]!.chunks[0]!.hex);
    for (const cut of [0, 1, 10, g.length - 5]) {
      const bad = g.subarray(0, cut);
      expect(() => new AggrChunkView(bad)).toThrow(
        expect.objectContaining({ code: StorageErrorCode.Corrupt }),
      );
      const it = new AggrIterator();
      it.reset(bad, AggrType.Max);
      expect(it.next()).toBe(ValueType.None);
      expect(isStorageError(it.err(), StorageErrorCode.Corrupt)).toBe(true);
    }
  });

  it('rejects a part count other than five', () => {
    expect(() => encodeAggrChunk([undefined])).toThrow(
      expect.objectContaining({ code: StorageErrorCode.InvalidArgument }),
    );
  });
});

describe('chunk sizing', () => {
  it('follows Thanos: at most about 140 windows a chunk', () => {
    // Two days of one-minute samples at 5m: 576 windows in 5 chunks.
    expect(targetChunkCount(0, 2 * 86400000, 60000, RES_5M, 2 * 1440)).toBe(5);
    // Sparse data: a tenth of the minutes filled.
    expect(targetChunkCount(0, 2 * 86400000, 60000, RES_5M, 288)).toBe(1);
    // A single sample.
    expect(targetChunkCount(5, 5, 60000, RES_5M, 1)).toBe(1);
  });
});
