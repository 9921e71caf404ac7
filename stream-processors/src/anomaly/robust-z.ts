/**
 * Robust z-score on a moving median and MAD, for spiky series with no
 * useful seasonality (Hampel's identifier; Leys et al., "Detecting outliers:
 * do not use standard deviation around the mean, use absolute deviation
 * around the median", J. Exp. Social Psychology 2013). The expectation is the
 * median of the last `window` values; the scale is 1.4826 MAD, or the mean
 * absolute deviation from the median when more than half the window is one
 * value (quantized series). The median of the window moves past a spike
 * without being dragged by it, so the next points score normally. Cost: two
 * quickselects over the window per point, O(window).
 */
import { MAX_MEDIAN_WINDOW, type ModelContext, medianInPlace } from './context.js';
import { type AnomalyModel, type ModelOptions, pointRule, type Scored } from './model.js';
import { TAIL_SLOTS, tailInit, tailLearn, tailThreshold } from './tail-threshold.js';

/** Values the median is taken over by default (an hour at 1m). */
export const DEFAULT_ROBUST_WINDOW = 60;
/** No score until the window holds this many values. */
const MIN_FILL = 16;
/** 1 / Phi^-1(3/4): MAD to standard deviation for Gaussian data. */
const MAD_TO_SIGMA = 1.4826;
/** Mean absolute deviation to standard deviation for Gaussian data. */
const MEAN_ABS_TO_SIGMA = 1.2533;

const T0 = 0;
const LAST_T = 1;
const FILLED = 2;
const POS = 3;
const TAIL = 4;
const SCALARS = TAIL + TAIL_SLOTS;

/** Bytes of one series' state for a window of `window` values. */
export function robustStateBytes(window: number): number {
  return SCALARS * 8 + window * 4;
}

/** The robust z-score model of one series. */
export class RobustZModel implements AnomalyModel {
  readonly kind = 'robust_z' as const;
  readonly state: ArrayBuffer;
  private readonly s: Float64Array;
  private readonly ring: Float32Array;

  /** A new model over `window` values, or one restored from `state`. */
  constructor(
    private readonly opts: ModelOptions,
    private readonly window: number,
    private readonly ctx: ModelContext,
    state?: ArrayBuffer,
  ) {
    if (window < MIN_FILL || window > MAX_MEDIAN_WINDOW) {
      throw new RangeError(`robust_z window must be in [${MIN_FILL}, ${MAX_MEDIAN_WINDOW}], got ${window}`);
    }
    this.state = state ?? new ArrayBuffer(robustStateBytes(window));
    this.s = new Float64Array(this.state, 0, SCALARS);
    this.ring = new Float32Array(this.state, SCALARS * 8, window);
    if (state === undefined) {
      this.s[LAST_T] = -1;
      tailInit(this.s, TAIL);
    }
  }

  update(t: number, v: number, out: Scored): boolean {
    const s = this.s;
    const verdict = pointRule(t, v, s[LAST_T]!);
    if (verdict !== 'score') return false;
    if (s[LAST_T]! < 0) s[T0] = t;
    s[LAST_T] = t;
    const filled = s[FILLED]!;
    if (filled < MIN_FILL) {
      out.score = 0;
      out.yhat = v;
      out.lower = v;
      out.upper = v;
    } else {
      this.score(t, v, filled, out);
    }
    const pos = s[POS]!;
    this.ring[pos] = v;
    s[POS] = (pos + 1) % this.window;
    if (filled < this.window) s[FILLED] = filled + 1;
    return true;
  }

  private score(t: number, v: number, filled: number, out: Scored): void {
    const s = this.s;
    const a = this.ctx.scratch;
    for (let i = 0; i < filled; i++) a[i] = this.ring[i]!;
    const med = medianInPlace(a, filled);
    let meanAbs = 0;
    for (let i = 0; i < filled; i++) {
      const d = Math.abs(this.ring[i]! - med);
      a[i] = d;
      meanAbs += d;
    }
    const mad = medianInPlace(a, filled);
    let sigma = mad > 0 ? MAD_TO_SIGMA * mad : (MEAN_ABS_TO_SIGMA * meanAbs) / filled;
    if (!(sigma > 0)) sigma = 1e-9 * Math.max(1, Math.abs(med));
    const z = (v - med) / sigma;
    const thr = tailThreshold(s, TAIL) / this.opts.sensitivity;
    const score = Math.abs(z) / thr;
    out.score = t - s[T0]! >= this.opts.warmupMs ? score : 0;
    out.yhat = med;
    out.lower = med - thr * sigma;
    out.upper = med + thr * sigma;
    if (score < 1 || t - s[T0]! < this.opts.warmupMs) tailLearn(s, TAIL, Math.abs(z));
  }
}
