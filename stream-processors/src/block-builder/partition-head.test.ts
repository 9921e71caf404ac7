import { describe, expect, test } from 'vitest';
import { blockUlid } from './block-id.js';
import { PartitionHead } from './partition-head.js';
import { parseDuration, rangeStart } from './ranges.js';

const up = [
  { name: '__name__', value: 'up' },
  { name: 'job', value: 'a' },
];
const down = [
  { name: '__name__', value: 'down' },
  { name: 'job', value: 'a' },
];

describe('PartitionHead', () => {
  test('cuts an aligned range once the newest sample passes its end by the window', () => {
    const head = new PartitionHead({ blockDuration: 1000, outOfOrderWindow: 100, boundary: -Infinity });
    head.append(0, 't', up, [10, 500, 999], [1, 2, 3]);
    head.endRecord(0);
    head.append(1, 't', up, [1050], [4]);
    head.endRecord(1);
    expect(head.dueRanges()).toEqual([]);
    head.append(2, 't', down, [1100], [5]);
    head.endRecord(2);
    expect(head.dueRanges()).toEqual([0]);
    expect(head.commitOffset()).toBe(0);
    const [block] = head.take(0);
    expect(block).toMatchObject({
      tenant: 't',
      rangeStart: 0,
      rangeEnd: 1000,
      firstOffset: 0,
      lastOffset: 0,
    });
    expect(Array.from(block!.series[0]!.t)).toEqual([10, 500, 999]);
    expect(head.commitOffset()).toBe(1);
    expect(head.boundary).toBe(1000);
  });

  test('keeps late samples inside the window, sorts them and keeps the first of duplicates', () => {
    const head = new PartitionHead({ blockDuration: 1000, outOfOrderWindow: 300, boundary: -Infinity });
    head.append(0, 't', up, [100, 400], [1, 2]);
    head.append(1, 't', up, [200, 400], [3, 9]);
    const [block] = head.take(0);
    expect(Array.from(block!.series[0]!.t)).toEqual([100, 200, 400]);
    expect(Array.from(block!.series[0]!.v)).toEqual([1, 3, 2]);
  });

  test('counts samples of ranges already in blocks as dropped', () => {
    const head = new PartitionHead({ blockDuration: 1000, outOfOrderWindow: 100, boundary: 1000 });
    expect(head.append(0, 't', up, [999, 1500], [1, 2])).toBe(1);
    expect(head.dropped.covered).toBe(1);
    // Samples of other series far behind the newest one are kept while their range is open.
    expect(head.append(1, 't', down, [1000, 2050], [3, 4])).toBe(0);
    expect(head.dueRanges()).toEqual([]);
    head.append(2, 't', down, [2100], [5]);
    expect(head.dueRanges()).toEqual([1000]);
    head.take(1000);
    expect(head.append(3, 't', up, [1300], [6])).toBe(1);
    expect(head.dropped.too_old).toBe(1);
    expect(head.samples()).toBe(2);
  });

  test('splits a record spanning two ranges and holds the commit at its offset', () => {
    const head = new PartitionHead({ blockDuration: 1000, outOfOrderWindow: 0, boundary: -Infinity });
    head.append(5, 't', up, [900, 1100], [1, 2]);
    head.endRecord(5);
    head.append(6, 'u', down, [2000], [3]);
    head.endRecord(6);
    expect(head.dueRanges()).toEqual([0, 1000]);
    head.take(0);
    expect(head.commitOffset()).toBe(5);
    head.take(1000);
    expect(head.commitOffset()).toBe(6);
  });
});

describe('block ids and ranges', () => {
  test('the same origin gives the same ULID, another offset another one', () => {
    const origin = {
      topic: 's',
      partition: 1,
      tenant: 't',
      firstOffset: 3,
      lastOffset: 9,
      minTime: 7_200_000,
    };
    const id = blockUlid(origin);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(blockUlid({ ...origin })).toBe(id);
    expect(blockUlid({ ...origin, lastOffset: 10 })).not.toBe(id);
    // The time part is the block's minimum time, as the ulid package encodes 7200000.
    expect(blockUlid({ ...origin, minTime: 14_400_000 }) > id).toBe(true);
    expect(id.slice(0, 10)).toBe('000006VQ80');
  });

  test('aligns ranges and parses durations', () => {
    expect(rangeStart(7_199_999, 7_200_000)).toBe(0);
    expect(rangeStart(-1, 1000)).toBe(-1000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(() => parseDuration('2 hours')).toThrow(/not a duration/);
  });
});
