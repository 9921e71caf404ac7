import { type Labels, type Matcher, newMatcher, ValueType } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { ArrayIterator } from '../src/array-iterator.js';
import { BlockQuerier, type QueryableBlock } from '../src/blocks/block-querier.js';
import { TenantBlocks } from '../src/blocks/tenant-blocks.js';
import type { Series } from '../src/querier.js';
import { labelsOf } from './support/array-querier.js';

// Unit tests of the block querier and the tenant cache over in-memory
// blocks; the storage-backed blocks are tested in block-store.test.ts.

function block(
  id: string,
  minTime: number,
  maxTime: number,
  series: Array<[Labels, number[]]>,
): QueryableBlock {
  const match = (ls: Labels, ms: readonly Matcher[]) =>
    ms.every((m) => m.matches(ls.find((l) => l.name === m.name)?.value ?? ''));
  return {
    id,
    minTime,
    maxTime,
    async select(matchers, mint, maxt) {
      return series
        .filter(([ls, ts]) => match(ls, matchers) && ts.some((t) => t >= mint && t <= maxt))
        .map(
          ([labels, ts]): Series => ({
            labels,
            iterator: () =>
              new ArrayIterator(
                ts,
                ts.map((t) => t / 1000),
              ),
          }),
        );
    },
    async labelNames(matchers) {
      return [
        ...new Set(series.filter(([ls]) => match(ls, matchers)).flatMap(([ls]) => ls.map((l) => l.name))),
      ].sort();
    },
    async labelValues(name, matchers) {
      return [
        ...new Set(
          series
            .filter(([ls]) => match(ls, matchers))
            .flatMap(([ls]) => ls.filter((l) => l.name === name).map((l) => l.value)),
        ),
      ].sort();
    },
  };
}

const a = labelsOf({ __name__: 'up', job: 'a' });
const b = labelsOf({ __name__: 'up', job: 'b' });
const b1 = block('B1', 0, 7200_000, [
  [a, [0, 3600_000]],
  [b, [60_000]],
]);
const b2 = block('B2', 7200_000, 14400_000, [[a, [7200_000, 10000_000]]]);

function times(s: Series): number[] {
  const it = s.iterator();
  const out: number[] = [];
  while (it.next() !== ValueType.None) out.push(it.atT());
  return out;
}

describe('BlockQuerier', () => {
  const q = new BlockQuerier([b1, b2]);
  const up = [newMatcher('=', '__name__', 'up')];

  it('reads only the blocks that meet the range', () => {
    expect(q.overlapping(0, 100).map((x) => x.id)).toEqual(['B1']);
    expect(q.overlapping(7200_000, 7200_000).map((x) => x.id)).toEqual(['B2']);
    expect(q.overlapping(7199_999, 7200_000).map((x) => x.id)).toEqual(['B1', 'B2']);
    expect(q.overlapping(20000_000, 30000_000)).toEqual([]);
  });

  it('joins one series across blocks in time order', async () => {
    const got = await q.select({ mint: 0, maxt: 14400_000 }, up);
    expect(got.map((s) => s.labels)).toEqual([a, b]);
    expect(times(got[0]!)).toEqual([0, 3600_000, 7200_000, 10000_000]);
    expect(times(got[1]!)).toEqual([60_000]);
  });

  it('merges overlapping blocks with one sample per timestamp', async () => {
    // A block rebuilt over part of B1's range (e.g. by a replay) holds some of the same samples.
    const b3 = block('B3', 3000_000, 5000_000, [[a, [3600_000, 4000_000]]]);
    const got = await new BlockQuerier([b2, b3, b1]).select({ mint: 0, maxt: 14400_000 }, up);
    expect(times(got[0]!)).toEqual([0, 3600_000, 4000_000, 7200_000, 10000_000]);
  });

  it('chains blocks given out of order and seeks across them', async () => {
    const got = await new BlockQuerier([b2, b1]).select({ mint: 0, maxt: 14400_000 }, up);
    expect(times(got[0]!)).toEqual([0, 3600_000, 7200_000, 10000_000]);
    const it = got[0]!.iterator();
    expect(it.seek(4000_000)).toBe(ValueType.Float);
    expect(it.atT()).toBe(7200_000);
    expect(it.at()).toBe(7200);
    expect(it.seek(1)).toBe(ValueType.Float);
    expect(it.atT()).toBe(7200_000);
    expect(it.next()).toBe(ValueType.Float);
    expect(it.atT()).toBe(10000_000);
    expect(it.next()).toBe(ValueType.None);
    expect(it.err()).toBeUndefined();
  });

  it('answers label names and values from the blocks in range', async () => {
    expect(await q.labelValues({ mint: 7200_000, maxt: 9000_000 }, 'job', [])).toEqual(['a']);
    expect(await q.labelValues({ mint: 0, maxt: 9000_000 }, 'job', [])).toEqual(['a', 'b']);
    expect(await q.labelNames({ mint: 0, maxt: 1 }, [])).toEqual(['__name__', 'job']);
    expect(await q.select({ mint: 20000_000, maxt: 30000_000 }, up)).toEqual([]);
  });
});

describe('TenantBlocks', () => {
  it('lists once for concurrent first queries of a tenant', async () => {
    let lists = 0;
    const tb = new TenantBlocks({
      refreshMs: 1000,
      now: () => 0,
      list: async () => {
        lists++;
        await new Promise((r) => setTimeout(r, 20));
        return [{ id: 'B1', open: async () => b1 }];
      },
    });
    const [x, y] = await Promise.all([tb.querier('t'), tb.querier('t')]);
    expect(x).toBe(y);
    expect(lists).toBe(1);
  });

  it('lists per tenant, caches until refresh, opens new blocks and skips bad ones', async () => {
    let now = 0;
    const listing: Record<string, Array<{ id: string; block?: QueryableBlock }>> = {
      t1: [{ id: 'B1', block: b1 }],
      t2: [],
    };
    const opens: string[] = [];
    const bad: string[] = [];
    const tb = new TenantBlocks({
      refreshMs: 1000,
      now: () => now,
      list: async (tenant) =>
        (listing[tenant] ?? []).map((x) => ({
          id: x.id,
          open: async () => {
            opens.push(`${tenant}/${x.id}`);
            if (x.block === undefined) throw new Error('corrupt index');
            return x.block;
          },
        })),
      onBadBlock: (tenant, id) => bad.push(`${tenant}/${id}`),
    });
    const all = { mint: 0, maxt: 20000_000 };
    expect((await (await tb.querier('t1')).select(all, [])).length).toBe(2);
    expect(await (await tb.querier('t2')).select(all, [])).toEqual([]);
    listing.t1!.push({ id: 'B2', block: b2 }, { id: 'BAD' });
    now = 500;
    expect((await tb.querier('t1')).overlapping(0, 20000_000).map((x) => x.id)).toEqual(['B1']);
    now = 1500;
    expect((await tb.querier('t1')).overlapping(0, 20000_000).map((x) => x.id)).toEqual(['B1', 'B2']);
    expect(opens).toEqual(['t1/B1', 't1/B2', 't1/BAD']);
    expect(bad).toEqual(['t1/BAD']);
  });
});
