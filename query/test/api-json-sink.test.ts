import type { Labels } from '@promstream/storage';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import {
  formatFloat,
  formatTimestamp,
  JsonSink,
  queryDataJson,
  writeQueryAnswer,
} from '../src/api/format.js';
import { floatColumns, type MatrixSeries, type QueryValue } from '../src/engine-types.js';

// Query answers are written as bytes in chunks; the text must be the JSON a
// string-building encoder gives, for any label text and across chunk edges.

const ODD_TEXT = [
  'plain',
  'with "quotes"',
  'back\\slash',
  'line\nbreak',
  'tab\t',
  'äöü',
  '日本',
  '🙂 emoji',
  '\u0001',
  '',
];

function randomLabels(r: () => number, k: number): Labels {
  return [
    { name: '__name__', value: `m${k}` },
    { name: 'a', value: ODD_TEXT[Math.floor(r() * ODD_TEXT.length)]! },
    { name: 'z', value: `${ODD_TEXT[Math.floor(r() * ODD_TEXT.length)]!}${k}` },
  ];
}

function randomFloat(r: () => number): number {
  const pick = r();
  if (pick < 0.05) return Number.NaN;
  if (pick < 0.1) return r() < 0.5 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  if (pick < 0.3) return Math.round(r() * 1e6);
  return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
}

describe('query answers written as bytes', () => {
  it('equal the JSON of the same answer built as objects, across many chunks', () => {
    const r = seededRandom(7);
    const series: MatrixSeries[] = [];
    const expected: unknown[] = [];
    for (let k = 0; k < 400; k++) {
      const metric = randomLabels(r, k);
      const points = [];
      for (let i = 0; i < 200; i++) points.push({ t: 1_700_000_000_000 + i * 15_500, f: randomFloat(r) });
      series.push({ metric, floats: floatColumns(points), histograms: [] });
      expected.push({
        metric: Object.fromEntries(metric.map((l) => [l.name, l.value])),
        values: points.map((p) => [Number(formatTimestamp(p.t)), formatFloat(p.f)]),
      });
    }
    const value: QueryValue = { resultType: 'matrix', result: series };
    const chunks: Uint8Array[] = [];
    const out = new JsonSink((c) => chunks.push(c));
    writeQueryAnswer(out, value, ['a "warning"'], ['ünfo']);
    const all = out.finish();
    expect(all.length).toBeGreaterThan(3);
    expect(chunks.length).toBe(all.length);
    expect(chunks.every((c, i) => c === all[i])).toBe(true);
    const text = Buffer.concat(all).toString('utf8');
    expect(Buffer.concat(all).length).toBe(out.length);
    expect(JSON.parse(text)).toEqual({
      status: 'success',
      data: { resultType: 'matrix', result: expected },
      warnings: ['a "warning"'],
      infos: ['ünfo'],
    });
  });

  it('writes the same times with a range query grid as without one', () => {
    for (const grid of [
      { start: 1_700_000_000_123, step: 15_500, count: 50 },
      { start: 0.5, step: 0.1, count: 1000 },
      { start: -30_000, step: 7_000, count: 20 },
    ]) {
      const onGrid = Array.from({ length: grid.count }, (_, i) => grid.start + i * grid.step);
      const times = [...onGrid.filter((_, i) => i % 3 !== 1), grid.start + 1, grid.start - grid.step];
      times.sort((a, b) => a - b);
      const value: QueryValue = {
        resultType: 'matrix',
        result: [
          {
            metric: [{ name: 'a', value: 'b' }],
            floats: floatColumns(times.map((t, i) => ({ t, f: i / 7 }))),
            histograms: [],
          },
        ],
      };
      const plain = new JsonSink();
      writeQueryAnswer(plain, value);
      const gridded = new JsonSink();
      writeQueryAnswer(gridded, value, [], [], grid);
      const text = Buffer.concat(gridded.finish()).toString();
      expect(text).toBe(Buffer.concat(plain.finish()).toString());
      expect(text).toContain(`[${formatTimestamp(onGrid[2]!)},`);
    }
  });

  it('writes labels in their order and values as Prometheus does', () => {
    const value: QueryValue = {
      resultType: 'vector',
      result: [
        {
          metric: [
            { name: 'b', value: 'x"y' },
            { name: 'a', value: 'é' },
          ],
          t: 1_500,
          f: 1e21,
        },
      ],
    };
    expect(queryDataJson(value)).toBe(
      '{"resultType":"vector","result":[{"metric":{"b":"x\\"y","a":"é"},"value":[1.5,"1000000000000000000000"]}]}',
    );
    expect(queryDataJson({ resultType: 'scalar', result: { t: 2_000, f: Number.NaN } })).toBe(
      '{"resultType":"scalar","result":[2,"NaN"]}',
    );
    expect(queryDataJson({ resultType: 'string', result: { t: 0, s: 'a\nb' } })).toBe(
      '{"resultType":"string","result":[0,"a\\nb"]}',
    );
  });
});
