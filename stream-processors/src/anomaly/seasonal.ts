/**
 * The seasonal model and the change-point detector on its residuals.
 *
 * Expectation: double-seasonal exponential smoothing (Taylor, "Short-term
 * electricity demand forecasting using double seasonal exponential
 * smoothing", JORS 2003): a level, a daily profile of 96 bins and a weekly
 * profile of 168 hourly bins (what the week adds to the day), plus Taylor's
 * AR(1) correction of the last residual. Learning is robust (Gelper, Fried
 * and Croux, "Robust forecasting with exponential and Holt-Winters
 * smoothing", J. Forecasting 2010): residuals are clipped at `clip` scales
 * before they move anything, so an anomaly does not teach the model.
 * Gains start as running means (1/n) and settle at their constants, so the
 * first two weeks initialise the profiles without a batch pass.
 *
 * Scores: the point score is the larger of the whitened residual (after the
 * AR term) and the raw residual, each over its own tail threshold
 * (`tail-threshold.ts`). The change-point score is Page's CUSUM (Page,
 * "Continuous inspection schemes", Biometrika 1954) on the whitened
 * residuals, clipped so one spike cannot fire it, two-sided for the level and
 * one-sided on |z| for a variance increase. When it fires, or the raw
 * residual stays out of band for `relevelRun` points, the level is moved by
 * the median of the last 8 residuals (the model accepts the new level, as
 * after a deploy) and the sums restart.
 */
import { type ModelContext, medianInPlace } from './context.js';
import {
  type AnomalyModel,
  DAY_MS,
  HOUR_MS,
  type ModelOptions,
  pointRule,
  type Scored,
  WEEK_MS,
} from './model.js';
import { learnProfile, locate, readProfile } from './profile.js';
import { TAIL_SLOTS, tailInit, tailLearn, tailThreshold } from './tail-threshold.js';

/** Which scores of the seasonal model count. */
export type SeasonalMode = 'seasonal' | 'change_point' | 'combined';

/** The seasonal model's constants (defaults in `DEFAULT_SEASONAL_PARAMS`). */
export interface SeasonalParams {
  /** Level gain per point. */
  alpha: number;
  /** Daily profile gain per point (shared by the two bins around it). */
  gammaDay: number;
  /** Weekly profile gain per point. */
  gammaWeek: number;
  /** Gain of the residual scales and of the AR(1) moments. */
  scaleGain: number;
  /** Residuals are clipped at this many scales before they are learned from. */
  clip: number;
  /** CUSUM allowance (z units) and alarm level. */
  cusumK: number;
  cusumH: number;
  /** Whitened residuals enter the CUSUM clipped at this |z|. */
  cusumClip: number;
  /** Variance CUSUM allowance on |z| and its alarm level. */
  varK: number;
  varH: number;
  /** Points the raw residual may stay out of band before the level is moved. */
  relevelRun: number;
  /** Residuals are clipped at this many scales before the scales learn from them. */
  scaleClip: number;
}

/** Constants tuned on the tuning seeds of the benchmark (README, "Benchmark"). */
export const DEFAULT_SEASONAL_PARAMS: SeasonalParams = {
  alpha: 0.005,
  gammaDay: 0.01,
  gammaWeek: 0.02,
  scaleGain: 0.005,
  clip: 3,
  cusumK: 1,
  cusumH: 35,
  cusumClip: 4,
  varK: 2,
  varH: 30,
  relevelRun: 10,
  scaleClip: 2,
};

/** Bins of the daily profile (15 minutes each). */
export const DAY_BINS = 96;
/** Bins of the weekly profile (1 hour each). */
export const WEEK_BINS = 168;
/** Mean absolute deviation to standard deviation, for Gaussian residuals: sqrt(pi/2). */
const MEAN_ABS_TO_SIGMA = 1.2533;
/** Median absolute deviation to mean absolute deviation, for Gaussian residuals. */
const MEDIAN_ABS_TO_MEAN_ABS = 1.183;
/** The AR(1) coefficient is kept in [0, MAX_PHI] so the correction never explodes. */
const MAX_PHI = 0.95;
/** Residuals kept for the median a level move takes. */
const RING = 8;

