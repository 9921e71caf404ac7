import type { Labels } from '@promstream/storage';

/**
 * The samples of one series inside one open block range, in arrival order.
 * Typed arrays that double when full, so appends do not allocate per sample.
 */
export class SeriesBuffer {
  t: Float64Array;
  v: Float64Array;
  length = 0;
  /** Whether the samples arrived in time order so far (then no sort is needed). */
  private ordered = true;

  constructor(
    readonly labels: Labels,
    capacity = 16,
  ) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  /** Appends one sample. */
  push(t: number, v: number): void {
    if (this.length === this.t.length) this.grow();
    if (this.length > 0 && t <= this.t[this.length - 1]!) this.ordered = false;
    this.t[this.length] = t;
    this.v[this.length] = v;
    this.length++;
  }

  /**
   * The samples sorted by time with one sample per timestamp. Of duplicates
   * the first to arrive wins, as a retried batch must not change a value.
   */
  finish(): { t: Float64Array; v: Float64Array } {
    if (this.ordered) return { t: this.t.subarray(0, this.length), v: this.v.subarray(0, this.length) };
    const idx = new Uint32Array(this.length);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    // A stable sort by time keeps arrival order among equal times.
    const sorted = Array.from(idx).sort((a, b) => this.t[a]! - this.t[b]! || a - b);
    const t = new Float64Array(this.length);
    const v = new Float64Array(this.length);
    let n = 0;
    for (const i of sorted) {
      const ti = this.t[i]!;
      if (n > 0 && t[n - 1] === ti) continue;
      t[n] = ti;
      v[n] = this.v[i]!;
      n++;
    }
    return { t: t.subarray(0, n), v: v.subarray(0, n) };
  }

  private grow(): void {
    const t = new Float64Array(this.t.length * 2);
    const v = new Float64Array(this.v.length * 2);
    t.set(this.t);
    v.set(this.v);
    this.t = t;
    this.v = v;
  }
}
