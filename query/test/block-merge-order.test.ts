import { type Labels, newMatcher, ValueType } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { ArrayIterator } from '../src/array-iterator.js';
import { BlockQuerier, type QueryableBlock } from '../src/blocks/block-querier.js';
import type { Series } from '../src/querier.js';
import { labelsOf } from './support/array-querier.js';

// Disjoint blocks: the querier merges the blocks' series lists (sorted, or in
// any order as a fallback) into one list in label order, chaining a series'
// parts across blocks in time order.

function block(
  id: string,
  minTime: number,
  maxTime: number,
  series: Array<[Labels, number[]]>,
): QueryableBlock {
  return {
    id,
    minTime,
    maxTime,
    async select(_matchers, mint, maxt) {
      return series
        .filter(([, ts]) => ts.some((t) => t >= mint && t <= maxt))
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
    async labelNames() {
      return [];
    },
    async labelValues() {
      return [];
    },
  };
}

function read(list: Series[]): Array<[string, number[]]> {
  return list.map((s) => {
    const it = s.iterator();
    const ts: number[] = [];
    while (it.next() !== ValueType.None) ts.push(it.atT());
    return [s.labels.map((l) => l.value).join(','), ts];
  });
}

const l = (job: string) => labelsOf({ __name__: 'up', job });
const H = 3600_000;
const all = [newMatcher('=', '__name__', 'up')];
const expected: Array<[string, number[]]> = [
  ['up,a', [0, 2 * H, 4 * H]],
  ['up,b', [2 * H + 1]],
  ['up,c', [1, 4 * H + 1]],
  ['up,d', [2]],
  ['up,e', [2 * H + 2, 4 * H + 2]],
];

describe('BlockQuerier over disjoint blocks', () => {
  it('merges sorted block lists in label order, chaining parts in time order', async () => {
    const q = new BlockQuerier([
      block('B3', 4 * H, 6 * H, [
        [l('a'), [4 * H]],
        [l('c'), [4 * H + 1]],
        [l('e'), [4 * H + 2]],
      ]),
      block('B1', 0, 2 * H, [
        [l('a'), [0]],
        [l('c'), [1]],
        [l('d'), [2]],
      ]),
      block('B2', 2 * H, 4 * H, [
        [l('a'), [2 * H]],
        [l('b'), [2 * H + 1]],
        [l('e'), [2 * H + 2]],
      ]),
    ]);
    expect(read(await q.select({ mint: 0, maxt: 6 * H }, all))).toEqual(expected);
  });

  it('gives the same answer when a block lists its series out of label order', async () => {
    const q = new BlockQuerier([
      block('B1', 0, 2 * H, [
        [l('d'), [2]],
        [l('a'), [0]],
        [l('c'), [1]],
      ]),
      block('B2', 2 * H, 4 * H, [
        [l('e'), [2 * H + 2]],
        [l('a'), [2 * H]],
        [l('b'), [2 * H + 1]],
      ]),
      block('B3', 4 * H, 6 * H, [
        [l('c'), [4 * H + 1]],
        [l('a'), [4 * H]],
        [l('e'), [4 * H + 2]],
      ]),
    ]);
    expect(read(await q.select({ mint: 0, maxt: 6 * H }, all))).toEqual(expected);
  });
});