// Slots of the Float64 part of the state (a one-line reason each where it is not obvious).
const T0 = 0;
const LAST_T = 1;
const N = 2;
const LEVEL = 3;
/** Mean absolute raw residual. */
const SCALE_E = 4;
/** Mean absolute whitened residual. */
const SCALE_I = 5;
/** Exponential averages of e(t)^2 and e(t)e(t-1): phi is their ratio. */
const AR_C0 = 6;
const AR_C1 = 7;
const E_PREV = 8;
const POS = 9;
const NEG = 10;
const VAR = 11;
/** Consecutive points the raw residual was out of band. */
const RUN = 12;
const RING_POS = 13;
const TAIL_I = 14;
const TAIL_E = TAIL_I + TAIL_SLOTS;
const RING0 = TAIL_E + TAIL_SLOTS;
/** Float64 slots; the daily then weekly profile follow as Float32. */
const SCALARS = RING0 + RING;
/** Bytes of one series' state: 26 doubles and 264 floats, 1,264 bytes. */
export const SEASONAL_STATE_BYTES = SCALARS * 8 + (DAY_BINS + WEEK_BINS) * 4;

/** The seasonal model of one series (see the file comment). */
export class SeasonalModel implements AnomalyModel {
  readonly kind: SeasonalMode;
  readonly state: ArrayBuffer;
  private readonly s: Float64Array;
  private readonly prof: Float32Array;

  /** A new model, or one restored from `state` bytes written by another. */
  constructor(
    mode: SeasonalMode,
    private readonly opts: ModelOptions,
    private readonly params: SeasonalParams,
    private readonly ctx: ModelContext,
    state?: ArrayBuffer,
  ) {
    this.kind = mode;
    this.state = state ?? new ArrayBuffer(SEASONAL_STATE_BYTES);
    this.s = new Float64Array(this.state, 0, SCALARS);
    this.prof = new Float32Array(this.state, SCALARS * 8, DAY_BINS + WEEK_BINS);
    if (state === undefined) {
      tailInit(this.s, TAIL_I);
      tailInit(this.s, TAIL_E);
    }
  }

  update(t: number, v: number, out: Scored): boolean {
    const s = this.s;
    const verdict = pointRule(t, v, s[N] === 0 ? -1 : s[LAST_T]!);
    if (verdict === 'end') this.forget();
    if (verdict !== 'score') return false;
    if (s[N] === 0) return this.first(t, v, out);
    const dt = t - s[LAST_T]!;
    if (dt > this.opts.maxGapMs) this.forget();
    const steps = Math.max(1, Math.round(dt / this.opts.intervalMs));
    locate(t, DAY_MS, DAY_BINS, this.ctx.day);
    locate(t, WEEK_MS, WEEK_BINS, this.ctx.week);
    const base =
      s[LEVEL]! + readProfile(this.prof, 0, this.ctx.day) + readProfile(this.prof, DAY_BINS, this.ctx.week);
    const phi = s[AR_C0]! > 0 ? Math.min(MAX_PHI, Math.max(0, s[AR_C1]! / s[AR_C0]!)) : 0;
    const yhat = base + (steps === 1 ? phi : phi ** steps) * s[E_PREV]!;
    const e = v - base;
    const sigE = MEAN_ABS_TO_SIGMA * s[SCALE_E]!;
    const sigI = MEAN_ABS_TO_SIGMA * s[SCALE_I]!;
    const zE = sigE > 0 ? e / sigE : 0;
    const zI = sigI > 0 ? (v - yhat) / sigI : 0;
    const sens = this.opts.sensitivity;
    const thrE = tailThreshold(s, TAIL_E) / sens;
    const thrI = tailThreshold(s, TAIL_I) / sens;
    const point = Math.max(Math.abs(zI) / thrI, Math.abs(zE) / thrE);
    const learning = t - s[T0]! >= DAY_MS;
    const change = learning ? this.cusum(zI, sens) : 0;
    const warm = t - s[T0]! >= this.opts.warmupMs;
    out.score = !warm
      ? 0
      : this.kind === 'seasonal'
        ? point
        : this.kind === 'change_point'
          ? change
          : Math.max(point, change);
    out.yhat = yhat;
    out.lower = Math.max(yhat - thrI * sigI, base - thrE * sigE);
    out.upper = Math.min(yhat + thrI * sigI, base + thrE * sigE);
    this.learn(e, v - yhat, t, steps, [sigE, sigI], warm && (point >= 1 || change >= 1));
    s[RUN] = learning && Math.abs(zE) > thrE ? s[RUN]! + 1 : 0;
    if (learning && (change >= 1 || s[RUN]! >= this.params.relevelRun)) this.relevel(sigE);
    if (learning && (!warm || point < 1)) {
      tailLearn(s, TAIL_I, Math.abs(zI));
      tailLearn(s, TAIL_E, Math.abs(zE));
    }
    s[LAST_T] = t;
    return true;
  }

