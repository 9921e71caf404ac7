import { describe, expect, it } from 'vitest';
import { countRequest, type WriteSeries } from './types.js';
import { applyWindow } from './window.js';

const now = 1_800_000_000_000;
const window = { pastMs: 600_000, futureMs: 600_000 };

function series(name: string, timestamps: number[], histogramAt: number[] = []): WriteSeries {
  return {
    labels: [{ name: '__name__', value: name }],
    timestamps,
    values: timestamps.map((_, i) => i + 0.5),
    exemplars: 0,
    histograms: histogramAt.map((timestamp) => ({
      timestamp,
      integer: true,
      histogram: {
        counterResetHint: 0,
        schema: 0,
        zeroThreshold: 0,
        zeroCount: 0,
        count: 1,
        sum: 1,
        positiveSpans: [],
        negativeSpans: [],
        positiveBuckets: [],
        negativeBuckets: [],
        customValues: [],
      },
    })),
  };
}

describe('the sample window', () => {
  it('keeps a request whose samples are all inside as it is', () => {
    const req = countRequest([series('a', [now - 600_000, now, now + 600_000], [now])]);
    const out = applyWindow(req, now, window);
    expect(out.kept).toBe(req);
    expect(out.tooOld).toBeUndefined();
    expect(out.tooNew).toBeUndefined();
  });

  it('refuses samples and histograms outside one by one and keeps the rest', () => {
    const req = countRequest([
      series('ok', [now]),
      series('mixed', [now - 600_001, now - 1, now + 600_001], [now + 700_000, now]),
      series('future', [32_503_680_000_000]),
      series('ok2', [now + 1]),
    ]);
    const out = applyWindow(req, now, window);
    expect(out.kept.series.map((s) => s.labels[0]!.value)).toEqual(['ok', 'mixed', 'ok2']);
    const mixed = out.kept.series[1]!;
    expect(mixed.timestamps).toEqual([now - 1]);
    expect(mixed.values).toEqual([1.5]);
    expect(mixed.histograms.map((h) => h.timestamp)).toEqual([now]);
    expect(out.kept.samples).toBe(3);
    expect(out.kept.histograms).toBe(1);
    expect(out.tooOld).toMatchObject({ count: 1, bound: now - 600_000, timestamp: now - 600_001 });
    expect(out.tooNew).toMatchObject({ count: 3, bound: now + 600_000, timestamp: now + 600_001 });
    expect(out.tooNew!.series.labels[0]!.value).toBe('mixed');
    // The request handed in is not changed.
    expect(req.series[1]!.timestamps).toHaveLength(3);
  });

  it('refuses timestamps a number cannot hold exactly, however wide the window', () => {
    const wide = { pastMs: 1e300, futureMs: 1e300 };
    const extremes = [2 ** 63, -(2 ** 63), 2 ** 53, -(2 ** 53), Number.NaN];
    const req = countRequest(extremes.map((t, i) => series(`s${i}`, [t])));
    const out = applyWindow(req, now, wide);
    expect(out.kept.series).toHaveLength(0);
    expect((out.tooNew?.count ?? 0) + (out.tooOld?.count ?? 0)).toBe(5);
    const edges = countRequest([series('edge', [2 ** 53 - 1, -(2 ** 53 - 1)])]);
    expect(applyWindow(edges, now, wide).kept).toBe(edges);
  });
});
