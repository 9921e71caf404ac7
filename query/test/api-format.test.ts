import { describe, expect, it } from 'vitest';
import { formatFloat, formatTimestamp, histogramBuckets, histogramJson } from '../src/api/format.js';
import { parseDurationText, parseTimeText } from '../src/api/params.js';

describe('Prometheus float and time formatting', () => {
  it('formats floats as Go strconv.FormatFloat(f, "f", -1, 64)', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [-2.5, '-2.5'],
      [0.1, '0.1'],
      [1e21, '1000000000000000000000'],
      [1.5e-7, '0.00000015'],
      [-1.2345e25, '-12345000000000000000000000'],
      [123456789.125, '123456789.125'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, '+Inf'],
      [Number.NEGATIVE_INFINITY, '-Inf'],
      [Number.MAX_VALUE, `17976931348623157${'0'.repeat(292)}`],
      [5e-324, `0.${'0'.repeat(323)}5`],
    ];
    for (const [v, s] of cases) expect(formatFloat(v), String(v)).toBe(s);
  });

  it('round-trips random floats through the formatted text', () => {
    const view = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < 2000; i++) {
      view.setUint32(0, (Math.random() * 2 ** 32) >>> 0);
      view.setUint32(4, (Math.random() * 2 ** 32) >>> 0);
      const v = view.getFloat64(0);
      if (!Number.isFinite(v)) continue;
      const s = formatFloat(v);
      expect(s).not.toMatch(/e/i);
      expect(Number(s)).toBe(v);
    }
  });

  it('formats timestamps as seconds with up to three decimals', () => {
    expect(formatTimestamp(1435781451781)).toBe('1435781451.781');
    expect(formatTimestamp(1435781451500)).toBe('1435781451.5');
    expect(formatTimestamp(1000)).toBe('1');
    expect(formatTimestamp(1)).toBe('0.001');
    expect(formatTimestamp(0)).toBe('0');
    expect(formatTimestamp(-1500)).toBe('-1.5');
  });
});

describe('parameter parsing', () => {
  it('parses times as float seconds and RFC 3339', () => {
    expect(parseTimeText('1.5')).toBe(1500);
    expect(parseTimeText('1435781451.781')).toBe(1435781451781);
    expect(parseTimeText('-1')).toBe(-1000);
    expect(parseTimeText('2015-07-01T20:10:51.781Z')).toBe(1435781451781);
    expect(parseTimeText('2015-07-01T20:10:51-01:30')).toBe(1435781451000 + 5400_000);
    for (const bad of ['', 'now', '1e400', 'NaN', '2015-02-30T00:00:00Z', '2015-07-01 20:10:51Z', '0x10'])
      expect(parseTimeText(bad), bad).toBeUndefined();
  });

  it('parses durations as float seconds and Prometheus durations', () => {
    expect(parseDurationText('15')).toBe(15_000);
    expect(parseDurationText('0.5')).toBe(500);
    expect(parseDurationText('1h30m')).toBe(5_400_000);
    expect(parseDurationText('1y2w3d4h5m6s7ms')).toBe(
      365 * 86_400_000 + 14 * 86_400_000 + 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6000 + 7,
    );
    expect(parseDurationText('5m1h')).toMatch(/cannot parse/);
    expect(parseDurationText('')).toMatch(/cannot parse/);
    expect(parseDurationText('1e30')).toMatch(/overflows int64/);
  });
});

describe('native histogram JSON', () => {
  const base = {
    counterResetHint: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    negativeSpans: [],
    negativeBuckets: [],
    customValues: [],
  };

  it('lists exponential buckets from the lowest to the highest value, skipping empty ones', () => {
    const rows = histogramBuckets({
      ...base,
      schema: 1,
      count: 6,
      sum: 3,
      zeroThreshold: 0.5,
      zeroCount: 1,
      positiveSpans: [
        { offset: 1, length: 2 },
        { offset: 1, length: 1 },
      ],
      positiveBuckets: [1, 0, 2],
      negativeSpans: [{ offset: 0, length: 2 }],
      negativeBuckets: [1, 1],
    });
    const r2 = Math.SQRT2;
    const want = [
      [1, -r2, -1, 1],
      [1, -1, -1 / r2, 1],
      [3, -0.5, 0.5, 1],
      [0, 1, r2, 1],
      [0, 2 * r2, 4, 2],
    ];
    expect(rows).toHaveLength(want.length);
    // Bounds may differ from Prometheus' precomputed table in the last bit, so compare closely.
    rows.forEach((row, i) => {
      expect(row[0]).toBe(want[i]![0]);
      for (let k = 1; k < 4; k++) expect(row[k]).toBeCloseTo(want[i]![k]!, 14);
    });
  });

  it('writes custom-bucket histograms with -Inf and +Inf edges', () => {
    expect(
      histogramJson({
        ...base,
        schema: -53,
        count: 4,
        sum: 10,
        customValues: [1, 5],
        positiveSpans: [{ offset: 0, length: 3 }],
        positiveBuckets: [1, 0, 3],
      }),
    ).toBe('{"count":"4","sum":"10","buckets":[[0,"-Inf","1","1"],[0,"5","+Inf","3"]]}');
    expect(
      histogramJson({ ...base, schema: 0, count: 0, sum: 0, positiveSpans: [], positiveBuckets: [] }),
    ).toBe('{"count":"0","sum":"0"}');
  });
});