  /** The first point: the level starts at it; nothing is scored yet. */
  private first(t: number, v: number, out: Scored): boolean {
    const s = this.s;
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

  /** Updates the CUSUM sums with whitened residual `z`; returns the change-point score. */
  private cusum(z: number, sens: number): number {
    const s = this.s;
    const p = this.params;
    const zc = z > p.cusumClip ? p.cusumClip : Math.max(z, -p.cusumClip);
    const az = Math.min(Math.abs(z), p.cusumClip * 1.5);
    s[POS] = Math.max(0, s[POS]! + zc - p.cusumK);
    s[NEG] = Math.max(0, s[NEG]! - zc - p.cusumK);
    s[VAR] = Math.max(0, s[VAR]! + az - p.varK);
    const h = p.cusumH / sens;
    return Math.max(s[POS]! / h, s[NEG]! / h, (s[VAR]! * sens) / p.varH);
  }

  /**
   * Robust learning from raw residual `e` and whitened residual `innov`. A
   * point in alarm teaches nothing (rejection, the strict form of robust
   * smoothing), so a persisting anomaly cannot widen the band it is judged by.
   */
  private learn(
    e: number,
    innov: number,
    t: number,
    steps: number,
    sig: [number, number],
    alarm: boolean,
  ): void {
    const s = this.s;
    const p = this.params;
    const [sigE, sigI] = sig;
    const ce = p.clip * sigE;
    const ec = sigE > 0 ? (e > ce ? ce : Math.max(e, -ce)) : e;
    const pos = s[RING_POS]!;
    s[RING0 + pos] = e;
    s[RING_POS] = (pos + 1) % RING;
    if (alarm) {
      s[E_PREV] = ec;
      return;
    }
    const n = s[N]! + 1;
    s[N] = n;
    const age = t - s[T0]!;
    const perDayBin = DAY_MS / DAY_BINS / this.opts.intervalMs;
    const perWeekBin = HOUR_MS / this.opts.intervalMs;
    const gDay = Math.max(p.gammaDay, 2 / (perDayBin * (1 + Math.floor(age / DAY_MS))));
    const gWeek = Math.max(p.gammaWeek, 2 / (perWeekBin * (1 + Math.floor(age / WEEK_MS))));
    const g = Math.max(p.scaleGain, 1 / n);
    s[LEVEL] = s[LEVEL]! + (age < DAY_MS ? 1 / n : p.alpha) * ec;
    learnProfile(this.prof, 0, this.ctx.day, gDay * ec);
    learnProfile(this.prof, DAY_BINS, this.ctx.week, gWeek * ec);
    const cs = p.scaleClip * sigE;
    const ci = p.scaleClip * sigI;
    const ae = Math.abs(e);
    const ai = Math.abs(innov);
    s[SCALE_E] = s[SCALE_E]! + g * ((sigE > 0 && ae > cs ? cs : ae) - s[SCALE_E]!);
    s[SCALE_I] = s[SCALE_I]! + g * ((sigI > 0 && ai > ci ? ci : ai) - s[SCALE_I]!);
    if (steps === 1) {
      s[AR_C0] = s[AR_C0]! + g * (ec * ec - s[AR_C0]!);
      s[AR_C1] = s[AR_C1]! + g * (ec * s[E_PREV]! - s[AR_C1]!);
    }
    s[E_PREV] = ec;
  }

  /** Accepts a changed level: moves it by the recent median residual, restarts the sums. */
  private relevel(sigE: number): void {
    const s = this.s;
    const a = this.ctx.scratch;
    for (let i = 0; i < RING; i++) a[i] = s[RING0 + i]!;
    const shift = medianInPlace(a, RING);
    if (Math.abs(shift) > 2 * sigE) {
      s[LEVEL] = s[LEVEL]! + shift;
      for (let i = 0; i < RING; i++) s[RING0 + i] = s[RING0 + i]! - shift;
      s[E_PREV] = 0;
    } else if (s[VAR]! * this.opts.sensitivity >= this.params.varH) {
      for (let i = 0; i < RING; i++) a[i] = Math.abs(s[RING0 + i]!);
      const wider = MEDIAN_ABS_TO_MEAN_ABS * medianInPlace(a, RING);
      s[SCALE_E] = Math.max(s[SCALE_E]!, wider);
      s[SCALE_I] = Math.max(s[SCALE_I]!, wider);
    }
    s[POS] = 0;
    s[NEG] = 0;
    s[VAR] = 0;
    s[RUN] = 0;
  }

  /** Forgets the short memory (after a gap or a staleness marker); the profiles stay. */
  private forget(): void {
    const s = this.s;
    s[POS] = 0;
    s[NEG] = 0;
    s[VAR] = 0;
    s[RUN] = 0;
    s[E_PREV] = 0;
  }
}
