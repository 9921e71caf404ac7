/**
 * Holt's linear trend method (Holt, "Forecasting seasonals and trends by
 * exponentially weighted moving averages", 1957; Hyndman and Athanasopoulos,
 * "Forecasting: Principles and Practice", section 8.2) for capacity: a level
 * and a slope per interval, learned robustly (clipped residuals), giving the
 * forecast `level + h * slope` and the time until the series crosses a
 * value ("disk full in N hours"). Its anomaly score is the one-step residual
 * over the tail threshold, so it flags a break in the trend. O(1) per point,
 * 8 doubles of state.
 */
import { type AnomalyModel, type ModelOptions, pointRule, type Scored } from './model.js';
import { TAIL_SLOTS, tailInit, tailLearn, tailThreshold } from './tail-threshold.js';

/** Holt's constants. */
export interface HoltParams {
  /** Level gain. */
  alpha: number;
  /** Slope gain (relative to alpha, as in Hyndman's error-correction form). */
  beta: number;
  /** Residuals are clipped at this many scales before they are learned from. */
  clip: number;
  /** Gain of the residual scale. */
  scaleGain: number;
}

/** Defaults: a slope that follows hours, not minutes, of data at 1m. */
export const DEFAULT_HOLT_PARAMS: HoltParams = { alpha: 0.05, beta: 0.05, clip: 3, scaleGain: 0.01 };

const MEAN_ABS_TO_SIGMA = 1.2533;
const T0 = 0;
const LAST_T = 1;
const N = 2;
const LEVEL = 3;
const SLOPE = 4;
const SCALE = 5;
const TAIL = 6;
const SCALARS = TAIL + TAIL_SLOTS;
/** Bytes of one series' state. */
export const HOLT_STATE_BYTES = SCALARS * 8;

/** The trend forecaster of one series. */
export class HoltModel implements AnomalyModel {
  readonly kind = 'trend' as const;
  readonly state: ArrayBuffer;
  private readonly s: Float64Array;

  /** A new model, or one restored from `state`. */
  constructor(
    private readonly opts: ModelOptions,
    private readonly params: HoltParams,
    state?: ArrayBuffer,
  ) {
    this.state = state ?? new ArrayBuffer(HOLT_STATE_BYTES);
    this.s = new Float64Array(this.state);
    if (state === undefined) tailInit(this.s, TAIL);
  }

  update(t: number, v: number, out: Scored): boolean {
    const s = this.s;
    const verdict = pointRule(t, v, s[N] === 0 ? -1 : s[LAST_T]!);
    if (verdict !== 'score') return false;
    if (s[N] === 0) {
      s[T0] = t;
      s[LAST_T] = t;
      s[LEVEL] = v;
      s[N] = 1;
      out.score = 0;
      out.yhat = v;
      out.lower = v;
      out.upper = v;
      return true;
    }
    const p = this.params;
    const steps = Math.max(1, Math.round((t - s[LAST_T]!) / this.opts.intervalMs));
    const yhat = s[LEVEL]! + steps * s[SLOPE]!;
    const e = v - yhat;
    const sigma = MEAN_ABS_TO_SIGMA * s[SCALE]!;
    const z = sigma > 0 ? e / sigma : 0;
    const thr = tailThreshold(s, TAIL) / this.opts.sensitivity;
    const score = Math.abs(z) / thr;
    const warm = t - s[T0]! >= this.opts.warmupMs;
    out.score = warm ? score : 0;
    out.yhat = yhat;
    out.lower = yhat - thr * sigma;
    out.upper = yhat + thr * sigma;
    const n = s[N]! + 1;
    s[N] = n;
    const c = p.clip * sigma;
    const ec = sigma > 0 ? (e > c ? c : Math.max(e, -c)) : e;
    const a = Math.max(p.alpha, 1 / n);
    s[LEVEL] = yhat + a * ec;
    s[SLOPE] = s[SLOPE]! + (a * Math.max(p.beta, 1 / n) * ec) / steps;
    s[SCALE] =
      s[SCALE]! +
      Math.max(p.scaleGain, 1 / n) * (Math.min(Math.abs(e), sigma > 0 ? c : Infinity) - s[SCALE]!);
    if (!warm || score < 1) tailLearn(s, TAIL, Math.abs(z));
    s[LAST_T] = t;
    return true;
  }

  /** The value expected `horizonMs` after the last point. */
  forecast(horizonMs: number): number {
    return this.s[LEVEL]! + (horizonMs / this.opts.intervalMs) * this.s[SLOPE]!;
  }

  /** Ms after the last point until the trend reaches `x`; Infinity when it is moving away or flat. */
  crossingIn(x: number): number {
    const slope = this.s[SLOPE]!;
    if (slope === 0) return Number.POSITIVE_INFINITY;
    const steps = (x - this.s[LEVEL]!) / slope;
    return steps >= 0 ? steps * this.opts.intervalMs : Number.POSITIVE_INFINITY;
  }
}
