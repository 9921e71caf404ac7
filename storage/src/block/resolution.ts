/**
 * Downsample resolutions as Thanos names them: a block's
 * `thanos.downsample.resolution` in milliseconds.
 */
import type { BlockMeta } from './meta.js';

/** The resolutions Thanos' compactor writes (its ResLevel0, 1 and 2), in milliseconds. */
export const Resolution = {
  /** Raw samples, as scraped or written. */
  Raw: 0,
  /** 5-minute aggregates (AggrChunks). */
  FiveMinutes: 300_000,
  /** 1-hour aggregates (AggrChunks). */
  OneHour: 3_600_000,
} as const;
/**
 * A resolution in milliseconds. Usually one of `Resolution`, but a block
 * from another writer may carry any non-negative number.
 */
export type Resolution = number;

/** The resolutions in the order queries prefer them: finest first. */
export const RESOLUTIONS: readonly Resolution[] = [
  Resolution.Raw,
  Resolution.FiveMinutes,
  Resolution.OneHour,
];

/** A block's resolution: its Thanos section's, raw when the meta has none (a Prometheus block). */
export function resolutionOf(meta: BlockMeta): Resolution {
  return meta.thanos?.downsample.resolution ?? Resolution.Raw;
}

/** The name Thanos' flags and query API use: `raw`, `5m`, `1h`, else the milliseconds with `ms`. */
export function resolutionName(r: Resolution): string {
  switch (r) {
    case Resolution.Raw:
      return 'raw';
    case Resolution.FiveMinutes:
      return '5m';
    case Resolution.OneHour:
      return '1h';
    default:
      return `${r}ms`;
  }
}
