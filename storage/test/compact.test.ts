import { describe, expect, it } from 'vitest';
import { SeriesChunker } from '../src/block/chunker.js';
import type { BlockMeta } from '../src/block/meta.js';
import { BlockReader } from '../src/block/reader.js';
import { writeBlock } from '../src/block/writer.js';
import { blockSeries } from '../src/compact/block-series.js';
import { compactBlocks, downsampleBlock } from '../src/compact/compact.js';
import { RES_1H, RES_5M, windowEnd } from '../src/downsample/downsample.js';
import { type Labels, ValueType } from '../src/model.js';
import { MemoryObjectStore } from '../src/objstore/memory.js';
import { AggrIterator, AggrType, CounterSeriesIterator } from '../src/tsz/aggr.js';
import { XorIterator } from '../src/tsz/xor.js';

const H = 3600 * 1000;

function labels(i: number): Labels {
  return [
    { name: '__name__', value: 'requests_total' },
    { name: 'instance', value: `i${String(i).padStart(3, '0')}` },
  ];
}

/** A counter for series i at time t, with a reset every 5h. */
function value(i: number, t: number): number {
  return ((t / 1000) % (5 * 3600)) * (i + 1) + 0.5;
}

/** Writes a raw block of `series` series with one sample every `step` ms in [from, to). */
async function rawBlock(
  store: MemoryObjectStore,
  from: number,
  to: number,
  step: number,
  series: number,
  partition: number,
): Promise<BlockMeta> {
  const input = [];
  for (let i = 0; i < series; i++) {
    const ch = new SeriesChunker(2 * H);
    for (let t = from; t < to; t += step) ch.append(t, value(i, t));
    ch.flush();
    input.push({ labels: labels(i), chunks: ch.chunks });
  }
  return writeBlock(store, 'tenant-a', input, {
    minTime: from,
    maxTime: to,
    thanos: { labels: { cluster: 'a' }, downsample: { resolution: 0 }, source: 'promstream' },
    promstream: { partition, minOffset: from / 1000, maxOffset: to / 1000 - 1, tenant: 'tenant-a' },
  });
}

async function samples(store: MemoryObjectStore, meta: BlockMeta): Promise<Map<string, [number, number][]>> {
  const r = await BlockReader.open(store, `tenant-a/${meta.ulid}`, meta);
  const out = new Map<string, [number, number][]>();
  const it = new XorIterator();
  for await (const s of blockSeries(r, 7)) {
    const got: [number, number][] = [];
    for (const c of s.chunks) {
      it.reset(c.bytes);
      while (it.next() === ValueType.Float) got.push([it.atT(), it.at()]);
    }
    out.set(s.labels[1]!.value, got);
  }
  return out;
}

