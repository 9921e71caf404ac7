/**
 * Which blocks a select reads, by resolution, as Thanos' querier and store
 * gateway choose them: the query's largest allowed resolution, narrowed by
 * the selector's function, then for each stretch of time the coarsest
 * blocks allowed that cover it, finer blocks filling the gaps.
 */
import { AggrType, Resolution } from '@promstream/storage';

/** The resolution levels, coarsest first (Thanos' store gateway order). */
export const RESOLUTION_LEVELS: readonly number[] = [
  Resolution.OneHour,
  Resolution.FiveMinutes,
  Resolution.Raw,
];

/** What a select reads of a downsampled chunk: one aggregate, or the average sum / count. */
export type Aggregate = AggrType | typeof AVERAGE;

/** The average of a window (sum / count): what a selector without a matching function reads. */
export const AVERAGE = -1;

/**
 * Functions that need two samples in their range: their range caps the
 * resolution at half of it (Thanos' `promqlFuncRequiresTwoSamples`).
 */
const TWO_SAMPLE_FUNCS = new Set([
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'predict_linear',
  'holt_winters',
  'double_exponential_smoothing',
]);

/** Functions that read the counter aggregate (Thanos' `aggrsFromFunc`). */
const COUNTER_FUNCS = new Set(['increase', 'rate', 'irate', 'resets', 'xincrease', 'xrate']);

/**
 * The aggregate a selector reads from downsampled chunks, from the name of
 * the function or aggregation around it (Thanos' `aggrsFromFunc`): `min*`,
 * `max*` and `count*` read min, max and count; `sum_*` reads sum; the counter
 * functions read the counter; the rest (`sum` itself included) the average.
 */
export function aggregateFor(func: string): Aggregate {
  if (func === 'min' || func.startsWith('min_')) return AggrType.Min;
  if (func === 'max' || func.startsWith('max_')) return AggrType.Max;
  if (func === 'count' || func.startsWith('count_')) return AggrType.Count;
  if (func.startsWith('sum_')) return AggrType.Sum;
  if (COUNTER_FUNCS.has(func)) return AggrType.Counter;
  return AVERAGE;
}

/**
 * The largest resolution a select may read: the query's, at most half the
 * range for functions that need two samples per range (Thanos'
 * `maxResolutionFromSelectHints`).
 */
export function maxResolutionFor(maxResolution: number, range: number, func: string): number {
  if (range > 0 && TWO_SAMPLE_FUNCS.has(func)) return Math.min(maxResolution, Math.floor(range / 2));
  return maxResolution;
}

/** What the selection needs of a block. */
export interface ResolutionBlock {
  readonly minTime: number;
  /** Exclusive end, milliseconds. */
  readonly maxTime: number;
  /** Downsample resolution, milliseconds (absent: raw). */
  readonly resolution?: number;
}

/**
 * The blocks whose resolution is at most `maxResolution` that a select of
 * [mint, maxt] reads (Thanos' `bucketBlockSet.getFor`): each stretch is read
 * from the coarsest level allowed that has blocks there, and the gaps
 * between that level's blocks from the next finer level, recursively. A
 * resolution that is not one of the levels is read as the next finer level.
 * Blocks are given and returned by minTime.
 */
export function blocksForResolution<B extends ResolutionBlock>(
  blocks: readonly B[],
  mint: number,
  maxt: number,
  maxResolution: number,
): B[] {
  const byLevel: B[][] = RESOLUTION_LEVELS.map(() => []);
  for (const b of blocks) {
    const r = b.resolution ?? 0;
    const level = RESOLUTION_LEVELS.findIndex((l) => l <= r);
    byLevel[level < 0 ? RESOLUTION_LEVELS.length - 1 : level]!.push(b);
  }
  let first = RESOLUTION_LEVELS.findIndex((l) => l <= maxResolution);
  if (first < 0) first = RESOLUTION_LEVELS.length - 1;
  const out: B[] = [];
  fill(byLevel, first, mint, maxt, out);
  return out.sort((a, b) => a.minTime - b.minTime);
}

function fill<B extends ResolutionBlock>(
  byLevel: readonly (readonly B[])[],
  level: number,
  mint: number,
  maxt: number,
  out: B[],
): void {
  if (mint > maxt) return;
  const finer = level + 1 < byLevel.length;
  let start = mint;
  for (const b of byLevel[level]!) {
    // Block ranges are half-open: [minTime, maxTime).
    if (b.maxTime <= mint) continue;
    if (b.minTime > maxt) break;
    if (finer) fill(byLevel, level + 1, start, b.minTime - 1, out);
    out.push(b);
    // A block inside the previous one must not reopen the stretch the previous one covers.
    start = Math.max(start, b.maxTime);
  }
  if (finer) fill(byLevel, level + 1, start, maxt, out);
}
