import {
  type BlockMeta,
  type ByteRange,
  encodeXorChunk,
  type Labels,
  MemoryObjectStore,
  type ObjectStore,
  writeBlock,
} from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { BlockQuerier, type QueryableBlock } from '../src/blocks/block-querier.js';
import { type Selection, SelectionCache } from '../src/blocks/selection-cache.js';
import { openStorageBlock } from '../src/blocks/storage-block.js';
import { Engine } from '../src/promql/engine.js';
import { labelsOf } from './support/array-querier.js';

// Block selections (index entries and chunk bytes) are kept across queries.
// Answers over cached blocks must equal answers read from the store every
// time, whatever ranges ask for which chunks first and however small the
// budget; a repeated query must read nothing from the store.

const H = 3_600_000;

/** Counts gets, so a test can tell whether a query read the store. */
class CountingStore implements ObjectStore {
  gets = 0;
  constructor(private readonly inner: ObjectStore) {}
  get(key: string, range?: ByteRange) {
    this.gets++;
    return this.inner.get(key, range);
  }
  put(...args: Parameters<ObjectStore['put']>) {
    return this.inner.put(...args);
  }
  list(...args: Parameters<ObjectStore['list']>) {
    return this.inner.list(...args);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  head(key: string) {
    return this.inner.head(key);
  }
}

/** Two 2 h blocks, series of two metrics in one-hour chunks (some series in one block only). */
async function twoBlocks(store: ObjectStore): Promise<BlockMeta[]> {
  const perBlock: Array<
    Array<{ labels: Labels; chunks: { minTime: number; maxTime: number; bytes: Uint8Array }[] }>
  > = [[], []];
  for (const name of ['m', 'n']) {
    for (let k = 0; k < 12; k++) {
      const labels = labelsOf({ __name__: name, s: `s${String(k).padStart(2, '0')}`, odd: String(k % 2) });
      for (let b = 0; b < 2; b++) {
        if ((k === 3 && b === 0) || (k === 7 && b === 1)) continue;
        const chunks: { minTime: number; maxTime: number; bytes: Uint8Array }[] = [];
        for (let c = 0; c < 2; c++) {
          const from = b * 2 * H + c * H;
          const ts: number[] = [];
          const vs: number[] = [];
          for (let t = from; t < from + H; t += 15_000) {
            ts.push(t);
            vs.push(k * 100 + t / 15_000 + (name === 'n' ? 0.5 : 0));
          }
          chunks.push({ minTime: ts[0]!, maxTime: ts[ts.length - 1]!, bytes: encodeXorChunk(ts, vs) });
        }
        perBlock[b]!.push({ labels, chunks });
      }
    }
  }
  const metas = [];
  for (let b = 0; b < 2; b++)
    metas.push(await writeBlock(store, 't', perBlock[b]!, { minTime: b * 2 * H, maxTime: (b + 1) * 2 * H }));
  return metas;
}

async function open(
  store: ObjectStore,
  metas: Awaited<ReturnType<typeof twoBlocks>>,
  cache?: SelectionCache,
) {
  const blocks: QueryableBlock[] = [];
  for (const meta of metas) {
    blocks.push(await openStorageBlock(store, `t/${meta.ulid}`, meta, cache));
  }
  return new BlockQuerier(blocks);
}

// Ranges chosen so that chunks are first asked for singly, then with neighbours.
const CASES: Array<{ q: string; start: number; end: number }> = [
  { q: 'm', start: 0.5 * H, end: 0.9 * H },
  { q: 'rate(m[5m])', start: 1.5 * H, end: 2.5 * H },
  { q: 'm', start: 0, end: 4 * H },
  { q: 'sum by (odd) (rate(n[10m]))', start: 3.2 * H, end: 3.9 * H },
  { q: 'max_over_time(m{odd="1"}[30m])', start: H, end: 3 * H },
  { q: 'n / on (s, odd) m', start: 0, end: 4 * H },
  { q: 'topk(3, n)', start: 2.1 * H, end: 2.2 * H },
];

describe('block selection cache', () => {
  it('answers as the uncached blocks do, and a repeated query reads nothing', async () => {
    const base = new MemoryObjectStore();
    const metas = await twoBlocks(base);
    const plain = await open(base, metas);
    const counting = new CountingStore(base);
    const cache = new SelectionCache(64 * 1024 * 1024);
    const cached = await open(counting, metas, cache);
    const engine = new Engine();
    for (const { q, start, end } of CASES) {
      const want = await engine.rangeQuery(plain, q, start, end, 60_000);
      const got = await engine.rangeQuery(cached, q, start, end, 60_000);
      expect(got.value, q).toEqual(want.value);
      expect(got.value.resultType === 'matrix' && got.value.result.length > 0, q).toBe(true);
    }
    expect(cache.size).toBeGreaterThan(0);
    const reads = counting.gets;
    for (const { q, start, end } of CASES) {
      const want = await engine.rangeQuery(plain, q, start, end, 60_000);
      const got = await engine.rangeQuery(cached, q, start, end, 60_000);
      expect(got.value, q).toEqual(want.value);
    }
    expect(counting.gets).toBe(reads);
    // Series listing and label lookups over the cached entries agree too.
    const hints = { mint: 0, maxt: 4 * H };
    const sel = [{ type: '=~' as const, name: 'odd', value: '1', matches: (v: string) => v === '1' }];
    expect(await cached.labelValues(hints, 's', sel)).toEqual(await plain.labelValues(hints, 's', sel));
    const series = await cached.select({ ...hints, func: 'series' }, sel);
    expect(series.map((s) => s.labels)).toEqual(
      (await plain.select({ ...hints, func: 'series' }, sel)).map((s) => s.labels),
    );
  });

  it('stays within a small budget and still answers correctly', async () => {
    const base = new MemoryObjectStore();
    const metas = await twoBlocks(base);
    const plain = await open(base, metas);
    const cache = new SelectionCache(6_000);
    const cached = await open(base, metas, cache);
    const engine = new Engine();
    for (let round = 0; round < 2; round++) {
      for (const { q, start, end } of CASES) {
        const want = await engine.rangeQuery(plain, q, start, end, 60_000);
        const got = await engine.rangeQuery(cached, q, start, end, 60_000);
        expect(got.value, q).toEqual(want.value);
        expect(cache.bytes).toBeLessThanOrEqual(6_000);
      }
    }
  });

  it('evicts least recently used selections first and stops counting evicted ones', () => {
    const cache = new SelectionCache(300);
    const sel = (bytes: number): Selection => ({ entries: [], chunks: [], bytes, cached: false });
    const a = sel(100);
    const b = sel(100);
    const c = sel(100);
    cache.add('a', a);
    cache.add('b', b);
    cache.add('c', c);
    expect(cache.bytes).toBe(300);
    expect(cache.get('a')).toBe(a); // a is now the most recent
    cache.grew(c, 50); // over budget: b (least recent) goes
    expect(cache.get('b')).toBeUndefined();
    expect(b.cached).toBe(false);
    expect(cache.bytes).toBe(250);
    cache.grew(b, 1000); // evicted: not counted
    expect(cache.bytes).toBe(250);
    cache.add('big', sel(301)); // larger than the budget: not cached
    expect(cache.get('big')).toBeUndefined();
    expect(cache.bytes).toBe(250);
  });
});
