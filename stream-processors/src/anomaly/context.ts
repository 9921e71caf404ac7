import type { ProfileSlot } from './profile.js';

/**
 * Scratch space the models of one detector share, so a watched series costs
 * only its state. A detector scores one point at a time, so one context per
 * detector is enough; it holds nothing between points.
 */
export interface ModelContext {
  /** Where the current point falls in the daily profile. */
  readonly day: ProfileSlot;
  /** Where the current point falls in the weekly profile. */
  readonly week: ProfileSlot;
  /** Room for medians (quickselect works in place). */
  readonly scratch: Float64Array;
}

/** The largest window a median is taken over. */
export const MAX_MEDIAN_WINDOW = 256;

/** A fresh context. */
export function newContext(): ModelContext {
  return {
    day: { i0: 0, i1: 0, w1: 0 },
    week: { i0: 0, i1: 0, w1: 0 },
    scratch: new Float64Array(MAX_MEDIAN_WINDOW),
  };
}

/**
 * The median of `n` values already copied into `a[0..n)`, by quickselect
 * (Hoare's FIND), in place: O(n) on average, no allocation. For an even `n`
 * it is the mean of the two middle values.
 */
export function medianInPlace(a: Float64Array, n: number): number {
  if (n === 0) return Number.NaN;
  const hi = select(a, n, n >> 1);
  if (n % 2 === 1) return hi;
  let lo = a[0]!;
  for (let i = 1; i < n >> 1; i++) if (a[i]! > lo) lo = a[i]!;
  return (lo + hi) / 2;
}

/** Puts the k-th smallest of a[0..n) at a[k], smaller ones before it, and returns it. */
function select(a: Float64Array, n: number, k: number): number {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    const pivot = a[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k]!;
}
