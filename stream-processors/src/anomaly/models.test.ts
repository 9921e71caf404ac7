import { STALE_NAN } from '@promstream/storage';
import { describe, expect, it } from 'vitest';
import { medianInPlace, newContext } from './context.js';
import { HoltModel } from './holt.js';
import { DAY_MS, type ModelOptions, pointRule, type Scored } from './model.js';
import { createModel } from './models.js';
import { learnProfile, locate, readProfile } from './profile.js';
import { RobustZModel } from './robust-z.js';
import { DEFAULT_SEASONAL_PARAMS, SEASONAL_STATE_BYTES, SeasonalModel } from './seasonal.js';
import { MIN_THRESHOLD, tailInit, tailLearn, tailThreshold } from './tail-threshold.js';

const MIN = 60_000;
const opts: ModelOptions = { intervalMs: MIN, warmupMs: 0, sensitivity: 1, maxGapMs: 30 * MIN };
const fresh = (): Scored => ({ score: Number.NaN, yhat: Number.NaN, lower: Number.NaN, upper: Number.NaN });

describe('tail threshold', () => {
  it('starts at the Gaussian tail: 2.58 + 0.35 ln(0.01 / 3e-8) = 7.0309', () => {
    const s = new Float64Array(2);
    tailInit(s, 0);
    expect(tailThreshold(s, 0)).toBeCloseTo(7.0309, 4);
  });
  it('moves u up by 0.0495 and beta toward the excess on an exceedance, u down by 0.0005 otherwise', () => {
    const s = new Float64Array(2);
    tailInit(s, 0);
    tailLearn(s, 0, 3);
    expect(s[0]).toBeCloseTo(2.6295, 10);
    expect(s[1]).toBeCloseTo(0.35 + 0.02 * (0.42 - 0.35), 10);
    tailLearn(s, 0, 1);
    expect(s[0]).toBeCloseTo(2.629, 10);
  });
  it('never goes below the floor', () => {
    const s = new Float64Array([1, 0]);
    expect(tailThreshold(s, 0)).toBe(MIN_THRESHOLD);
  });
});

describe('profile and median', () => {
  it('interpolates between bin centres', () => {
    const slot = { i0: 0, i1: 0, w1: 0 };
    // 6h into a 4-bin day: p = 0.25 * 4 - 0.5 = 0.5, between bins 0 and 1 half-way.
    locate(6 * 3_600_000, DAY_MS, 4, slot);
    expect(slot).toEqual({ i0: 0, i1: 1, w1: 0.5 });
    const prof = new Float32Array([2, 4, 0, 0]);
    expect(readProfile(prof, 0, slot)).toBe(3);
    learnProfile(prof, 0, slot, 1);
    expect(Array.from(prof)).toEqual([2.5, 4.5, 0, 0]);
    // Midnight wraps: p = -0.5 is between the last bin and the first.
    locate(0, DAY_MS, 4, slot);
    expect(slot).toEqual({ i0: 3, i1: 0, w1: 0.5 });
  });
  it('takes medians by quickselect like a sort does', () => {
    const a = new Float64Array(64);
    for (let n = 1; n <= 64; n++) {
      for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898 + n) * 43758.5453 - Math.floor(i / 3);
      const sorted = Array.from(a.subarray(0, n)).sort((x, y) => x - y);
      const want = n % 2 ? sorted[n >> 1]! : (sorted[(n >> 1) - 1]! + sorted[n >> 1]!) / 2;
      expect(medianInPlace(a, n)).toBe(want);
    }
  });
});

describe('input rule', () => {
  it('scores finite values after the last time, ends on a staleness marker, skips the rest', () => {
    expect(pointRule(10, 1, -1)).toBe('score');
    expect(pointRule(10, 1, 10)).toBe('skip');
    expect(pointRule(10, Number.NaN, 5)).toBe('skip');
    expect(pointRule(10, Number.POSITIVE_INFINITY, 5)).toBe('skip');
    expect(pointRule(10, STALE_NAN, 5)).toBe('end');
  });
  it.each(['combined', 'robust_z', 'trend'] as const)(
    '%s neither scores nor learns NaN, Inf, stale or old points',
    (kind) => {
      const m = createModel(kind, opts, newContext());
      const out = fresh();
      for (let i = 0; i < 40; i++) expect(m.update(i * MIN, 10 + (i % 3), out)).toBe(true);
      const before = new Uint8Array(m.state.slice(0));
      for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        expect(m.update(40 * MIN, v, out)).toBe(false);
      }
      expect(m.update(39 * MIN, 10, out)).toBe(false);
      expect(new Uint8Array(m.state)).toEqual(before);
      expect(m.update(40 * MIN, STALE_NAN, out)).toBe(false);
      expect(m.update(41 * MIN, 11, out)).toBe(true);
      expect(Number.isFinite(out.score)).toBe(true);
    },
  );
});

