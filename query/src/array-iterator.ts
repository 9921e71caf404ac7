import { type FloatHistogram, type SampleIterator, ValueType } from '@promstream/storage';

/**
 * Iterates the first `n` samples held in arrays: times, float values and,
 * where a series holds histograms, one histogram per sample (undefined
 * where the sample is a float). Times are sorted; `seek` searches them.
 */
export class ArrayIterator implements SampleIterator {
  private i = -1;

  constructor(
    private readonly t: ArrayLike<number>,
    private readonly f: ArrayLike<number>,
    private readonly n = t.length,
    private readonly h?: ArrayLike<FloatHistogram | undefined>,
  ) {}

  private kind(): ValueType {
    if (this.i >= this.n) return ValueType.None;
    return this.h?.[this.i] !== undefined ? ValueType.FloatHistogram : ValueType.Float;
  }

  next(): ValueType {
    if (this.i < this.n) this.i++;
    return this.kind();
  }

  seek(t: number): ValueType {
    if (this.i < 0) this.i = 0;
    if (this.i < this.n && this.t[this.i]! < t) {
      // The first time >= t by binary search; seek never moves back.
      let lo = this.i;
      let hi = this.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.t[mid]! < t) lo = mid + 1;
        else hi = mid;
      }
      this.i = lo;
    }
    return this.kind();
  }

  atT(): number {
    return this.t[this.i]!;
  }

  at(): number {
    return this.f[this.i]!;
  }

  atHistogram(): FloatHistogram {
    const h = this.h?.[this.i];
    if (h === undefined) throw new Error('the current sample is a float, not a histogram');
    return h;
  }

  err(): Error | undefined {
    return undefined;
  }
}
