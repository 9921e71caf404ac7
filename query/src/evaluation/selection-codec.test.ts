import {
  AGGR_ENCODING,
  AggrType,
  BucketCatalog,
  createBlocksFromOpenMetrics,
  encodeAggrChunk,
  encodeXorChunk,
  type FloatHistogram,
  MemoryObjectStore,
  newMatcher,
  type SampleIterator,
  ValueType,
  XOR_ENCODING,
} from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { catalogBlockLister } from '../blocks/catalog-lister.js';
import { DownsampledSeries } from '../blocks/downsampled-select.js';
import { AVERAGE } from '../blocks/resolution.js';
import { openStorageBlock } from '../blocks/storage-block.js';
import { TenantBlocks } from '../blocks/tenant-blocks.js';
import { HeadStore } from '../head/head-store.js';
import { MergeQuerier } from '../merge-querier.js';
import type { Series } from '../querier.js';
import { decodeSelection, encodeSelection, selectionTransfer } from './selection-codec.js';

type Sample = [number, number | string];

function read(it: SampleIterator, mint: number): Sample[] {
  const out: Sample[] = [];
  let vt = it.seek(mint);
  while (vt !== ValueType.None) {
    out.push([it.atT(), vt === ValueType.Float ? it.at() : JSON.stringify(it.atHistogram())]);
    vt = it.next();
  }
  return out;
}

/** Copies through structured clone with the transfer list, as postMessage does. */
function cross<T>(value: T, transfer: ArrayBuffer[]): T {
  return structuredClone(value, { transfer });
}

const T0 = 1_767_225_600;

