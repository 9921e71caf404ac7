/**
 * The two baselines the benchmark scores in the same run as the models, on
 * the same episodes rule: what a team without anomaly detection alerts on.
 * - A static threshold: the training window's range widened by 10% each
 *   side, fixed afterwards (an alert rule written from a dashboard).
 * - A 3-sigma rolling z-score: the mean and standard deviation of the last
 *   hour; a point more than 3 deviations away is anomalous.
 */
import type { ModelOptions, Scored } from '../model.js';

/** What the benchmark needs of a scorer. */
export interface Scorer {
  update(t: number, v: number, out: Scored): boolean;
}

/** The static-threshold baseline. */
export class StaticThreshold implements Scorer {
  private t0 = -1;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  /** Learns the range for `opts.warmupMs`, then alerts outside it. */
  constructor(private readonly opts: ModelOptions) {}

  update(t: number, v: number, out: Scored): boolean {
    if (!Number.isFinite(v)) return false;
    if (this.t0 < 0) this.t0 = t;
    const range = this.hi - this.lo;
    const lower = this.lo - 0.1 * range;
    const upper = this.hi + 0.1 * range;
    if (t - this.t0 < this.opts.warmupMs) {
      if (v < this.lo) this.lo = v;
      if (v > this.hi) this.hi = v;
      out.score = 0;
    } else {
      const mid = (lower + upper) / 2;
      out.score = Math.max((v - mid) / (upper - mid), (mid - v) / (mid - lower));
    }
    out.yhat = (this.lo + this.hi) / 2;
    out.lower = lower;
    out.upper = upper;
    return true;
  }
}

/** The 3-sigma rolling z-score baseline over the last `window` points. */
export class RollingZ implements Scorer {
  private readonly ring: Float64Array;
  private pos = 0;
  private filled = 0;
  private sum = 0;
  private sumSq = 0;
  private t0 = -1;

  /** A rolling z-score over `window` points, silent during `opts.warmupMs`. */
  constructor(
    private readonly opts: ModelOptions,
    private readonly window = 60,
  ) {
    this.ring = new Float64Array(window);
  }

  update(t: number, v: number, out: Scored): boolean {
    if (!Number.isFinite(v)) return false;
    if (this.t0 < 0) this.t0 = t;
    const n = this.filled;
    const mean = n > 0 ? this.sum / n : v;
    const sd = n > 1 ? Math.sqrt(Math.max(0, this.sumSq / n - mean * mean)) : 0;
    out.yhat = mean;
    out.lower = mean - 3 * sd;
    out.upper = mean + 3 * sd;
    out.score =
      n >= this.window && t - this.t0 >= this.opts.warmupMs && sd > 0 ? Math.abs(v - mean) / (3 * sd) : 0;
    if (n === this.window) {
      const old = this.ring[this.pos]!;
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.filled++;
    }
    this.ring[this.pos] = v;
    this.sum += v;
    this.sumSq += v * v;
    this.pos = (this.pos + 1) % this.window;
    return true;
  }
}
