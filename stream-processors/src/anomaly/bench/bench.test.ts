import { describe, expect, it } from 'vitest';
import type { Episode } from '../episodes.js';
import { DAY_MS } from '../model.js';
import { RollingZ, StaticThreshold } from './baselines.js';
import { ANOMALY_KINDS, EVAL_DAYS, type GeneratedSeries, generateSeries, generateSet } from './generators.js';
import { BENCH_MODEL_OPTIONS, modelInput, runSet } from './run.js';
import { newTally, quality, scoreSeries } from './scoring.js';

const MIN = 60_000;
const out = () => ({ score: 0, yhat: 0, lower: 0, upper: 0 });

describe('NAB-style scoring', () => {
  const series = {
    intervalMs: MIN,
    windows: [
      { kind: 'spike', start: 100 * MIN, end: 100 * MIN, windowEnd: 110 * MIN },
      { kind: 'spike', start: 500 * MIN, end: 500 * MIN, windowEnd: 510 * MIN },
    ],
  } as unknown as GeneratedSeries;
  const ep = (start: number, end: number): Episode => ({
    start: start * MIN,
    end: end * MIN,
    peakScore: 2,
    peakAt: start * MIN,
    expected: 0,
    actual: 0,
    model: 'combined',
  });
  it('counts found windows, false positives, delays and the NAB score', () => {
    const t = newTally();
    scoreSeries(series, [ep(102, 103), ep(300, 301)], 7, t);
    expect(t).toMatchObject({
      windows: 2,
      found: 1,
      truePositives: 1,
      falsePositives: 1,
      seriesDays: 7,
      delays: [2],
    });
    const q = quality(t);
    expect(q.precision).toBe(0.5);
    expect(q.recall).toBe(0.5);
    expect(q.f1).toBe(0.5);
    expect(q.fpPer1000SeriesDays).toBeCloseTo(1000 / 7, 10);
    // Found at 2 of 10: y = -0.8, sigmoid 2/(1+e^-4)-1 = 0.96403; raw = 0.96403 - 1 - 0.11.
    expect(q.nab).toBeCloseTo((100 * (0.96403 - 1.11 + 2)) / 4, 3);
    expect(q.medianDelay).toBe(2);
  });
  it('takes an episode that began before a window as found at its start', () => {
    const t = newTally();
    scoreSeries(series, [ep(95, 120)], 7, t);
    expect(t.delays).toEqual([0]);
    expect(t.falsePositives).toBe(0);
  });
});

describe('generators', () => {
  it('are deterministic per seed and keep anomalies inside the evaluation week', () => {
    const a = generateSeries(42, 'level_shift');
    const b = generateSeries(42, 'level_shift');
    expect(b.scraped).toEqual(a.scraped);
    expect(generateSeries(43, 'level_shift').scraped).not.toEqual(a.scraped);
    for (const w of a.windows) {
      expect(w.start).toBeGreaterThanOrEqual(a.evalStart);
      expect(w.windowEnd).toBeLessThan(a.evalStart + EVAL_DAYS * DAY_MS);
    }
    expect(generateSeries(42, 'clean').windows).toEqual([]);
  });
  it('give every kind, counters with resets read back as rates, and missing scrapes', () => {
    const set = generateSet(9, { perKind: 3, clean: 2 });
    expect(new Set(set.map((s) => s.kind))).toEqual(new Set([...ANOMALY_KINDS, 'clean']));
    const counter = set.find((s) => s.counter)!;
    let drops = 0;
    for (let i = 1; i < counter.scraped.length; i++)
      if (counter.scraped[i]! < counter.scraped[i - 1]!) drops++;
    expect(drops).toBeGreaterThan(0);
    const rate = modelInput(counter);
    for (const v of rate) if (!Number.isNaN(v)) expect(v).toBeGreaterThanOrEqual(0);
    expect(set.every((s) => s.scraped.some(Number.isNaN))).toBe(true);
  });
});

describe('baselines', () => {
  it('rolling 3-sigma scores |v - mean| / 3 sd of the window', () => {
    const z = new RollingZ({ ...BENCH_MODEL_OPTIONS, warmupMs: 0 }, 4);
    const o = out();
    for (const [i, v] of [1, 3, 1, 3].entries()) z.update(i * MIN, v, o);
    z.update(4 * MIN, 8, o);
    // mean 2, sd 1: (8 - 2) / 3 = 2.
    expect(o.score).toBe(2);
  });
  it('static threshold alerts outside the training range widened by 10%', () => {
    const s = new StaticThreshold({ ...BENCH_MODEL_OPTIONS, warmupMs: 2 * MIN });
    const o = out();
    s.update(0, 0, o);
    s.update(MIN, 10, o);
    s.update(2 * MIN, 10.5, o);
    expect(o.score).toBeLessThan(1);
    s.update(3 * MIN, 11.5, o);
    // band [-1, 11], mid 5: (11.5 - 5) / 6.
    expect(o.score).toBeCloseTo(6.5 / 6, 10);
  });
});

describe('benchmark run', () => {
  it('finds the anomalies of a small held-out set and raises no alarm on its clean series', () => {
    const result = runSet(generateSet(2, { perKind: 2, clean: 4 }), ['combined', 'rolling_3sigma']);
    const combined = quality(result.get('combined')!.get('all')!);
    expect(combined.f1).toBeGreaterThan(0.85);
    expect(result.get('combined')!.get('clean')!.falsePositives).toBe(0);
    expect(quality(result.get('rolling_3sigma')!.get('all')!).precision).toBeLessThan(0.5);
  }, 120_000);
});
