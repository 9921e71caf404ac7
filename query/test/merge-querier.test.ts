import { type Labels, newMatcher, type SampleIterator, ValueType } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { ArrayIterator } from '../src/array-iterator.js';
import { MergeIterator, MergeQuerier } from '../src/merge-querier.js';
import type { Querier, Series } from '../src/querier.js';

function drain(it: SampleIterator): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  while (it.next() !== ValueType.None) out.push([it.atT(), it.at()]);
  return out;
}

const job = (v: string): Labels => [
  { name: '__name__', value: 'up' },
  { name: 'job', value: v },
];

function fixed(series: Array<{ labels: Labels; ts: number[]; vs: number[] }>): Querier {
  return {
    async select(_hints, matchers) {
      return series
        .filter((s) => matchers.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? '')))
        .map((s): Series => ({ labels: s.labels, iterator: () => new ArrayIterator(s.ts, s.vs) }));
    },
    async labelNames() {
      return [...new Set(series.flatMap((s) => s.labels.map((l) => l.name)))].sort();
    },
    async labelValues(_hints, name) {
      return [
        ...new Set(series.flatMap((s) => s.labels.filter((l) => l.name === name).map((l) => l.value))),
      ].sort();
    },
  };
}

describe('MergeIterator', () => {
  it('interleaves by time with one sample per timestamp, the first source winning', () => {
    const it = new MergeIterator([
      new ArrayIterator([1, 3, 5], [10, 30, 50]),
      new ArrayIterator([2, 3, 6], [2, 99, 6]),
    ]);
    expect(drain(it)).toEqual([
      [1, 10],
      [2, 2],
      [3, 30],
      [5, 50],
      [6, 6],
    ]);
    expect(it.next()).toBe(ValueType.None);
  });

  it('seeks forward only and keeps going after a seek', () => {
    const it = new MergeIterator([
      new ArrayIterator([1, 4, 8], [1, 4, 8]),
      new ArrayIterator([2, 5, 9], [2, 5, 9]),
    ]);
    expect(it.seek(4)).toBe(ValueType.Float);
    expect(it.atT()).toBe(4);
    expect(it.seek(3)).toBe(ValueType.Float);
    expect(it.atT()).toBe(4);
    expect(drain(it).map(([t]) => t)).toEqual([5, 8, 9]);
    expect(it.seek(100)).toBe(ValueType.None);
  });

  it('handles empty sources', () => {
    expect(drain(new MergeIterator([new ArrayIterator([], []), new ArrayIterator([7], [1])]))).toEqual([
      [7, 1],
    ]);
    expect(new MergeIterator([]).next()).toBe(ValueType.None);
  });
});

describe('MergeQuerier', () => {
  const head = fixed([
    { labels: job('b'), ts: [100, 200], vs: [1, 2] },
    { labels: job('c'), ts: [100], vs: [5] },
  ]);
  const blocks = fixed([
    { labels: job('a'), ts: [0], vs: [9] },
    { labels: job('b'), ts: [0, 100], vs: [0, 7] },
  ]);
  const q = new MergeQuerier([head, blocks]);
  const hints = { mint: 0, maxt: 1000 };

  it('merges series with equal labels and sorts the result', async () => {
    const got = await q.select(hints, [newMatcher('=', '__name__', 'up')]);
    expect(got.map((s) => s.labels[1]!.value)).toEqual(['a', 'b', 'c']);
    expect(drain(got[1]!.iterator())).toEqual([
      [0, 0],
      [100, 1],
      [200, 2],
    ]);
    // A fresh iterator each time.
    expect(drain(got[1]!.iterator())).toHaveLength(3);
  });

  it('passes matchers through and unions label names and values', async () => {
    const got = await q.select(hints, [newMatcher('=~', 'job', 'a|c')]);
    expect(got.map((s) => s.labels[1]!.value)).toEqual(['a', 'c']);
    expect(await q.labelNames(hints, [])).toEqual(['__name__', 'job']);
    expect(await q.labelValues(hints, 'job', [])).toEqual(['a', 'b', 'c']);
  });
});