describe('Holt trend', () => {
  const params = { alpha: 0.5, beta: 0.5, clip: 3, scaleGain: 0.1 };
  it('follows the hand-computed recursion', () => {
    const m = new HoltModel(opts, params);
    const out = fresh();
    m.update(0, 10, out);
    expect(out).toEqual({ score: 0, yhat: 10, lower: 10, upper: 10 });
    // yhat 10, e 2; L = 10 + 0.5*2 = 11, B = 0.5*0.5*2 = 0.5, scale = 0.5*2 = 1.
    m.update(MIN, 12, out);
    expect(out.yhat).toBe(10);
    // yhat 11.5, e 1.5, sigma 1.2533, z 1.19685, threshold after one |z|=0: 2.5795 + 4.4509 = 7.0304.
    m.update(2 * MIN, 13, out);
    expect(out.yhat).toBe(11.5);
    expect(out.score).toBeCloseTo(1.5 / 1.2533 / 7.0304, 3);
    // L = 11.5 + 0.5*1.5 = 12.25, B = 0.5 + 0.25*1.5 = 0.875.
    expect(m.forecast(2 * MIN)).toBeCloseTo(14, 10);
    expect(m.crossingIn(20)).toBeCloseTo(((20 - 12.25) / 0.875) * MIN, 6);
    expect(m.crossingIn(0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('robust z-score', () => {
  it('scores against the window median and 1.4826 MAD', () => {
    const m = new RobustZModel(opts, 16, newContext());
    const out = fresh();
    for (let i = 1; i <= 16; i++) m.update(i * MIN, i, out);
    expect(out.score).toBe(0);
    // median of 1..16 = 8.5; MAD = 4; sigma 5.9304; z = 91.5 / 5.9304 = 15.4289; threshold 7.0309.
    m.update(17 * MIN, 100, out);
    expect(out.yhat).toBe(8.5);
    expect(out.score).toBeCloseTo(15.4289 / 7.0309, 3);
    expect(out.upper).toBeCloseTo(8.5 + 7.0309 * 5.9304, 2);
  });
  it('refuses a window it cannot take', () => {
    expect(() => new RobustZModel(opts, 4, newContext())).toThrow(RangeError);
  });
});

describe('seasonal model', () => {
  it('follows the hand-computed first steps', () => {
    const m = new SeasonalModel('combined', opts, DEFAULT_SEASONAL_PARAMS, newContext());
    const out = fresh();
    m.update(0, 10, out);
    expect(out.yhat).toBe(10);
    m.update(MIN, 14, out);
    expect(out.yhat).toBe(10);
    // Level 10 + 1/2 * 4 = 12; day bins 95 and 0 get 0.4333 and 0.5667 of 4 * 2/15;
    // week bins 167 and 0 get 0.4833 and 0.5167 of 4 * 2/60. At 2m the interpolated
    // profiles read 0.27615 and 0.066815; the AR(1) coefficient is still 0.
    m.update(2 * MIN, 14, out);
    expect(out.yhat).toBeCloseTo(12 + 0.27615 + 0.066815, 4);
    expect(m.state.byteLength).toBe(SEASONAL_STATE_BYTES);
    expect(SEASONAL_STATE_BYTES).toBeLessThanOrEqual(2048);
  });

  const daily = (t: number) => 100 + 30 * Math.sin((2 * Math.PI * t) / DAY_MS) + ((t / MIN) % 7) - 3;
  const trained = () => {
    const m = new SeasonalModel(
      'combined',
      { ...opts, warmupMs: 3 * DAY_MS },
      DEFAULT_SEASONAL_PARAMS,
      newContext(),
    );
    const out = fresh();
    let alerts = 0;
    const end = 5 * DAY_MS;
    for (let t = 0; t < end; t += MIN) {
      m.update(t, daily(t), out);
      if (out.score > 1) alerts++;
    }
    return { m, out, alerts, end };
  };

  it('learns a daily pattern without alerting, then flags a spike at once', () => {
    const { m, out, alerts, end } = trained();
    expect(alerts).toBe(0);
    expect(Math.abs(out.yhat - daily(end - MIN))).toBeLessThan(3);
    m.update(end, daily(end) + 60, out);
    expect(out.score).toBeGreaterThan(1);
    expect(out.upper).toBeLessThan(daily(end) + 60);
  });

  it('flags a level shift within two points', () => {
    const { m, out, end } = trained();
    let first = -1;
    for (let k = 0; k < 10 && first < 0; k++) {
      m.update(end + k * MIN, daily(end + k * MIN) + 25, out);
      if (out.score > 1) first = k;
    }
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThanOrEqual(2);
  });

  it('restores from its state bytes to the same model', () => {
    const { m, end } = trained();
    const copy = new SeasonalModel(
      'combined',
      { ...opts, warmupMs: 3 * DAY_MS },
      DEFAULT_SEASONAL_PARAMS,
      newContext(),
      m.state.slice(0),
    );
    const a = fresh();
    const b = fresh();
    for (let k = 0; k < 100; k++) {
      const t = end + k * MIN;
      m.update(t, daily(t) + (k === 50 ? 40 : 0), a);
      copy.update(t, daily(t) + (k === 50 ? 40 : 0), b);
      expect(b).toEqual(a);
    }
  });
});
