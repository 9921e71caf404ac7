import {
  checkPlacementRules,
  DEFAULT_FUTURE_GRACE,
  defaultBackfillIdle,
  type PlacementRules,
} from '@promstream/storage';
import { StreamError } from '../errors.js';

/** The processor name dead letters and metrics carry. */
export const BLOCK_BUILDER = 'block-builder';

/** The default block duration, 2 hours, as Prometheus' head. */
export const DEFAULT_BLOCK_DURATION = 7_200_000;
/** The default out-of-order window. */
export const DEFAULT_OUT_OF_ORDER_WINDOW = 600_000;

/** The placement rules of a builder's options, checked; a bad value is a BAD_OPTIONS error. */
export function placementRules(options: {
  blockDuration?: number;
  outOfOrderWindow?: number;
  futureGrace?: number;
  backfillIdle?: number;
}): PlacementRules {
  const outOfOrderWindow = options.outOfOrderWindow ?? DEFAULT_OUT_OF_ORDER_WINDOW;
  try {
    return checkPlacementRules({
      blockDuration: options.blockDuration ?? DEFAULT_BLOCK_DURATION,
      outOfOrderWindow,
      futureGrace: options.futureGrace ?? DEFAULT_FUTURE_GRACE,
      backfillIdle: options.backfillIdle ?? defaultBackfillIdle(outOfOrderWindow),
    });
  } catch (err) {
    throw new StreamError('BAD_OPTIONS', (err as Error).message, { cause: err });
  }
}
