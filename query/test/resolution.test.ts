import {
  AGGR_ENCODING,
  AggrType,
  encodeAggrChunk,
  encodeXorChunk,
  isStorageError,
  RES_1H,
  RES_5M,
  type SeriesChunk,
  StorageErrorCode,
  ValueType,
  XOR_ENCODING,
} from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { DownsampledIterator } from '../src/blocks/downsampled-iterator.js';
import {
  AVERAGE,
  aggregateFor,
  blocksForResolution,
  maxResolutionFor,
  type ResolutionBlock,
} from '../src/blocks/resolution.js';
import { parseExpr } from '../src/promql/parser.js';
import { selectorFuncs } from '../src/promql/select-hints.js';

type Named = ResolutionBlock & { id: string };

function block(id: string, minTime: number, maxTime: number, resolution: number): Named {
  return { id, minTime, maxTime, resolution };
}

const ids = (bs: Named[]) => bs.map((b) => b.id);

describe('blocksForResolution (Thanos store gateway block choice)', () => {
  const raw = [block('R1', 0, 10, 0), block('R2', 10, 20, 0), block('R3', 20, 30, 0)];
  const five = [block('F1', 0, 10, RES_5M), block('F2', 10, 20, RES_5M)];
  const hour = [block('H1', 0, 10, RES_1H)];
  const all = [...raw, ...five, ...hour].sort((a, b) => a.minTime - b.minTime);

  it('reads the coarsest level allowed and fills its gaps from finer levels', () => {
    expect(ids(blocksForResolution(all, 0, 29, RES_1H))).toEqual(['H1', 'F2', 'R3']);
    expect(ids(blocksForResolution(all, 0, 29, RES_5M))).toEqual(['F1', 'F2', 'R3']);
    // A resolution between levels allows the finer one.
    expect(ids(blocksForResolution(all, 0, 29, 30 * 60 * 1000))).toEqual(['F1', 'F2', 'R3']);
    expect(ids(blocksForResolution(all, 0, 29, 0))).toEqual(['R1', 'R2', 'R3']);
    expect(ids(blocksForResolution(all, 12, 15, RES_1H))).toEqual(['F2']);
    expect(ids(blocksForResolution(all, 30, 40, RES_1H))).toEqual([]);
  });

  it('fills a hole in the middle of a coarse level', () => {
    const holed = [block('H1', 0, 10, RES_1H), block('R2', 10, 20, 0), block('H3', 20, 30, RES_1H)];
    expect(ids(blocksForResolution(holed, 0, 29, RES_1H))).toEqual(['H1', 'R2', 'H3']);
    expect(ids(blocksForResolution(holed, 0, 29, 0))).toEqual(['R2']);
  });
});

describe('aggregate and resolution per function (Thanos aggrsFromFunc, maxResolutionFromSelectHints)', () => {
  it('picks the aggregate from the function name', () => {
    const cases: [string, number][] = [
      ['rate', AggrType.Counter],
      ['increase', AggrType.Counter],
      ['irate', AggrType.Counter],
      ['resets', AggrType.Counter],
      ['max_over_time', AggrType.Max],
      ['max', AggrType.Max],
      ['min_over_time', AggrType.Min],
      ['min', AggrType.Min],
      ['count_over_time', AggrType.Count],
      ['count', AggrType.Count],
      ['sum_over_time', AggrType.Sum],
      ['sum', AVERAGE],
      ['avg_over_time', AVERAGE],
      ['delta', AVERAGE],
      ['', AVERAGE],
    ];
    for (const [func, want] of cases) expect([func, aggregateFor(func)]).toEqual([func, want]);
  });

  it('caps the resolution at half the range for functions that need two samples', () => {
    expect(maxResolutionFor(RES_1H, RES_1H, 'rate')).toBe(RES_1H / 2);
    expect(maxResolutionFor(RES_1H, 4 * RES_1H, 'rate')).toBe(RES_1H);
    expect(maxResolutionFor(RES_1H, RES_1H, 'max_over_time')).toBe(RES_1H);
    expect(maxResolutionFor(RES_1H, 0, 'rate')).toBe(RES_1H);
  });
});