describe('compactBlocks', () => {
  it('merges adjacent blocks series by series, names the output from its sources, and unions the log ranges', async () => {
    const store = new MemoryObjectStore();
    const metas = [];
    for (let b = 0; b < 4; b++)
      metas.push(await rawBlock(store, b * 2 * H, (b + 1) * 2 * H, 15000, 20, b % 2));
    const { meta, samplesIn, duplicates } = await compactBlocks(store, 'tenant-a', metas, {
      segmentSize: 4096,
    });
    expect(duplicates).toBe(0);
    expect(meta.stats.numSamples).toBe(samplesIn);
    expect(meta.stats.numSeries).toBe(20);
    expect(meta.minTime).toBe(0);
    expect(meta.maxTime).toBe(8 * H);
    expect(meta.compaction.level).toBe(2);
    expect(meta.compaction.sources).toEqual(metas.map((m) => m.ulid).sort());
    expect(meta.thanos).toEqual({
      labels: { cluster: 'a' },
      downsample: { resolution: 0 },
      source: 'compactor',
    });
    expect(meta.promstream?.ranges).toEqual([
      { partition: 0, minOffset: 0, maxOffset: 7199 },
      { partition: 0, minOffset: 14400, maxOffset: 21599 },
      { partition: 1, minOffset: 7200, maxOffset: 14399 },
      { partition: 1, minOffset: 21600, maxOffset: 28799 },
    ]);
    // A small segment size cuts many segment files; they all read back.
    const segs = [];
    for await (const o of store.list(`tenant-a/${meta.ulid}/chunks/`)) segs.push(o.key);
    expect(segs.length).toBeGreaterThan(3);
    const got = await samples(store, meta);
    for (let i = 0; i < 20; i++) {
      const s = got.get(`i${String(i).padStart(3, '0')}`)!;
      expect(s.length).toBe((8 * H) / 15000);
      for (const [t, v] of s) expect(v).toBe(value(i, t));
    }
    // Redone into another bucket from the same sources: the same name and bytes.
    const again = new MemoryObjectStore();
    for await (const o of store.list('tenant-a/', { recursive: true })) {
      if (!o.key.includes(meta.ulid)) await again.put(o.key, await store.get(o.key));
    }
    const redo = await compactBlocks(again, 'tenant-a', metas, { segmentSize: 4096 });
    expect(redo.meta.ulid).toBe(meta.ulid);
    expect(await again.get(`tenant-a/${meta.ulid}/index`)).toEqual(
      await store.get(`tenant-a/${meta.ulid}/index`),
    );
  });

  it('merges overlapping blocks (vertical compaction), keeping one sample per timestamp', async () => {
    const store = new MemoryObjectStore();
    const a = await rawBlock(store, 0, 2 * H, 15000, 5, 0);
    // Overlaps a's second hour with the same samples, and goes on one more hour at a finer step.
    const b = await rawBlock(store, H, 3 * H, 7500, 5, 1);
    const { meta, duplicates } = await compactBlocks(store, 'tenant-a', [a, b]);
    expect(duplicates).toBe(5 * (H / 15000));
    const got = await samples(store, meta);
    const s = got.get('i003')!;
    const want: number[] = [];
    for (let t = 0; t < H; t += 15000) want.push(t);
    for (let t = H; t < 3 * H; t += 7500) want.push(t);
    expect(s.map(([t]) => t)).toEqual(want);
    for (const [t, v] of s) expect(v).toBe(value(3, t));
    expect(meta.minTime).toBe(0);
    expect(meta.maxTime).toBe(3 * H);
  });

  it('refuses to compact one block', async () => {
    const store = new MemoryObjectStore();
    const a = await rawBlock(store, 0, 2 * H, 15000, 1, 0);
    await expect(compactBlocks(store, 'tenant-a', [a])).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('downsampleBlock', () => {
  it('writes 5m then 1h AggrChunks whose aggregates match the raw data', async () => {
    const store = new MemoryObjectStore();
    const raw = await rawBlock(store, 0, 30 * H, 30000, 3, 0);
    const m5 = (await downsampleBlock(store, 'tenant-a', raw, RES_5M)).meta;
    expect(m5.thanos?.downsample.resolution).toBe(RES_5M);
    expect(m5.minTime).toBe(raw.minTime);
    expect(m5.maxTime).toBe(raw.maxTime);
    expect(m5.compaction).toEqual(raw.compaction);
    expect(m5.stats.numSamples).toBe(3 * ((30 * H) / (5 * 60000)));
    const h1 = (await downsampleBlock(store, 'tenant-a', m5, RES_1H)).meta;
    expect(h1.thanos?.downsample.resolution).toBe(RES_1H);
    await expect(downsampleBlock(store, 'tenant-a', h1, RES_5M)).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    for (const [m, res] of [
      [m5, RES_5M],
      [h1, RES_1H],
    ] as const) {
      const r = await BlockReader.open(store, `tenant-a/${m.ulid}`, m);
      const it = new AggrIterator();
      const counter = new CounterSeriesIterator();
      for await (const s of blockSeries(r)) {
        const i = Number(s.labels[1]!.value.slice(1));
        const bytes = s.chunks.map((c) => c.bytes);
        let n = 0;
        for (const c of bytes) {
          it.reset(c, AggrType.Count);
          const counts: [number, number][] = [];
          while (it.next() === ValueType.Float) counts.push([it.atT(), it.at()]);
          it.reset(c, AggrType.Max);
          let k = 0;
          while (it.next() === ValueType.Float) {
            // The window's maximum is the value at its last raw sample before the window end, or its peak before a reset.
            const end = windowEnd(counts[k]![0], res);
            let max = -Infinity;
            for (let t = end - (end % 30000) + 30000 - res; t <= end; t += 30000)
              max = Math.max(max, value(i, t));
            expect(it.at()).toBe(max);
            n += counts[k]![1];
            k++;
          }
        }
        expect(n).toBe((30 * H) / 30000);
        // The counter read across chunks grows by every increase: the raw counter's total increase.
        counter.reset(bytes);
        let last = 0;
        while (counter.next() === ValueType.Float) last = counter.at();
        let total = value(i, 0);
        for (let t = 30000; t < 30 * H; t += 30000) {
          const v = value(i, t);
          const p = value(i, t - 30000);
          total += v < p ? v : v - p;
        }
        expect(last).toBeCloseTo(total, 6);
        expect(counter.lastRaw).toBe(value(i, 30 * H - 30000));
      }
    }
  });
});
