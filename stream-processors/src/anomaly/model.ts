/**
 * The model seam of anomaly detection: a model is fed one series' points in
 * time order and, for each, writes what it expected and how strange the point
 * was. Its whole state is one `ArrayBuffer`, so a checkpoint is its bytes.
 */
import { isStaleNaN } from '@promstream/storage';

/** What a model says about one point. The caller owns it and reuses it across points. */
export interface Scored {
  /** Above 1 the point is anomalous; 0 while the model is still warming up. */
  score: number;
  /** The value the model expected. */
  yhat: number;
  /** The lowest value the model would not call anomalous. */
  lower: number;
  /** The highest value the model would not call anomalous. */
  upper: number;
}

/** The models a query can be watched with. */
export const MODEL_KINDS = ['combined', 'seasonal', 'change_point', 'robust_z', 'trend'] as const;

/** A model's name, as configured and as written in `Anomaly.model`. */
export type ModelKind = (typeof MODEL_KINDS)[number];

/** One series' model. */
export interface AnomalyModel {
  /** Which model this is. */
  readonly kind: ModelKind;
  /**
   * Scores the value at time `t` (ms) and learns from it, writing into `out`.
   * Returns false, leaving `out` untouched, when the point is not scored
   * (see `pointRule`).
   */
  update(t: number, v: number, out: Scored): boolean;
  /** The model's whole state; `restore` of these bytes gives the same model. */
  readonly state: ArrayBuffer;
}

/** Options every model takes. */
export interface ModelOptions {
  /** The evaluation interval in ms (the spacing the model expects between points). */
  intervalMs: number;
  /** Points are learned from but scored 0 until this long after the first point (ms). */
  warmupMs: number;
  /** Larger finds more: the alert threshold is divided by it. 1 by default. */
  sensitivity: number;
  /** A gap longer than this (ms) forgets the short memory (change-point sums, last residual). */
  maxGapMs: number;
}

/** A whole day in ms. */
export const DAY_MS = 86_400_000;
/** A whole week in ms. */
export const WEEK_MS = 7 * DAY_MS;
/** A whole hour in ms. */
export const HOUR_MS = 3_600_000;

/** Defaults that suit node-exporter data evaluated every minute. */
export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  intervalMs: 60_000,
  warmupMs: 7 * DAY_MS,
  sensitivity: 1,
  maxGapMs: 30 * 60_000,
};

/** What a model does with one input point (documented in the README, "Input rule"). */
export type PointVerdict = 'score' | 'skip' | 'end';

/**
 * The input rule shared by every model: finite values after the last one are
 * scored; a staleness marker ends the series' short memory; NaN, ±Inf and
 * points at or before the last scored time are skipped (neither scored nor
 * learned from).
 */
export function pointRule(t: number, v: number, lastT: number): PointVerdict {
  if (Number.isFinite(v)) return lastT >= 0 && t <= lastT ? 'skip' : 'score';
  return isStaleNaN(v) ? 'end' : 'skip';
}