describe('selectorFuncs (Prometheus extractFuncFromPath)', () => {
  const funcsOf = (q: string) => [...selectorFuncs(parseExpr(q)).entries()].map(([vs, f]) => [vs.name, f]);

  it('gives each selector the innermost function or aggregation around it', () => {
    expect(funcsOf('sum by (job) (rate(x[5m]))')).toEqual([['x', 'rate']]);
    expect(funcsOf('max(x)')).toEqual([['x', 'max']]);
    expect(funcsOf('x + max((y))')).toEqual([
      ['x', ''],
      ['y', 'max'],
    ]);
    expect(funcsOf('max_over_time(rate(x[5m])[1h:])')).toEqual([['x', 'rate']]);
    expect(funcsOf('sum(-x)')).toEqual([['x', 'sum']]);
    expect(funcsOf('x')).toEqual([['x', '']]);
  });
});

const xor = (t: number[], v: number[]) => ({ encoding: XOR_ENCODING, bytes: encodeXorChunk(t, v) });

function rawChunk(t: number[], v: number[]): SeriesChunk {
  return { minTime: t[0]!, maxTime: t[t.length - 1]!, encoding: XOR_ENCODING, bytes: encodeXorChunk(t, v) };
}

/** An AggrChunk of windows ending at `t`, with the counter's first and true last raw samples around them. */
function aggrChunk(
  t: number[],
  a: { count: number[]; sum: number[]; min: number[]; max: number[] },
  counter: [number[], number[]],
): SeriesChunk {
  const bytes = encodeAggrChunk([
    xor(t, a.count),
    xor(t, a.sum),
    xor(t, a.min),
    xor(t, a.max),
    xor(...counter),
  ]);
  return { minTime: t[0]!, maxTime: t[t.length - 1]!, encoding: AGGR_ENCODING, bytes };
}

function drain(it: DownsampledIterator): [number, number][] {
  const out: [number, number][] = [];
  while (it.next() === ValueType.Float) out.push([it.atT(), it.at()]);
  expect(it.err()).toBeUndefined();
  return out;
}

describe('DownsampledIterator', () => {
  // Raw counter 10, 20, 30 at 100..300; then windows at 599 and 899 of a counter that reset to 5 at 400.
  const chunks = [
    rawChunk([100, 200, 300], [10, 20, 30]),
    aggrChunk([599, 899], { count: [2, 3], sum: [20, 60], min: [5, 15], max: [15, 25] }, [
      [400, 599, 899, 899],
      [5, 15, 25, 25],
    ]),
  ];

  it('reads counters across raw and downsampled chunks with resets folded in', () => {
    const it = new DownsampledIterator();
    it.reset(chunks, AggrType.Counter, 0, 10_000);
    // 30 then a reset to 5: the total goes on from 30 (35, 45, 55); the repeated 899 is the true last raw value.
    expect(drain(it)).toEqual([
      [100, 10],
      [200, 20],
      [300, 30],
      [400, 35],
      [599, 45],
      [899, 55],
    ]);
  });

  it('reads one aggregate or the average, raw chunks as they are, bounded to [mint, maxt]', () => {
    const it = new DownsampledIterator();
    it.reset(chunks, AVERAGE, 0, 10_000);
    expect(drain(it)).toEqual([
      [100, 10],
      [200, 20],
      [300, 30],
      [599, 10],
      [899, 20],
    ]);
    it.reset(chunks, AggrType.Max, 150, 600);
    expect(drain(it)).toEqual([
      [200, 20],
      [300, 30],
      [599, 15],
    ]);
    it.reset(chunks, AggrType.Count, 0, 10_000);
    expect(it.seek(500)).toBe(ValueType.Float);
    expect([it.atT(), it.at()]).toEqual([599, 2]);
    expect(it.seek(550)).toBe(ValueType.Float);
    expect(it.atT()).toBe(599);
    expect(drain(it)).toEqual([[899, 3]]);
  });

  it('gives overlapping chunks each time once', () => {
    const it = new DownsampledIterator();
    it.reset([rawChunk([1, 2, 3], [1, 2, 3]), rawChunk([2, 3, 4], [9, 9, 4])], AggrType.Sum, 0, 10);
    expect(drain(it)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
  });

  it('fails with corrupt when an AggrChunk lacks the aggregate asked for', () => {
    const bytes = encodeAggrChunk([xor([599], [2]), xor([599], [20]), undefined, undefined, undefined]);
    const it = new DownsampledIterator();
    it.reset([{ minTime: 599, maxTime: 599, encoding: AGGR_ENCODING, bytes }], AggrType.Max, 0, 1000);
    expect(it.next()).toBe(ValueType.None);
    expect(isStorageError(it.err(), StorageErrorCode.Corrupt)).toBe(true);
  });
});
