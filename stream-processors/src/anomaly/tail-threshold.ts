/**
 * Alert thresholds calibrated on each series' own tail (peaks over
 * threshold, after Siffer et al., "Anomaly Detection in Streams with Extreme
 * Value Theory", KDD 2017). The 99th percentile `u` of |z| is tracked by
 * stochastic approximation, the mean excess `beta` of |z| over `u` by an
 * exponential average, and the tail above `u` is taken as exponential (the
 * Gumbel domain, generalized Pareto shape 0). The |z| exceeded with
 * probability `p` per point is then `u + beta * ln(0.01 / p)`: about 7.0 for
 * Gaussian residuals and 12.3 for Laplace ones, so heavy-tailed series get a
 * wider band without hand tuning. Two numbers per statistic, O(1) per point.
 */

/** Slots a tail threshold takes in a model's state. */
export const TAIL_SLOTS = 2;

/** The per-point false-alarm probability the threshold aims at (3e-8: 0.04 per 1,000 series-days at 1m, if residuals were independent). */
export const TAIL_TARGET_P = 3e-8;
/** The exceedance probability of `u`. */
const Q_EXCEED = 0.01;
/** ln(Q_EXCEED / TAIL_TARGET_P): how many mean excesses above `u` the threshold lies. */
const LOG_RATIO = Math.log(Q_EXCEED / TAIL_TARGET_P);
/** Step of the quantile tracker per point, in z units. */
const U_STEP = 0.05;
/** Gain of the mean-excess average per exceedance. */
const BETA_GAIN = 0.02;
/** An excess counts at most this much, so one anomaly does not widen the band for days. */
const MAX_EXCESS = 8;
/** No threshold is below this, whatever the tail looks like (a short history can look thin-tailed). */
export const MIN_THRESHOLD = 4;

/** Starts a tail at the Gaussian's values. */
export function tailInit(s: Float64Array, off: number): void {
  s[off] = 2.58;
  s[off + 1] = 0.35;
}

/** The |z| above which a point is anomalous. */
export function tailThreshold(s: Float64Array, off: number): number {
  const t = s[off]! + s[off + 1]! * LOG_RATIO;
  return Math.max(t, MIN_THRESHOLD);
}

/** Learns from one |z| that was not anomalous. */
export function tailLearn(s: Float64Array, off: number, absZ: number): void {
  const u = s[off]!;
  if (absZ > u) {
    s[off] = u + U_STEP * (1 - Q_EXCEED);
    const excess = Math.min(absZ - u, MAX_EXCESS);
    s[off + 1] = s[off + 1]! + BETA_GAIN * (excess - s[off + 1]!);
  } else {
    const next = u - U_STEP * Q_EXCEED;
    s[off] = Math.max(next, 1);
  }
}