describe('selection codec', () => {
  it('hands block series over as chunks and head series as samples, with the same samples', async () => {
    const store = new MemoryObjectStore();
    let om = '# TYPE c counter\n';
    // Three hours at 60 s: two blocks, so block series are chains of two parts.
    for (let i = 0; i <= 180; i++)
      om += `c_total{s="a"} ${i} ${T0 + i * 60}\nc_total{s="b"} ${2 * i} ${T0 + i * 60}\n`;
    await createBlocksFromOpenMetrics(`${om}# EOF\n`, store, 't');
    const blocks = new TenantBlocks({
      list: catalogBlockLister(new BucketCatalog(store), (s, p, m) => openStorageBlock(s, p, m)),
      refreshMs: 60_000,
    });
    const head = new HeadStore();
    const late = T0 * 1000 + 181 * 60_000;
    head.append(
      0,
      't',
      [
        { name: '__name__', value: 'c_total' },
        { name: 's', value: 'b' },
      ],
      [late],
      [999],
      -Infinity,
    );
    head.append(
      0,
      't',
      [
        { name: '__name__', value: 'c_total' },
        { name: 's', value: 'h' },
      ],
      [late],
      [7],
      -Infinity,
    );
    const querier = new MergeQuerier([head.querier('t'), await blocks.querier('t')]);
    const mint = T0 * 1000 + 30 * 60_000;
    const maxt = late;
    const series = await querier.select({ mint, maxt }, [newMatcher('=~', '__name__', 'c_.*')]);
    expect(series).toHaveLength(3);
    const sel = await encodeSelection(series, mint, maxt);
    // s="a" reads from blocks alone; s="b" merges head and blocks; s="h" is the head's.
    expect(sel.chunkOffsets[1]! - sel.chunkOffsets[0]!).toBeGreaterThanOrEqual(2);
    expect(sel.chunkOffsets[2]).toBe(sel.chunkOffsets[1]);
    expect(sel.offsets[1]).toBe(0);
    const decoded = decodeSelection(cross(sel, selectionTransfer(sel)));
    expect(sel.t.byteLength).toBe(0); // transferred, not copied
    for (let i = 0; i < series.length; i++) {
      expect(decoded[i]!.labels).toEqual(series[i]!.labels);
      expect(read(decoded[i]!.iterator(), mint)).toEqual(read(series[i]!.iterator(), mint));
    }
    expect(read(decoded[0]!.iterator(), mint)).toHaveLength(151);
  });

  it('keeps histogram samples in their place among floats', async () => {
    const h: FloatHistogram = {
      counterResetHint: 0,
      schema: 0,
      zeroThreshold: 0,
      zeroCount: 1,
      count: 3,
      sum: 4,
      positiveSpans: [{ offset: 0, length: 1 }],
      negativeSpans: [],
      positiveBuckets: [2],
      negativeBuckets: [],
      customValues: [],
    };
    const samples: Array<[number, number | FloatHistogram]> = [
      [10, 1],
      [20, h],
      [30, 3],
      [40, { ...h, sum: 9 }],
    ];
    const series: Series = {
      labels: [{ name: '__name__', value: 'mixed' }],
      iterator: () => {
        let i = -1;
        const kind = () =>
          i >= samples.length
            ? ValueType.None
            : typeof samples[i]![1] === 'number'
              ? ValueType.Float
              : ValueType.FloatHistogram;
        return {
          next: () => {
            i++;
            return kind();
          },
          seek: (t: number) => {
            if (i < 0) i = 0;
            while (i < samples.length && samples[i]![0] < t) i++;
            return kind();
          },
          atT: () => samples[i]![0],
          at: () => samples[i]![1] as number,
          atHistogram: () => samples[i]![1] as FloatHistogram,
          err: () => undefined,
        };
      },
    };
    const sel = await encodeSelection([series, series], 15, 40);
    const decoded = decodeSelection(cross(sel, selectionTransfer(sel)));
    for (const d of decoded)
      expect(read(d.iterator(), 0)).toEqual([
        [20, JSON.stringify(h)],
        [30, 3],
        [40, JSON.stringify({ ...h, sum: 9 })],
      ]);
    // Bulk copies stop before a histogram.
    const it = decoded[0]!.iterator() as SampleIterator & {
      copyFloats(t: Float64Array, f: Float64Array, at: number, limit: number, maxt: number): number;
    };
    expect(it.seek(30)).toBe(ValueType.Float);
    const t = new Float64Array(4);
    expect(it.copyFloats(t, new Float64Array(4), 0, 4, 100)).toBe(1);
    expect(it.next()).toBe(ValueType.FloatHistogram);
  });

  it('hands downsampled series over as chunks with their aggregate, read the same on the other side', async () => {
    const xor = (t: number[], v: number[]) => ({ encoding: XOR_ENCODING, bytes: encodeXorChunk(t, v) });
    const w = [599, 899];
    const aggr = encodeAggrChunk([
      xor(w, [2, 3]),
      xor(w, [20, 60]),
      xor(w, [5, 15]),
      xor(w, [15, 25]),
      xor(w, [15, 25]),
    ]);
    const chunks = [
      {
        minTime: 100,
        maxTime: 300,
        encoding: XOR_ENCODING,
        bytes: encodeXorChunk([100, 200, 300], [1, 2, 3]),
      },
      { minTime: 599, maxTime: 899, encoding: AGGR_ENCODING, bytes: aggr },
    ];
    const labels = [{ name: '__name__', value: 'x' }];
    const series = [
      new DownsampledSeries(labels, chunks, AVERAGE, 0, 1000),
      new DownsampledSeries(labels, chunks, AggrType.Max, 0, 1000),
    ];
    const sel = await encodeSelection(series, 0, 1000);
    expect(sel.t.length).toBe(0);
    expect([...sel.aggregates]).toEqual([AVERAGE, AggrType.Max]);
    const decoded = decodeSelection(cross(sel, selectionTransfer(sel)));
    expect(decoded[0]).toBeInstanceOf(DownsampledSeries);
    for (let i = 0; i < series.length; i++)
      expect(read(decoded[i]!.iterator(), 0)).toEqual(read(series[i]!.iterator(), 0));
    expect(read(decoded[0]!.iterator(), 0)).toEqual([
      [100, 1],
      [200, 2],
      [300, 3],
      [599, 10],
      [899, 20],
    ]);
    expect(read(decoded[1]!.iterator(), 0)).toEqual([
      [100, 1],
      [200, 2],
      [300, 3],
      [599, 15],
      [899, 25],
    ]);
  });
});
